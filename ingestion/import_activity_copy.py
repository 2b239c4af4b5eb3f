"""The activity CSV import on PostgreSQL: validate the whole file as columns, COPY, one upsert.

The batch writer (ingestion/import_activities.py) draws up a plan row by row, in batches of
5,000; here the same rules run over pandas columns, the accepted rows go into a temporary table
with binary COPY (abm/lib/table_copy.py) and one INSERT ... ON CONFLICT (source, external_id) DO
UPDATE writes those that are new or differ. The natural key and the outcome are the batch
writer's (ingestion/import_upsert.py): a blank cell keeps the stored value, a row counts as updated
only when a value differs, so a re-import writes nothing, and each refused row keeps its reason.
Only rows that need the batch writer's own resolvers (an unknown or ambiguous account, a contact,
a cost in another currency) are looked at one by one, in Python and without queries. SQLite, the mapping
page's check and the API keep the batch writer.

A row another import commits between our read and our write is updated by ON CONFLICT with this
file's values, blank cells taking the defaults; the whole file is one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pandas as pd
from django.db import connection, models, transaction
from django.utils import timezone

from abm.lib.channels import OUTBOUND_KINDS, Direction
from abm.lib.table_copy import copy_frame
from accounts.money import reporting_currency
from ingestion.import_activities import ActivityWriter
from ingestion.import_refs import RowRejected, in_chunks
from ingestion.import_writer import Counts
from ingestion.importing import ACCOUNT_REFS, CONTACT_REFS, Reject, Row
from playbooks.models import Activity, ActivitySource

STAGE = "import_activity_stage"
# Staged columns; NULL means the cell was blank: keep the stored value (or the default).
STAGED = (
    "external_id",
    "account_id",
    "contact_id",
    "has_contact",
    "channel",
    "kind",
    "direction",
    "occurred_at",
    "cost",
    "duration_minutes",
    "notes",
)
_REQUIRED = ("channel", "kind", "occurred_at")
_ACCOUNT_REQUIRED = "an account (account_external_id, domain or name) is required"


def copy_activities(
    rows: list[Row],
    *,
    by,
    labels: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Counts, list[Reject], set[int]]:
    """Counts, the refused rows and the ids of the accounts whose activities changed."""
    writer = ActivityWriter(by=by, labels=labels)
    frame, rejects = plan_activities(writer, rows)
    counts = Counts(rejected=len(rejects))
    touched: set[int] = set()
    if not frame.empty:
        with transaction.atomic():
            created, updated, touched = _upsert(frame, writer)
        counts.created, counts.updated = created, updated
        counts.unchanged = len(frame) - created - updated
    if progress is not None:
        progress(len(rows), len(rows))
    return counts, rejects, touched


def plan_activities(writer: ActivityWriter, rows: list[Row]) -> tuple[pd.DataFrame, list[Reject]]:
    """The accepted rows as the STAGED columns, and the refused rows with the batch writer's
    reasons (the first that applies, in its order)."""
    label = writer.label
    values = pd.DataFrame.from_records([row.values for row in rows], index=range(len(rows)))
    texts = ["external_id", *ACCOUNT_REFS, *CONTACT_REFS, "channel", "kind", "direction", "notes"]
    frame = values.reindex(columns=[*texts, "occurred_at", "cost", "duration_minutes"])
    frame[texts] = frame[texts].astype(object)  # a column the file lacks is all NaN floats
    lines = pd.Series([row.line for row in rows], dtype="int64")
    # Reasons by rank: the batch writer checks the key, then duplicates, account, cost, contact.
    no_key = frame["external_id"].isna()
    reasons = pd.Series(None, index=frame.index, dtype=object)
    account = _accounts(writer, rows, frame, reasons)
    stored = _stored(writer, frame, account, no_key)
    known = stored["account_id"].notna()
    day = frame["occurred_at"].where(frame["occurred_at"].notna(), stored["occurred_at"])
    cost = _costs(writer, rows, frame, day, reasons)
    contact, has_contact = _contacts(writer, rows, frame, account, stored, reasons)
    new = ~known & reasons.isna()
    reasons[new & account.isna()] = _ACCOUNT_REQUIRED
    missing = new & reasons.isna() & frame[list(_REQUIRED)].isna().any(axis=1)
    for i in missing[missing].index:
        try:
            writer.require(rows[i].values, _REQUIRED, to=writer.what)
        except RowRejected as exc:
            reasons[i] = str(exc)
    # The first row of a key that passes every check claims it; a later row is its duplicate.
    valid = reasons.isna() & ~no_key
    first = lines[valid].groupby(frame["external_id"][valid]).min()
    claimed = frame["external_id"].map(first)
    duplicate = ~no_key & claimed.notna() & (claimed < lines)
    key_label = label("external_id")
    reasons[duplicate] = [
        f"duplicate of line {int(line)} (same {key_label} '{key}')"
        for line, key in zip(claimed[duplicate], frame["external_id"][duplicate], strict=True)
    ]
    reasons[no_key] = f"{key_label} is required: it is how a re-import finds {writer.what}"
    kind = frame["kind"].where(frame["kind"].notna(), stored["kind"])
    outbound = kind.isin(list(OUTBOUND_KINDS))
    direction = frame["direction"].where(
        frame["direction"].notna(),
        outbound.map({True: Direction.OUTBOUND.value, False: Direction.INBOUND.value}),
    )
    accepted = reasons.isna()
    staged = pd.DataFrame(
        {
            "external_id": frame["external_id"],
            "account_id": account,
            "contact_id": contact,
            "has_contact": has_contact,
            "channel": frame["channel"],
            "kind": frame["kind"],
            "direction": direction.astype(object),
            "occurred_at": frame["occurred_at"],
            "cost": cost,
            "duration_minutes": frame["duration_minutes"],
            "notes": frame["notes"],
        }
    ).loc[accepted]
    rejects = [
        Reject(rows[i].line, reason, rows[i].cells) for i, reason in reasons[~accepted].items()
    ]
    return staged.reset_index(drop=True), rejects


def _accounts(writer, rows, frame, reasons) -> pd.Series:
    """Each row's account id (None when it names none); a refused reference sets its reason.

    Rows whose every reference is known and points at one account are resolved as columns; the
    rest ask the batch writer's resolver, which has the wording of every case."""
    refs = writer.accounts
    refs.prefetch(rows)
    by_name = {name: ids[0] for name, ids in refs.by_name.items() if len(ids) == 1}
    found = pd.DataFrame(
        {
            "account_external_id": frame["account_external_id"].map(refs.by_external_id),
            "account_domain": frame["account_domain"].map(refs.by_domain),
            "account_name": frame["account_name"].str.lower().map(by_name),
        }
    )
    given = frame[list(ACCOUNT_REFS)].notna()
    one = found.max(axis=1) == found.min(axis=1)  # NaN compares unequal: none found
    simple = (found.notna() == given).all(axis=1) & one
    account = found.bfill(axis=1).iloc[:, 0].where(simple).astype("Int64")
    for i in (given.any(axis=1) & ~simple).to_numpy().nonzero()[0]:
        try:
            account[i] = refs.resolve(rows[i].values)
        except RowRejected as exc:
            reasons[i] = str(exc)
    return account


def _stored(writer, frame, account, no_key) -> pd.DataFrame:
    """What is stored for the rows that need it: those without an account, a required value or
    with a contact of an account they do not name. Other rows are written whatever is stored."""
    needs = ~no_key & (account.isna() | frame[list(_REQUIRED)].isna().any(axis=1))
    keys = set(frame["external_id"][needs])
    found = in_chunks(
        Activity.objects.filter(source=writer.source).values_list(
            "external_id", "account_id", "kind", "occurred_at"
        ),
        "external_id",
        keys,
    )
    table = pd.DataFrame(found, columns=["external_id", "account_id", "kind", "occurred_at"])
    table = table.set_index("external_id").astype(object)
    return table.reindex(frame["external_id"].where(needs)).reset_index(drop=True)


def _costs(writer, rows, frame, day, reasons) -> pd.Series:
    """The cost in the reporting currency at its day's rate, as the batch writer converts it.
    Amounts already in that currency and small enough are taken as they are; the batch writer's
    own conversion words the refusals and converts other currencies, row by row."""
    given = frame["cost"].notna() & day.notna() & reasons.isna()
    money = frame["cost"][given]
    cost = pd.Series(None, index=frame.index, dtype=object)
    reporting = {"", reporting_currency()}
    column = Activity._meta.get_field("cost")
    limit = Decimal(10) ** (column.max_digits - column.decimal_places)
    plain = pd.Series(
        [m.currency in reporting and m.amount < limit for m in money], index=money.index, dtype=bool
    )
    cost[plain[plain].index] = [m.amount for m in money[plain]]
    for i in plain[~plain].index:
        try:
            converted = writer.money(rows[i].values, "cost", timezone.localdate(day[i]), keep=False)
            cost[i] = converted["cost"]
        except RowRejected as exc:
            reasons[i] = str(exc)
    return cost


def _contacts(writer, rows, frame, account, stored, reasons) -> tuple[pd.Series, pd.Series]:
    contact = pd.Series(None, index=frame.index, dtype=object)
    has_contact = frame[list(CONTACT_REFS)].notna().any(axis=1)
    named = (has_contact & reasons.isna()).to_numpy().nonzero()[0]
    if not len(named):
        return contact, has_contact
    of = account.astype(object).where(account.notna(), stored["account_id"])
    account_of = {rows[i].line: int(of[i]) for i in named if pd.notna(of[i])}
    writer.contacts.prefetch([rows[i] for i in named], account_of)
    for i in named:
        try:
            contact[i] = writer.contacts.resolve(rows[i].values, account_of.get(rows[i].line))
        except RowRejected as exc:
            reasons[i] = str(exc)
    return contact, has_contact


# --- Writing ----------------------------------------------------------------------------------

_FIELD = {"account_id": "account", "contact_id": "contact"}
# The staged value, else the stored one (LEFT JOIN: NULL for a new row), else the default.
_MERGED = {
    "account_id": "COALESCE(s.account_id, a.account_id)",
    "contact_id": "CASE WHEN s.has_contact THEN s.contact_id ELSE a.contact_id END",
    "channel": "COALESCE(s.channel, a.channel)",
    "kind": "COALESCE(s.kind, a.kind)",
    "direction": "s.direction",
    "occurred_at": "COALESCE(s.occurred_at, a.occurred_at)",
    "cost": "COALESCE(s.cost, a.cost, 0)",
    "duration_minutes": "COALESCE(s.duration_minutes, a.duration_minutes)",
    "notes": "COALESCE(s.notes, a.notes, '')",
}


def _upsert(frame: pd.DataFrame, writer: ActivityWriter) -> tuple[int, int, set[int]]:
    """(created, updated, touched account ids): one statement from the staged rows."""
    table = connection.ops.quote_name(Activity._meta.db_table)
    fields = {
        name: models.BooleanField()
        if name == "has_contact"
        else Activity._meta.get_field(_FIELD.get(name, name))
        for name in STAGED
    }
    # The columns' own types: binary COPY sends each value at its column's width.
    columns = ", ".join(
        f"{name} {re.sub(' CHECK.*', '', fields[name].db_type(connection))}" for name in STAGED
    )
    merged = ", ".join(f"{sql} AS {name}" for name, sql in _MERGED.items())
    differs = " OR ".join(f"({sql}) IS DISTINCT FROM a.{name}" for name, sql in _MERGED.items())
    names = ", ".join(_MERGED)
    excluded = ", ".join(f"EXCLUDED.{name}" for name in _MERGED)
    current = ", ".join(f"{table}.{name}" for name in _MERGED)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMP TABLE {STAGE} ({columns}) ON COMMIT DROP")
        copy_frame(STAGE, frame, fields)
        # A vanished account fails here, not at the commit, so the caller can redo the file.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Compiling the plan (the CTE's row guesses are wild) costs more than it saves.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            f"""
            WITH merged AS (
                SELECT s.external_id, a.account_id AS stored_account_id, {merged}
                FROM {STAGE} s
                LEFT JOIN {table} a ON a.source = %(source)s AND a.external_id = s.external_id
                -- Unchanged rows stay out: ON CONFLICT would lock (and so write) each of them.
                WHERE a.id IS NULL OR {differs}
            ), written AS (
                INSERT INTO {table} (source, external_id, created_at, step_id, {names})
                SELECT %(source)s, external_id, %(now)s, NULL, {names} FROM merged
                ON CONFLICT (source, external_id) DO UPDATE SET ({names}) = ({excluded})
                WHERE ({current}) IS DISTINCT FROM ({excluded})
                RETURNING external_id, account_id, xmax = 0 AS created
            )
            SELECT
                (SELECT count(*) FROM written WHERE created),
                (SELECT count(*) FROM written WHERE NOT created),
                ARRAY(
                    SELECT account_id FROM written
                    UNION SELECT m.stored_account_id FROM written w JOIN merged m
                    ON m.external_id = w.external_id WHERE NOT w.created
                )
            """,
            {"source": ActivitySource(writer.source).value, "now": writer.now},
        )
        created, updated, accounts = cursor.fetchone()
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys are deferred
        cursor.execute(f"DROP TABLE {STAGE}")
    return created, updated, {pk for pk in accounts if pk is not None}
