"""Writing one account, contact, opportunity or lead: the services behind the API's writes.

Each does what the page or the import does for the same change (README "REST API", one write
path): an account is fit-scored when created or when a field fit reads changes, its owner moves
through `account_assign` (ownership history, audit) and its tier through `accounts_set_tier`
(audit); an opportunity's stage change adds to its stage history and sets closed_at
(accounts/stage_history.py); whatever metrics read (contacts, opportunities, leads, and the
accounts they hang off when deleted) asks for a recompute in the same transaction, as an import of
them does (abm/change_feed.py).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from abm.change_feed import announce_change
from abm.lib.row_locks import lock_for_change, retried_on_deadlock
from accounts.assignment import account_assign
from accounts.fitting import FIT_FIELDS, SCORE_FIELDS, fit_apply
from accounts.models import Account, Opportunity
from accounts.stage_history import NOT_GIVEN, closed_at_for, stage_change
from accounts.tiering import accounts_set_tier

# --- Accounts ---------------------------------------------------------------------------------


def apply_values(obj: Model, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; the names of the fields that changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def account_create(*, by, owner=None, **fields) -> Account:
    """A new account, fit-scored against the active ICP; `owner` is assigned (with history)."""
    account = Account(**fields)
    fit_apply([account])
    with transaction.atomic():
        account.save()
        if owner is not None:
            account_assign(accounts=[account], owner=owner, by=by)
    account.refresh_from_db()
    return account


def account_update(*, account: Account, by, **fields) -> Account:
    """Change an account's fields; owner and tier go through their services (audited)."""
    owner_given, owner = "owner" in fields, fields.pop("owner", None)
    tier_given, tier = "tier" in fields, fields.pop("tier", None)
    with transaction.atomic():
        lock_for_change(account)
        changed = apply_values(account, fields)
        if changed:
            if set(changed) & set(FIT_FIELDS):
                fit_apply([account])
                changed += SCORE_FIELDS
            account.save(update_fields=[*changed, "updated_at"])
        if owner_given and (owner.pk if owner else None) != account.owner_id:
            account_assign(accounts=[account], owner=owner, by=by)
        if tier_given and tier != account.tier:
            accounts_set_tier(accounts=Account.objects.filter(pk=account.pk), tier=tier, by=by)
    account.refresh_from_db()
    return account


def account_delete(*, account: Account, by) -> None:
    """Delete the account and what hangs off it; the metrics that counted them are recomputed."""
    record_delete(account, by=by)


# --- Contacts and leads: written as they are, and metrics read them ---------------------------


def record_create(model: type[Model], *, by, **fields) -> Model:
    record = model(**fields)
    with transaction.atomic():
        record.save()
        _recompute(record, "created", by)
    return record


def record_update(record: Model, *, by, **fields) -> Model:
    """Save the values that differ; an edit that changes nothing asks for nothing."""
    if apply_values(record, fields):
        with transaction.atomic():
            lock_for_change(record)
            record.save()
            _recompute(record, "changed", by)
    return record


def record_delete(record: Model, *, by) -> None:
    retried_on_deadlock(lambda: _delete(record, by))


def _delete(record: Model, by) -> None:
    with transaction.atomic():
        # Lock the row before Django collects what hangs off it: a recompute writing this
        # account's results holds a key-share lock, so the delete waits and then removes them
        # too, instead of failing on rows that appeared after the collection.
        if not type(record).objects.select_for_update().filter(pk=record.pk).exists():
            return  # deleted by someone else meanwhile: what was asked is done
        announcement = _announcement(record, "deleted", by)  # before the delete clears the pk
        record.delete()
        # Last: queuing the run waits for another transaction queuing one. Queued before the
        # delete, it then waited for a deal an edit had locked while that edit waited to queue.
        announce_change(**announcement)


# --- Opportunities ----------------------------------------------------------------------------


def opportunity_create(*, by, **fields) -> Opportunity:
    """A new deal with the first row of its stage history (created now unless `created_at`)."""
    now = timezone.now()
    fields.setdefault("created_at", now)
    opportunity = Opportunity(**fields)
    opportunity.closed_at = closed_at_for(
        stage=opportunity.stage, given=fields.get("closed_at", NOT_GIVEN), stored=None, now=now
    )
    with transaction.atomic():
        opportunity.save()
        stage_change(opportunity, previous_stage="", now=now).save()
        _recompute(opportunity, "created", by)
    return opportunity


def opportunity_update(*, opportunity: Opportunity, by, **fields) -> Opportunity:
    """Change a deal; a new stage adds to its history and closes (or reopens) it."""
    now = timezone.now()
    previous_stage = opportunity.stage
    if "stage" in fields or "closed_at" in fields:
        fields["closed_at"] = closed_at_for(
            stage=fields.get("stage", previous_stage),
            given=fields.get("closed_at", NOT_GIVEN),
            stored=opportunity.closed_at,
            now=now,
        )
    if not apply_values(opportunity, fields):
        return opportunity
    with transaction.atomic():
        lock_for_change(opportunity)
        opportunity.save()
        if opportunity.stage != previous_stage:
            stage_change(opportunity, previous_stage=previous_stage, now=now).save()
        _recompute(opportunity, "changed", by)
    return opportunity


def _recompute(record: Model, what: str, by) -> None:
    announce_change(**_announcement(record, what, by))


def _announcement(record: Model, what: str, by) -> dict:
    who = f" by {by.get_username()}" if by is not None else ""
    account_id = record.pk if isinstance(record, Account) else record.account_id
    return {
        "reason": f"{record._meta.model_name} #{record.pk} {what}{who}",
        "account_ids": [account_id],
    }
