"""The activity writer of CSV imports and of the activity API (ingestion/api_batches.py)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from abm.lib.channels import OUTBOUND_KINDS, Direction
from accounts.records import apply_values
from ingestion.import_refs import (
    AccountRefs,
    ContactRefs,
    RowRejected,
    account_ids,
    account_of,
    in_chunks,
    resolve_accounts,
)
from ingestion.import_writer import INSERT_CHUNK, Plan, Writer, required_external_id
from ingestion.importing import CONTACT_REFS, Row
from playbooks.models import Activity, ActivitySource


class ActivityWriter(Writer):
    """Activities come by the hundred thousand, so this writer skips model instances where it
    can: stored rows are read as tuples, new rows are COPYed on PostgreSQL, and only changed
    rows become instances for bulk_update."""

    model = Activity
    what = "an activity"
    FIELDS = ("channel", "kind", "occurred_at", "cost", "duration_minutes", "notes")
    STORED = ("id", "account_id", "contact_id", *FIELDS, "direction")
    COLUMNS = (
        "account_id",
        "contact_id",
        "step_id",
        "channel",
        "kind",
        "direction",
        "occurred_at",
        "cost",
        "source",
        "external_id",
        "duration_minutes",
        "notes",
        "created_at",
    )

    def __init__(
        self, *, by, source: str = ActivitySource.IMPORT, labels: dict[str, str] | None = None
    ) -> None:
        super().__init__(by=by, labels=labels)
        self.source = ActivitySource(source)
        self.accounts = AccountRefs(self.label)
        self.contacts = ContactRefs(self.label)
        self.copied = 0
        self.analyzed = False
        # Accounts whose activities a plan created or changed (old and new account of a move).
        self.touched: set[int] = set()

    def after_batch(self) -> None:
        # A big first import into a young table leaves PostgreSQL without statistics, and its
        # planner then scans every imported row to look up each batch's keys. One ANALYZE once
        # the first batches are in keeps the lookups on the (source, external_id) index.
        if self.copied >= INSERT_CHUNK and not self.analyzed:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(Activity._meta.db_table)}")
            self.analyzed = True

    def resolve_accounts(self, batch: list[Row]) -> dict[int, int | None | RowRejected]:
        """Each row's account by line: its id, None when the row names none, or the rejection."""
        return resolve_accounts(self.accounts, batch)

    def prepare(self, batch: list[Row]) -> None:
        self.account_of = self.resolve_accounts(batch)
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        existing = Activity.objects.filter(source=self.source).values_list(
            "external_id", *self.STORED
        )
        self.by_external_id = {
            found[0]: dict(zip(self.STORED, found[1:], strict=True))
            for found in in_chunks(existing, "external_id", external_ids)
        }
        if any(name in row.values for row in batch for name in CONTACT_REFS):
            # A row naming no account finds its contact at the stored activity's account.
            of = account_ids(self.account_of)
            for row in batch:
                stored = self.by_external_id.get(row.values.get("external_id"))
                if row.line not in of and stored is not None:
                    of[row.line] = stored["account_id"]
            self.contacts.prefetch(batch, of)

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        external_id = required_external_id(values, self.what, self.label("external_id"))
        keys = self.check_duplicate(plan, [("external_id", external_id)])
        account_id = account_of(self.account_of, row)
        stored = self.by_external_id.get(external_id)
        updates = {name: values[name] for name in self.FIELDS if name in values}
        occurred_at = updates.get("occurred_at") or (stored["occurred_at"] if stored else None)
        if "cost" in values and occurred_at is not None:
            # Spend is what the touch cost on its day; the original is not kept for activities.
            updates.update(self.money(values, "cost", timezone.localdate(occurred_at), keep=False))
        if account_id:
            updates["account_id"] = account_id
        if any(name in values for name in CONTACT_REFS):
            updates["contact_id"] = self.contacts.resolve(
                values, account_id or (stored["account_id"] if stored else None)
            )
        kind = updates.get("kind") or (stored["kind"] if stored else None)
        if "direction" in values:
            updates["direction"] = values["direction"]
        elif kind:
            # Without a direction column it follows the kind: sends are ours, the rest theirs.
            outbound = kind in OUTBOUND_KINDS
            updates["direction"] = Direction.OUTBOUND if outbound else Direction.INBOUND
        if stored is None:
            if not account_id:
                raise RowRejected("an account (account_external_id, domain or name) is required")
            self.require(values, ("channel", "kind", "occurred_at"), to=self.what)
            new = {
                "contact_id": None,
                "step_id": None,
                "cost": Decimal(0),
                "source": self.source.value,
                "external_id": external_id,
                "duration_minutes": None,
                "notes": "",
                "created_at": self.now,
                **updates,
            }
            plan.seen.update(dict.fromkeys(keys, row.line))
            plan.creates.append(new)
            self.touched.add(new["account_id"])
            return
        changed = [name for name, value in updates.items() if stored[name] != value]
        if changed:
            activity = Activity(source=self.source, external_id=external_id, **stored)
            apply_values(activity, updates)
            plan.updates.append(activity)
            plan.update_fields.update(changed)
            self.touched.update((stored["account_id"], activity.account_id))
        else:
            plan.unchanged += 1
        plan.seen.update(dict.fromkeys(keys, row.line))

    def write(self, plan: Plan) -> None:
        if plan.creates and connection.vendor == "postgresql":
            self._copy(plan.creates)
            self.copied += len(plan.creates)
        elif plan.creates:
            Activity.objects.bulk_create(
                (Activity(**new) for new in plan.creates), batch_size=INSERT_CHUNK
            )
        if plan.updates:
            fields = sorted(plan.update_fields)
            Activity.objects.bulk_update(plan.updates, fields, batch_size=INSERT_CHUNK)

    def _copy(self, rows: list[dict]) -> None:
        buffer = io.StringIO()
        for new in rows:
            buffer.write("\t".join(_copy_text(new[column]) for column in self.COLUMNS))
            buffer.write("\n")
        buffer.seek(0)
        table = connection.ops.quote_name(Activity._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(column) for column in self.COLUMNS)
        # Raw psycopg2 errors become Django's, so a conflict takes the row-by-row path.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """A value in COPY's text format, where \\N is NULL and nothing else can be mistaken for it."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)
