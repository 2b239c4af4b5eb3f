"""Giving accounts an owner: one service for the account page and the bulk action alike."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from abm.audit import AuditAction, AuditTarget, audit_record_many
from abm.change_feed import announce_change
from abm.lib.permissions import user_role
from abm.models import Role, User
from accounts.models import Account, OwnershipChange

# DOMAIN.md: directors own account assignment; marketers plan the accounts; admins do anything.
ASSIGN_ROLES = frozenset({Role.DIRECTOR, Role.MARKETER, Role.ADMIN})
_BATCH = 2_000


class AssignmentError(ValidationError):
    """The owner cannot own accounts; the message says why, for the page to show."""


@dataclass(frozen=True)
class AssignResult:
    changed: int  # accounts that moved to the new owner (one OwnershipChange each)
    unchanged: int  # accounts the new owner already had


def can_assign(user) -> bool:
    return user_role(user) in ASSIGN_ROLES


def owner_check(owner) -> None:
    """Only active sales reps own accounts (None leaves them unassigned)."""
    if owner is None:
        return
    role = user_role(owner)
    if role != Role.SALES:
        name = owner.get_full_name() or owner.username
        label = Role(role).label.lower()
        article = "an" if label[:1] in "aeiou" else "a"
        raise AssignmentError(f"{name} is {article} {label}: only sales reps can own accounts.")
    if not owner.is_active:
        name = owner.get_full_name() or owner.username
        raise AssignmentError(f"{name} is deactivated and cannot own accounts.")


def account_assign(*, accounts: QuerySet[Account] | Iterable[Account], owner, by) -> AssignResult:
    """Give `accounts` to `owner` (None: unassign), writing who moved what in the same transaction.

    Accounts the owner already has are left alone and get no history row. The rows are locked
    first, so the previous owner written to the history is the one actually replaced even when
    two people assign the same account at once.
    """
    if not can_assign(by):
        raise PermissionDenied("Only directors, marketers and admins may assign accounts.")
    owner_check(owner)
    if isinstance(accounts, QuerySet):
        ids = accounts.order_by().values("pk")
    else:
        ids = [account.pk for account in accounts]
    owner_id = owner.pk if owner else None
    now = timezone.now()
    with transaction.atomic():
        current = list(
            Account.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "owner_id", "name")
        )
        moving = [(pk, previous) for pk, previous, _ in current if previous != owner_id]
        for start in range(0, len(moving), _BATCH):
            batch = [pk for pk, _ in moving[start : start + _BATCH]]
            # update() skips auto_now, so updated_at is set by hand.
            Account.objects.filter(pk__in=batch).update(owner_id=owner_id, updated_at=now)
        OwnershipChange.objects.bulk_create(
            [
                OwnershipChange(
                    account_id=pk,
                    previous_owner_id=previous,
                    new_owner_id=owner_id,
                    changed_by=by,
                    changed_at=now,
                )
                for pk, previous in moving
            ],
            batch_size=_BATCH,
        )
        names = dict(
            User.objects.filter(pk__in={previous for _, previous in moving} - {None}).values_list(
                "pk", "username"
            )
        )
        new_name = owner.get_username() if owner else None
        account_names = {pk: name for pk, _, name in current}
        audit_record_many(
            actor=by,
            action=AuditAction.ACCOUNT_OWNER_CHANGED,
            items=(
                (
                    AuditTarget("account", pk, account_names[pk]),
                    {"owner": [names.get(previous), new_name]},
                )
                for pk, previous in moving
            ),
        )
        if moving:
            # The owner slices of the rollups follow in the engine's next run.
            announce_change(
                reason=f"owner set on {len(moving)} accounts by {by.get_username()}",
                account_ids=[pk for pk, _ in moving],
            )
    return AssignResult(changed=len(moving), unchanged=len(current) - len(moving))
