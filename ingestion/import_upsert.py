"""CSV imports, the database part: find each row's record by its natural key and write in bulk.

Per batch: fetch the existing records by key (a few chunked queries), decide per row whether it
creates, updates (only when a value differs) or leaves a record unchanged, then one bulk_create
and one bulk_update, in one transaction. Counting this way is exact, and a re-import of the same
file writes nothing. Natural keys (README "Import rules"):

- accounts: external_id, else domain;     - contacts: external_id, else (account, email);
- opportunities, leads: external_id;      - activities: (source, external_id), the source
  'import' for files and 'api' for the ingestion API (ingestion/api_batches.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from accounts.fitting import SCORE_FIELDS, fit_apply
from accounts.models import (
    CLOSED_STAGES,
    Account,
    BuyingRole,
    Contact,
    Lead,
    Opportunity,
    OpportunityStageChange,
    OwnershipChange,
)
from accounts.records import apply_values
from accounts.stage_history import stage_changed_at
from ingestion.import_activities import ActivityWriter
from ingestion.import_refs import (  # noqa: F401 (ContactRefs is reused by the activity API)
    AccountRefs,
    ContactRefs,
    Owners,
    RowRejected,
    account_ids,
    account_of,
    in_chunks,
    resolve_accounts,
)
from ingestion.import_writer import (  # noqa: F401 (the activity API writes through these)
    Counts,
    Plan,
    Writer,
    quoted,
    required_external_id,
    write_batch,
)
from ingestion.importing import CONTACT_REFS, Reject, Row, seniority_from_title
from ingestion.models import ImportKind

BATCH_SIZE = 5_000


def upsert_rows(
    *,
    kind: str,
    rows: list[Row],
    by,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    labels: dict[str, str] | None = None,
    dry_run: bool = False,
    touched: set[int] | None = None,
) -> tuple[Counts, list[Reject]]:
    """Write every row, batch by batch, each batch in its own transaction.

    `labels` (field -> the file's header) word the reasons; `dry_run` draws up every plan with
    the same rules and writes nothing, so a check counts the rejects the run will. `touched`
    receives the ids of the accounts whose rows changed, where the writer tells (activities).
    """
    writer = WRITERS[kind](by=by, labels=labels)
    batch_size = batch_size or BATCH_SIZE
    counts, rejects = Counts(), []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        if dry_run:
            plans = [writer.plan(batch)]
            writer.seen.update(plans[0].seen)
        else:
            plans = write_batch(writer, batch)
            writer.after_batch()
        for plan in plans:
            counts.add(plan.counts())
            rejects.extend(plan.rejects)
        if progress is not None:
            progress(start + len(batch), len(rows))
    if touched is not None:
        touched.update(getattr(writer, "touched", ()))
    return counts, rejects


class AccountWriter(Writer):
    model = Account
    what = "an account"
    FIELDS = ("name", "domain", "industry", "employees", "annual_revenue", "country", "tier")

    def __init__(self, *, by, labels: dict[str, str] | None = None) -> None:
        super().__init__(by=by, labels=labels)
        self.owners = Owners(self.label)

    def prepare(self, batch: list[Row]) -> None:
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        domains = {row.values["domain"] for row in batch if "domain" in row.values}
        found = {a.pk: a for a in in_chunks(Account.objects.all(), "external_id", external_ids)}
        for account in in_chunks(Account.objects.all(), "domain", domains):
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
                f"{self.label('domain')} {quoted(domain)} belongs to another account "
                f"({by_domain.name})"
            )
        if by_domain and not by_id and external_id and by_domain.external_id:
            raise RowRejected(
                f"the account with {self.label('domain')} {quoted(domain)} has "
                f"{self.label('external_id')} {quoted(by_domain.external_id)}, "
                f"not {quoted(external_id)}"
            )
        account = by_id or by_domain
        keys = [("external_id", external_id), ("domain", domain)]
        if account is not None:
            keys += [("pk", account.pk), ("domain", account.domain)]
        keys = self.check_duplicate(plan, keys)
        updates = {name: values[name] for name in self.FIELDS if name in values}
        # Annual revenue is a figure of today: it converts at the rate of the import's day.
        updates.update(self.money(values, "annual_revenue", timezone.localdate(self.now)))
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
        changed = apply_values(account, updates)
        if changed:
            account.updated_at = self.now
            changed.append("updated_at")
        if "owner_id" in changed:
            plan.history.append(lambda a=account, p=previous_owner: self._owned(a, p))
        self.stage(plan, row, keys, account, changed)

    def write(self, plan: Plan) -> None:
        # Created and changed accounts are scored with the batch, as the API scores one.
        fit_apply([*plan.creates, *plan.updates])
        if plan.updates:
            plan.update_fields.update(SCORE_FIELDS)
        super().write(plan)

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

    def __init__(self, *, by, labels: dict[str, str] | None = None) -> None:
        super().__init__(by=by, labels=labels)
        self.accounts = AccountRefs(self.label)

    def prepare(self, batch: list[Row]) -> None:
        self.account_of = resolve_accounts(self.accounts, batch)
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        found = {c.pk: c for c in in_chunks(Contact.objects.all(), "external_id", external_ids)}
        account_ids = {pk for pk in self.account_of.values() if isinstance(pk, int)}
        emails = {row.values["email"] for row in batch if "email" in row.values}
        if account_ids and emails:
            same_accounts = Contact.objects.filter(account_id__in=account_ids)
            for contact in in_chunks(same_accounts, "email", emails):
                found.setdefault(contact.pk, contact)
        self.by_external_id = {c.external_id: c for c in found.values() if c.external_id}
        self.by_email = {(c.account_id, c.email): c for c in found.values()}

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        account_id = account_of(self.account_of, row)
        external_id, email = values.get("external_id"), values.get("email")
        by_id = self.by_external_id.get(external_id) if external_id else None
        by_email = self.by_email.get((account_id, email)) if account_id and email else None
        if by_id and by_email and by_id.pk != by_email.pk:
            raise RowRejected(
                f"{self.label('email')} {quoted(email)} at this account belongs to another contact"
                + (
                    f" ({self.label('external_id')} {quoted(by_email.external_id)})"
                    if by_email.external_id
                    else ""
                )
            )
        if by_email and not by_id and external_id and by_email.external_id:
            raise RowRejected(
                f"the contact {quoted(email)} has {self.label('external_id')} "
                f"{quoted(by_email.external_id)}, "
                f"not {quoted(external_id)}"
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
        self.stage(plan, row, keys, contact, apply_values(contact, updates))


class OpportunityWriter(Writer):
    model = Opportunity
    what = "an opportunity"
    FIELDS = ("name", "amount", "stage", "created_at", "close_date", "source")

    def __init__(self, *, by, labels: dict[str, str] | None = None) -> None:
        super().__init__(by=by, labels=labels)
        self.accounts = AccountRefs(self.label)

    def prepare(self, batch: list[Row]) -> None:
        self.accounts.prefetch(batch)
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        self.by_external_id = {
            o.external_id: o
            for o in in_chunks(Opportunity.objects.all(), "external_id", external_ids)
        }

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        external_id = required_external_id(values, self.what, self.label("external_id"))
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
        # A deal is priced when it is created: its amount converts at the rate of that day.
        created_at = updates.get("created_at") or opportunity.created_at
        updates.update(self.money(values, "amount", timezone.localdate(created_at)))
        if opportunity is None:
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
            changed = apply_values(opportunity, updates)
            if changed:
                opportunity.updated_at = self.now
                changed.append("updated_at")
        self.stage(plan, row, keys, opportunity, changed)
        if stage != previous_stage:
            # A new deal's history starts when it was created (or closed); a change seen by a
            # re-import happened when it closed, else now.
            at = stage_changed_at(
                previous_stage=previous_stage,
                closed_at=opportunity.closed_at,
                created_at=created_at,
                now=self.now,
            )
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
                    f"{self.label('closed_at')} is given but {self.label('stage')} "
                    f"{quoted(stage)} is still open "
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
                    f"{self.label('close_date')} {close_date.isoformat()} is before "
                    f"{self.label('created_at')} "
                    f"{created_at.date().isoformat()}"
                )
            # A deal created at 14:00 and closed the same day closed no earlier than 14:00.
            closed_at = max(midnight, created_at)
        elif opportunity.closed_at:
            closed_at = opportunity.closed_at
        else:
            raise RowRejected(
                f"{self.label('stage')} {quoted(stage)} is closed but there is no "
                f"{self.label('close_date')} or {self.label('closed_at')}"
            )
        if closed_at < created_at:
            raise RowRejected(
                f"{self.label('closed_at')} {closed_at.isoformat()} is before "
                f"{self.label('created_at')} {created_at.isoformat()}"
            )
        return closed_at


class LeadWriter(Writer):
    model = Lead
    what = "a lead"
    FIELDS = ("source_channel", "handed_off_at", "first_follow_up_at", "status")

    def __init__(self, *, by, labels: dict[str, str] | None = None) -> None:
        super().__init__(by=by, labels=labels)
        self.accounts = AccountRefs(self.label)
        self.contacts = ContactRefs(self.label)

    def prepare(self, batch: list[Row]) -> None:
        self.account_of = resolve_accounts(self.accounts, batch)
        self.contacts.prefetch(batch, account_ids(self.account_of))
        external_ids = {row.values["external_id"] for row in batch if "external_id" in row.values}
        self.by_external_id = {
            lead.external_id: lead
            for lead in in_chunks(Lead.objects.all(), "external_id", external_ids)
        }

    def plan_row(self, row: Row, plan: Plan) -> None:
        values = row.values
        external_id = required_external_id(values, self.what, self.label("external_id"))
        keys = self.check_duplicate(plan, [("external_id", external_id)])
        account_id = account_of(self.account_of, row)
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
            changed = apply_values(lead, updates)
        if lead.first_follow_up_at and lead.first_follow_up_at < lead.handed_off_at:
            raise RowRejected(
                f"{self.label('first_follow_up_at')} {lead.first_follow_up_at.isoformat()} is before "
                f"handed_off_at {lead.handed_off_at.isoformat()}"
            )
        self.stage(plan, row, keys, lead, changed)


WRITERS: dict[str, type[Writer]] = {
    ImportKind.ACCOUNTS: AccountWriter,
    ImportKind.CONTACTS: ContactWriter,
    ImportKind.OPPORTUNITIES: OpportunityWriter,
    ImportKind.LEADS: LeadWriter,
    ImportKind.ACTIVITIES: ActivityWriter,
}
