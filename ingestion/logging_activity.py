"""Logging a call, meeting or email by hand from the account page.

A hand-logged touch is an Activity with source "api" and external_id "manual-<uuid4>": the
sources are task (a completed playbook step), import (a file or CRM sync) and api (anything
entered directly), and the random id keeps (source, external_id) unique without a new enum value.

It is also a sales follow-up: the account's leads handed off before it, and not followed up
earlier, get it as their first follow-up (DOMAIN.md "Lead").
"""

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from abm.change_feed import announce_change
from abm.lib.channels import OUTBOUND_KINDS, ActivityKind, Channel, Direction
from abm.lib.permissions import user_role
from abm.models import Role
from accounts.models import Account, Lead
from accounts.visibility import accounts_visible_to
from playbooks.models import Activity, ActivitySource

# kind -> (channel, label on the form). Meetings are booked and held by sales: SDR outreach.
LOGGABLE_KINDS = {
    ActivityKind.CALL_CONNECTED: (Channel.PHONE, "Call – connected"),
    ActivityKind.CALL_ATTEMPT: (Channel.PHONE, "Call – no answer"),
    ActivityKind.MEETING: (Channel.SDR_OUTREACH, "Meeting"),
    ActivityKind.EMAIL_SENT: (Channel.EMAIL, "Email sent"),
    ActivityKind.EMAIL_REPLY: (Channel.EMAIL, "Email reply received"),
}
TIMED_KINDS = frozenset(
    {ActivityKind.CALL_CONNECTED, ActivityKind.CALL_ATTEMPT, ActivityKind.MEETING}
)
# What counts as the rep following a lead up; a reply received is the prospect's doing.
FOLLOW_UP_KINDS = frozenset(
    {
        ActivityKind.CALL_CONNECTED,
        ActivityKind.CALL_ATTEMPT,
        ActivityKind.MEETING,
        ActivityKind.EMAIL_SENT,
    }
)
# Directors are read-only outside goals, assignment and spend (DOMAIN.md "People").
LOG_ROLES = frozenset({Role.SALES, Role.MARKETER, Role.ADMIN})
# A day of slack for time zones and "I'll log tomorrow's 9 am call now"; more is a typo.
MAX_AHEAD = dt.timedelta(days=1)
MAX_DURATION_MINUTES = 24 * 60
MANUAL_PREFIX = "manual-"


def can_log(user, account: Account) -> bool:
    return user_role(user) in LOG_ROLES and accounts_visible_to(user).filter(pk=account.pk).exists()


def activity_log(
    *,
    account: Account,
    by,
    kind: str,
    contact=None,
    occurred_at: dt.datetime | None = None,
    duration_minutes: int | None = None,
    notes: str = "",
    now: dt.datetime | None = None,
) -> Activity:
    """Record a hand-logged touch; ValidationError names the field at fault."""
    if not can_log(by, account):
        raise PermissionDenied("You may log activities only on accounts you own.")
    now = now or timezone.now()
    occurred_at = occurred_at or now
    errors = {}
    if kind not in LOGGABLE_KINDS:
        errors["kind"] = "Choose a call, meeting or email."
    if contact is not None and contact.account_id != account.pk:
        errors["contact"] = f"That contact does not work at {account.name}."
    if occurred_at > now + MAX_AHEAD:
        errors["occurred_at"] = "That is more than a day ahead: log touches once they happen."
    if duration_minutes is not None:
        if duration_minutes < 0:
            errors["duration_minutes"] = "Duration cannot be negative."
        elif duration_minutes > MAX_DURATION_MINUTES:
            errors["duration_minutes"] = "Duration is at most 1,440 minutes (a day)."
        elif kind in LOGGABLE_KINDS and kind not in TIMED_KINDS:
            errors["duration_minutes"] = "Only calls and meetings have a duration."
    if errors:
        raise ValidationError(errors)

    channel, _ = LOGGABLE_KINDS[kind]
    with transaction.atomic():
        activity = Activity.objects.create(
            account=account,
            contact=contact,
            channel=channel,
            kind=kind,
            direction=Direction.OUTBOUND if kind in OUTBOUND_KINDS else Direction.INBOUND,
            occurred_at=occurred_at,
            source=ActivitySource.API,
            external_id=f"{MANUAL_PREFIX}{uuid.uuid4()}",
            duration_minutes=duration_minutes,
            notes=notes.strip(),
        )
        if kind in FOLLOW_UP_KINDS:
            Lead.objects.filter(account=account, handed_off_at__lte=occurred_at).filter(
                Q(first_follow_up_at__isnull=True) | Q(first_follow_up_at__gt=occurred_at)
            ).update(first_follow_up_at=occurred_at)
        announce_change(reason=f"{kind} logged on account #{account.pk}", account_ids=[account.pk])
    return activity
