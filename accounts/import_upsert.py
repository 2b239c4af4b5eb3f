"""CSV imports, the database part: find each row's record by its natural key and write in bulk.

Per batch: fetch the existing records by key (a few chunked queries), decide per row whether it
creates, updates (only when a value differs) or leaves a record unchanged, then one bulk_create
and one bulk_update, in one transaction. Counting this way is exact, and a re-import of the same
file writes nothing. Natural keys (README "Import rules"):

- accounts: external_id, else domain;     - contacts: external_id, else (account, email);
- opportunities, leads: external_id;      - activities: (source, external_id), the source
  'import' for files and 'api' for the ingestion API (playbooks/ingestion.py).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Model, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from abm.lib.channels import OUTBOUND_KINDS, Direction
from abm.models import Role, User
from accounts.importing import ACCOUNT_REFS, CONTACT_REFS, Reject, Row, seniority_from_title
from accounts.models import (
    CLOSED_STAGES,
    Account,
    BuyingRole,
    Contact,
    ImportKind,
    Lead,
    Opportunity,
    OpportunityStageChange,
    OwnershipChange,
)
from playbooks.models import Activity, ActivitySource

BATCH_SIZE = 5_000
_IN_CHUNK = 5_000
_INSERT_CHUNK = 1_000


class RowRejected(Exception):
    pass


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass
class Plan:
    """What one batch will write; nothing is written while it is drawn up."""

    creates: list = field(default_factory=list)  # instances (activities: column dicts)
    updates: list[Model] = field(default_factory=list)
    update_fields: set[str] = field(default_factory=set)
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)
    seen: dict[tuple, int] = field(default_factory=dict)
    # History rows (ownership, stage changes), built after the bulk writes gave new rows an id.
    history: list[Callable[[], Model]] = field(default_factory=list)

    def counts(self) -> Counts:
        return Counts(len(self.creates), len(self.updates), self.unchanged, len(self.rejects))


def upsert_rows(
    *,
    kind: str,
    rows: list[Row],
    by,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Counts, list[Reject]]:
    """Write every row, batch by batch, each batch in its own transaction."""
    writer = WRITERS[kind](by=by)
    batch_size = batch_size or BATCH_SIZE
    counts, rejects = Counts(), []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        for plan in write_batch(writer, batch):
            counts.add(plan.counts())
            rejects.extend(plan.rejects)
        writer.after_batch()
        if progress is not None:
            progress(start + len(batch), len(rows))
    return counts, rejects


def write_batch(writer: Writer, batch: list[Row]) -> list[Plan]:
    """One batch in one transaction; the plans say what happened to each row."""
    try:
        with transaction.atomic():
            plan = writer.plan(batch)
            writer.write(plan)
    except (IntegrityError, DataError):
        # Another import wrote the same keys meanwhile, or the database refused a value that
        # validation did not foresee: go row by row so only the failing rows are rejected.
        plans = []
        for row in batch:
            try:
                with transaction.atomic():
                    plan = writer.plan([row])
                    writer.write(plan)
            except (IntegrityError, DataError) as exc:
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                plan = Plan(
                    rejects=[Reject(row.line, f"could not be saved: {first_line}", row.cells)]
                )
            writer.seen.update(plan.seen)
            plans.append(plan)
        return plans
    writer.seen.update(plan.seen)
    return [plan]


def _in_chunks(queryset: QuerySet, lookup: str, values: Iterable) -> list:
    """Rows whose `lookup` is one of `values`, in as few queries as the database allows."""
    values = list(values)
    # SQLite counts bound parameters (Django assumes 999); PostgreSQL takes a batch at once.
    limit = connection.features.max_query_params
    chunk = _IN_CHUNK if limit is None else min(_IN_CHUNK, limit - 10)
    found = []
    for start in range(0, len(values), chunk):
        found.extend(queryset.filter(**{f"{lookup}__in": values[start : start + chunk]}))
    return found


def _shown(value) -> str:
    return f"'{value}'"


def _apply(obj: Model, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; the names of the fields that changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


class Owners:
    """Owners by username, email or full name, case-insensitively; only sales reps own accounts."""

    def __init__(self) -> None:
        self._by_key: dict[str, list[dict]] | None = None

    def _load(self) -> dict[str, list[dict]]:
        by_key: dict[str, list[dict]] = {}
        users = User.objects.values("id", "username", "email", "first_name", "last_name", "role")
        for user in users.filter(is_active=True):
            keys = {user["username"].lower(), (user["email"] or "").lower()}
            full_name = f"{user['first_name']} {user['last_name']}".strip().lower()
            keys.add(full_name)
            for key in keys - {""}:
                by_key.setdefault(key, []).append(user)
        return by_key

    def resolve(self, raw: str) -> int:
        if self._by_key is None:
            self._by_key = self._load()
        matches = self._by_key.get(raw.strip().lower(), [])
        exact = [user for user in matches if user["username"].lower() == raw.strip().lower()]
        matches = exact or matches
        if not matches:
            raise RowRejected(f"unknown owner {_shown(raw)}")
        if len(matches) > 1:
            raise RowRejected(f"owner {_shown(raw)} matches {len(matches)} users; use a username")
        user = matches[0]
        if user["role"] != Role.SALES:
            role = Role(user["role"]).label.lower()
            article = "an" if role[0] in "aeiou" else "a"
            raise RowRejected(f"owner {_shown(raw)} is {article} {role}, not a sales rep")
        return user["id"]


class AccountRefs:
    """The account a contact, opportunity, lead or activity row belongs to, cached per import."""

    def __init__(self) -> None:
        self.by_external_id: dict[str, int | None] = {}
        self.by_domain: dict[str, int | None] = {}
        self.by_name: dict[str, list[int]] = {}

    def prefetch(self, rows: list[Row]) -> None:
        wanted = {name: set() for name in ACCOUNT_REFS}
        for row in rows:
            for name in ACCOUNT_REFS:
                if name in row.values:
                    wanted[name].add(row.values[name])
        external_ids = wanted["account_external_id"] - self.by_external_id.keys()
        for pk, key in _in_chunks(
            Account.objects.values_list("pk", "external_id"), "external_id", external_ids
        ):
            self.by_external_id[key] = pk
        self.by_external_id.update(dict.fromkeys(external_ids - self.by_external_id.keys()))
        domains = wanted["account_domain"] - self.by_domain.keys()
        for pk, key in _in_chunks(Account.objects.values_list("pk", "domain"), "domain", domains):
            self.by_domain[key] = pk
        self.by_domain.update(dict.fromkeys(domains - self.by_domain.keys()))
        names = {name.lower() for name in wanted["account_name"]} - self.by_name.keys()
        for pk, key in _in_chunks(
            Account.objects.annotate(lowered=Lower("name")).values_list("pk", "lowered"),
            "lowered",
            names,
        ):
            self.by_name.setdefault(key, []).append(pk)
        for name in names - self.by_name.keys():
            self.by_name[name] = []

    def resolve(self, values: dict) -> int | None:
        """None when the row names no account; RowRejected when it names an unknown one."""
        given = [(name, values[name]) for name in ACCOUNT_REFS if name in values]
        if not given:
            return None
        found: dict[str, int] = {}
        for name, value in given:
            if name == "account_external_id" and self.by_external_id.get(value):
                found[name] = self.by_external_id[value]
            elif name == "account_domain" and self.by_domain.get(value):
                found[name] = self.by_domain[value]
            elif name == "account_name" and not found:
                matches = self.by_name.get(value.lower(), [])
                if len(matches) > 1:
                    raise RowRejected(
                        f"account_name {_shown(value)} matches {len(matches)} accounts; "
                        "add an account domain or account id column"
                    )
                if matches:
                    found[name] = matches[0]
        if len(set(found.values())) > 1:
            names = " and ".join(f"{name} {_shown(values[name])}" for name in found)
            raise RowRejected(f"{names} point to different accounts")
        if not found:
            names = ", ".join(f"{name} {_shown(value)}" for name, value in given)
            raise RowRejected(f"unknown account ({names})")
        return next(iter(found.values()))


class ContactRefs:
    """The optional contact of a lead or activity row: by external id, or email at its account."""

    def __init__(self) -> None:
        self.by_external_id: dict[str, tuple[int, int] | None] = {}
        self.by_email: dict[tuple[int, str], int | None] = {}

    def prefetch(self, rows: list[Row], account_ids: dict[int, int | None]) -> None:
        external_ids = {
            row.values["contact_external_id"] for row in rows if "contact_external_id" in row.values
        } - self.by_external_id.keys()
        for pk, account_id, key in _in_chunks(
            Contact.objects.values_list("pk", "account_id", "external_id"),
            "external_id",
            external_ids,
        ):
            self.by_external_id[key] = (pk, account_id)
        self.by_external_id.update(dict.fromkeys(external_ids - self.by_external_id.keys()))
        pairs = {
            (account_ids[row.line], row.values["contact_email"])
            for row in rows
            if "contact_email" in row.values and account_ids.get(row.line)
        } - self.by_email.keys()
        if pairs:
            emails = {email for _, email in pairs}
            for pk, account_id, email in _in_chunks(
                Contact.objects.filter(account_id__in={a for a, _ in pairs}).values_list(
                    "pk", "account_id", "email"
                ),
                "email",
                emails,
            ):
                self.by_email[(account_id, email)] = pk
            self.by_email.update(dict.fromkeys(pairs - self.by_email.keys()))

    def resolve(self, values: dict, account_id: int | None) -> int | None:
        contact_id = None
        if "contact_external_id" in values:
            found = self.by_external_id.get(values["contact_external_id"])
            if found is None:
                raise RowRejected(
                    f"unknown contact (contact_external_id {_shown(values['contact_external_id'])})"
                )
            contact_id, contact_account = found
            if account_id is not None and contact_account != account_id:
                raise RowRejected(
                    f"contact {_shown(values['contact_external_id'])} belongs to another account"
                )
        if "contact_email" in values:
            email = values["contact_email"]
            by_email = self.by_email.get((account_id, email)) if account_id else None
            if by_email is None:
                raise RowRejected(f"unknown contact {_shown(email)} at this account")
            if contact_id is not None and by_email != contact_id:
                raise RowRejected(
                    f"contact_external_id and contact_email {_shown(email)} are different contacts"
                )
            contact_id = by_email
        return contact_id


class Writer:
    """Draws up a Plan for a batch of rows and writes it; keeps what the import has seen."""

    model: type[Model]
    what: str
    row_noun = "line"  # what a row's number counts, in messages

    def __init__(self, *, by) -> None:
        self.by = by
        self.now = timezone.now()
        # Natural key -> line of the row that claimed it; a later row with the same key is a
        # duplicate and rejected, so the first occurrence in the file wins.
        self.seen: dict[tuple, int] = {}

    def plan(self, batch: list[Row]) -> Plan:
        plan = Plan()
        self.prepare(batch)
        for row in batch:
            try:
                self.plan_row(row, plan)
            except RowRejected as exc:
                plan.rejects.append(Reject(row.line, str(exc), row.cells))
        return plan

    def prepare(self, batch: list[Row]) -> None:
        raise NotImplementedError

    def after_batch(self) -> None:
        """Called between batches, outside their transactions."""

    def plan_row(self, row: Row, plan: Plan) -> None:
        raise NotImplementedError

    def check_duplicate(self, plan: Plan, keys: list[tuple]) -> list[tuple]:
        """Reject the row when an earlier imported row of the file had one of its natural keys."""
        keys = [key for key in keys if key[-1]]
        for key in keys:
            line = plan.seen.get(key)
            if line is None:  # not `or`: API items count from 0
                line = self.seen.get(key)
            if line is not None:
                same = "the same record" if key[0] == "pk" else f"same {key[0]} '{key[-1]}'"
                raise RowRejected(f"duplicate of {self.row_noun} {line} ({same})")
        return keys

    def require(self, values: dict, names: Iterable[str], *, to: str) -> None:
        missing = [name for name in names if values.get(name) in (None, "")]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise RowRejected(f"{' and '.join(missing)} {verb} required to create {to}")

    def stage(self, plan: Plan, row: Row, keys: list[tuple], obj: Model, changed: list[str]):
        """Count the row as created, updated or unchanged, and claim its keys for the file."""
        for key in keys:
            plan.seen[key] = row.line
        if obj.pk is None:
            plan.creates.append(obj)
        elif changed:
            plan.updates.append(obj)
            plan.update_fields.update(changed)
        else:
            plan.unchanged += 1

    def write(self, plan: Plan) -> None:
        if plan.creates:
            self.model.objects.bulk_create(plan.creates, batch_size=_INSERT_CHUNK)
        if plan.updates:
            fields = sorted(plan.update_fields)
            self.model.objects.bulk_update(plan.updates, fields, batch_size=_INSERT_CHUNK)
        history: dict[type[Model], list[Model]] = {}
        for build in plan.history:
            record = build()
            history.setdefault(type(record), []).append(record)
        for model, records in history.items():
            # Stage changes are unique per (opportunity, stage, moment): a re-run adds none.
            model.objects.bulk_create(records, batch_size=_INSERT_CHUNK, ignore_conflicts=True)


class AccountWriter(Writer):
    model = Account
    what = "an account"
    FIELDS = ("name", "domain", "industry", "employees", "annual_revenue", "country", "tier")

    def __init__(self, *, by) -> None:
        super().__init__(by=by)
        self.owners = Owners()

    def prepare(self, batch: list[Row]) -> None:
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        domains = {row.values["domain"] for row in batch if "domain" in row.values}
        found = {a.pk: a for a in _in_chunks(Account.objects.all(), "external_id", external_ids)}
        for account in _in_chunks(Account.objects.all(), "domain", domains):
            found.setdefault(account.pk, account)
        self.by_external_id = {a.external_id: a for a in found.values() if a.external_id}
        self.by_domain = {a.domain: a for a in found.values()}

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        external_id, domain = values.get("external_id"), values.get("domain")
        by_id = self.by_external_id.get(external_id) if external_id else None
        by_domain = self.by_domain.get(domain) if domain else None
        if by_id and by_domain and by_id.pk != by_domain.pk:
            raise RowRejected(
                f"domain {_shown(domain)} belongs to another account ({by_domain.name})"
            )
        if by_domain and not by_id and external_id and by_domain.external_id:
            raise RowRejected(
                f"the account with domain {_shown(domain)} has external_id "
                f"{_shown(by_domain.external_id)}, not {_shown(external_id)}"
            )
        account = by_id or by_domain
        keys = [("external_id", external_id), ("domain", domain)]
        if account is not None:
            keys += [("pk", account.pk), ("domain", account.domain)]
        keys = self.check_duplicate(plan, keys)
        updates = {name: values[name] for name in self.FIELDS if name in values}
        if external_id:
            updates["external_id"] = external_id
        if "owner" in values:
            updates["owner_id"] = self.owners.resolve(values["owner"])
        if account is None:
            self.require(values, ("name", "domain"), to=self.what)
            account = Account(**updates)
            self.stage(plan, row, keys, account, [])
            if account.owner_id:
                plan.history.append(lambda a=account: self._owned(a, None))
            return
        previous_owner = account.owner_id
        changed = _apply(account, updates)
        if changed:
            account.updated_at = self.now
            changed.append("updated_at")
        if "owner_id" in changed:
            plan.history.append(lambda a=account, p=previous_owner: self._owned(a, p))
        self.stage(plan, row, keys, account, changed)

    def _owned(self, account: Account, previous_owner: int | None) -> OwnershipChange:
        return OwnershipChange(
            account=account,
            previous_owner_id=previous_owner,
            new_owner_id=account.owner_id,
            changed_by=self.by,
            changed_at=self.now,
        )


class ContactWriter(Writer):
    model = Contact
    what = "a contact"
    FIELDS = ("first_name", "last_name", "email", "title", "seniority", "buying_role")

    def __init__(self, *, by) -> None:
        super().__init__(by=by)
        self.accounts = AccountRefs()

    def prepare(self, batch: list[Row]) -> None:
        self.account_of = _resolve_accounts(self.accounts, batch)
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        found = {c.pk: c for c in _in_chunks(Contact.objects.all(), "external_id", external_ids)}
        account_ids = {pk for pk in self.account_of.values() if isinstance(pk, int)}
        emails = {row.values["email"] for row in batch if "email" in row.values}
        if account_ids and emails:
            same_accounts = Contact.objects.filter(account_id__in=account_ids)
            for contact in _in_chunks(same_accounts, "email", emails):
                found.setdefault(contact.pk, contact)
        self.by_external_id = {c.external_id: c for c in found.values() if c.external_id}
        self.by_email = {(c.account_id, c.email): c for c in found.values()}

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        account_id = _account_of(self.account_of, row)
        external_id, email = values.get("external_id"), values.get("email")
        by_id = self.by_external_id.get(external_id) if external_id else None
        by_email = self.by_email.get((account_id, email)) if account_id and email else None
        if by_id and by_email and by_id.pk != by_email.pk:
            raise RowRejected(
                f"email {_shown(email)} at this account belongs to another contact"
                + (f" (external_id {_shown(by_email.external_id)})" if by_email.external_id else "")
            )
        if by_email and not by_id and external_id and by_email.external_id:
            raise RowRejected(
                f"the contact {_shown(email)} has external_id {_shown(by_email.external_id)}, "
                f"not {_shown(external_id)}"
            )
        contact = by_id or by_email
        keys = [("external_id", external_id)]
        if contact is not None:
            keys.append(("pk", contact.pk))
        if email and (account_id or contact):
            keys.append(("email", account_id or contact.account_id, email))
        keys = self.check_duplicate(plan, keys)
        updates = {name: values[name] for name in self.FIELDS if name in values}
        if external_id:
            updates["external_id"] = external_id
        if account_id:
            updates["account_id"] = account_id
        if contact is None:
            if not account_id:
                raise RowRejected("an account (account_external_id, domain or name) is required")
            self.require(values, ("email", "first_name"), to=self.what)
            updates.setdefault("seniority", seniority_from_title(values.get("title", "")))
            updates.setdefault("buying_role", BuyingRole.UNKNOWN)
            self.stage(plan, row, keys, Contact(**updates), [])
            return
        self.stage(plan, row, keys, contact, _apply(contact, updates))


class OpportunityWriter(Writer):
    model = Opportunity
    what = "an opportunity"
    FIELDS = ("name", "amount", "stage", "created_at", "close_date", "source")

    def __init__(self, *, by) -> None:
        super().__init__(by=by)
        self.accounts = AccountRefs()

    def prepare(self, batch: list[Row]) -> None:
        self.accounts.prefetch(batch)
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        self.by_external_id = {
            o.external_id: o
            for o in _in_chunks(Opportunity.objects.all(), "external_id", external_ids)
        }

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        external_id = _external_id(values, self.what)
        keys = self.check_duplicate(plan, [("external_id", external_id)])
        account_id = self.accounts.resolve(values)
        opportunity = self.by_external_id.get(external_id)
        updates = {name: values[name] for name in self.FIELDS if name in values}
        if account_id:
            updates["account_id"] = account_id
        if opportunity is None:
            if not account_id:
                raise RowRejected("an account (account_external_id, domain or name) is required")
            self.require(values, ("name", "amount", "created_at"), to=self.what)
            opportunity = Opportunity(external_id=external_id, **updates)
            previous_stage = ""
        else:
            previous_stage = opportunity.stage
        stage = updates.get("stage", opportunity.stage)
        created_at = updates.get("created_at", opportunity.created_at)
        updates["closed_at"] = self._closed_at(values, opportunity, stage, created_at)
        if opportunity.pk is None:
            opportunity.closed_at = updates["closed_at"]
            changed = []
        else:
            changed = _apply(opportunity, updates)
            if changed:
                opportunity.updated_at = self.now
                changed.append("updated_at")
        self.stage(plan, row, keys, opportunity, changed)
        if stage != previous_stage:
            # A new deal's history starts when it was created (or closed); a change seen by a
            # re-import happened when it closed, else now.
            at = opportunity.closed_at or (created_at if not previous_stage else self.now)
            plan.history.append(
                lambda o=opportunity, f=previous_stage, t=stage, at=at: OpportunityStageChange(
                    opportunity=o, from_stage=f, to_stage=t, changed_at=at
                )
            )

    def _closed_at(self, values: dict, opportunity: Opportunity, stage: str, created_at):
        """When a closed opportunity closed: closed_at, else its close date, else as stored."""
        if stage not in CLOSED_STAGES:
            if "closed_at" in values:
                raise RowRejected(
                    f"closed_at is given but stage {_shown(stage)} is still open "
                    f"(closed stages: {', '.join(CLOSED_STAGES)})"
                )
            return None
        if "closed_at" in values:
            closed_at = values["closed_at"]
        elif "close_date" in values or (opportunity.close_date and not opportunity.closed_at):
            close_date = values.get("close_date", opportunity.close_date)
            zone = timezone.get_current_timezone()
            midnight = dt.datetime.combine(close_date, dt.time(), tzinfo=zone)
            if close_date < timezone.localtime(created_at, zone).date():
                raise RowRejected(
                    f"close_date {close_date.isoformat()} is before created_at "
                    f"{created_at.date().isoformat()}"
                )
            # A deal created at 14:00 and closed the same day closed no earlier than 14:00.
            closed_at = max(midnight, created_at)
        elif opportunity.closed_at:
            closed_at = opportunity.closed_at
        else:
            raise RowRejected(
                f"stage {_shown(stage)} is closed but there is no close_date or closed_at"
            )
        if closed_at < created_at:
            raise RowRejected(
                f"closed_at {closed_at.isoformat()} is before created_at {created_at.isoformat()}"
            )
        return closed_at


class LeadWriter(Writer):
    model = Lead
    what = "a lead"
    FIELDS = ("source_channel", "handed_off_at", "first_follow_up_at", "status")

    def __init__(self, *, by) -> None:
        super().__init__(by=by)
        self.accounts = AccountRefs()
        self.contacts = ContactRefs()

    def prepare(self, batch: list[Row]) -> None:
        self.account_of = _resolve_accounts(self.accounts, batch)
        self.contacts.prefetch(batch, _account_ids(self.account_of))
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        self.by_external_id = {
            lead.external_id: lead
            for lead in _in_chunks(Lead.objects.all(), "external_id", external_ids)
        }

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        external_id = _external_id(values, self.what)
        keys = self.check_duplicate(plan, [("external_id", external_id)])
        account_id = _account_of(self.account_of, row)
        lead = self.by_external_id.get(external_id)
        updates = {name: values[name] for name in self.FIELDS if name in values}
        if account_id:
            updates["account_id"] = account_id
        if any(name in values for name in CONTACT_REFS):
            updates["contact_id"] = self.contacts.resolve(
                values, account_id or (lead.account_id if lead else None)
            )
        if lead is None:
            if not account_id:
                raise RowRejected("an account (account_external_id, domain or name) is required")
            self.require(values, ("source_channel", "handed_off_at"), to=self.what)
            lead = Lead(external_id=external_id, **updates)
            changed = []
        else:
            changed = _apply(lead, updates)
        if lead.first_follow_up_at and lead.first_follow_up_at < lead.handed_off_at:
            raise RowRejected(
                f"first_follow_up_at {lead.first_follow_up_at.isoformat()} is before "
                f"handed_off_at {lead.handed_off_at.isoformat()}"
            )
        self.stage(plan, row, keys, lead, changed)


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

    def __init__(self, *, by, source: str = ActivitySource.IMPORT) -> None:
        super().__init__(by=by)
        self.source = ActivitySource(source)
        self.accounts = AccountRefs()
        self.contacts = ContactRefs()
        self.copied = 0
        self.analyzed = False

    def after_batch(self) -> None:
        # A big first import into a young table leaves PostgreSQL without statistics, and its
        # planner then scans every imported row to look up each batch's keys. One ANALYZE once
        # the first batches are in keeps the lookups on the (source, external_id) index.
        if self.copied >= _INSERT_CHUNK and not self.analyzed:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(Activity._meta.db_table)}")
            self.analyzed = True

    def resolve_accounts(self, batch: list[Row]) -> dict[int, int | None | RowRejected]:
        """Each row's account by line: its id, None when the row names none, or the rejection."""
        return _resolve_accounts(self.accounts, batch)

    def prepare(self, batch: list[Row]) -> None:
        self.account_of = self.resolve_accounts(batch)
        if any(name in row.values for row in batch for name in CONTACT_REFS):
            self.contacts.prefetch(batch, _account_ids(self.account_of))
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        existing = Activity.objects.filter(source=self.source).values_list(
            "external_id", *self.STORED
        )
        self.by_external_id = {
            found[0]: dict(zip(self.STORED, found[1:], strict=True))
            for found in _in_chunks(existing, "external_id", external_ids)
        }

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        external_id = _external_id(values, self.what)
        keys = self.check_duplicate(plan, [("external_id", external_id)])
        account_id = _account_of(self.account_of, row)
        stored = self.by_external_id.get(external_id)
        updates = {name: values[name] for name in self.FIELDS if name in values}
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
            return
        changed = [name for name, value in updates.items() if stored[name] != value]
        if changed:
            activity = Activity(source=self.source, external_id=external_id, **stored)
            _apply(activity, updates)
            plan.updates.append(activity)
            plan.update_fields.update(changed)
        else:
            plan.unchanged += 1
        plan.seen.update(dict.fromkeys(keys, row.line))

    def write(self, plan: Plan) -> None:
        if plan.creates and connection.vendor == "postgresql":
            self._copy(plan.creates)
            self.copied += len(plan.creates)
        elif plan.creates:
            Activity.objects.bulk_create(
                (Activity(**new) for new in plan.creates), batch_size=_INSERT_CHUNK
            )
        if plan.updates:
            fields = sorted(plan.update_fields)
            Activity.objects.bulk_update(plan.updates, fields, batch_size=_INSERT_CHUNK)

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


def _external_id(values: dict, what: str) -> str:
    if not values.get("external_id"):
        raise RowRejected(f"external_id is required: it is how a re-import finds {what}")
    return values["external_id"]


def _resolve_accounts(refs: AccountRefs, batch: list[Row]) -> dict[int, int | None | RowRejected]:
    refs.prefetch(batch)
    resolved: dict[int, int | None | RowRejected] = {}
    for row in batch:
        try:
            resolved[row.line] = refs.resolve(row.values)
        except RowRejected as exc:
            resolved[row.line] = exc
    return resolved


def _account_ids(resolved: dict) -> dict[int, int]:
    return {line: account for line, account in resolved.items() if isinstance(account, int)}


def _account_of(resolved: dict, row: Row) -> int | None:
    account = resolved.get(row.line)
    if isinstance(account, RowRejected):
        raise account
    return account


WRITERS: dict[str, type[Writer]] = {
    ImportKind.ACCOUNTS: AccountWriter,
    ImportKind.CONTACTS: ContactWriter,
    ImportKind.OPPORTUNITIES: OpportunityWriter,
    ImportKind.LEADS: LeadWriter,
    ImportKind.ACTIVITIES: ActivityWriter,
}
