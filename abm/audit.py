"""The audit trail: who changed what and when, for what a director answers for.

Services call `audit_record` inside the transaction that makes the change, so an event exists
exactly when the change does (a rolled-back change leaves no event, a committed one always has
one). Recorded: account owner and tier, playbook status, stages and steps, goals, the ICP, the
touch rules and imports. Bulk actions write one event per account (in bulk), so an account's
history is complete whichever page changed it; an import writes one event when it starts and
one with its counts when it finishes, not one per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils import timezone

from abm.lib.permissions import user_role
from abm.models import AuditEvent, Role

_BATCH = 2_000
# DOMAIN.md: directors read everything; the trail is theirs and the admins'.
AUDIT_ROLES = frozenset({Role.DIRECTOR, Role.ADMIN})


class AuditAction(models.TextChoices):
    ACCOUNT_OWNER_CHANGED = "account.owner_changed", "Account owner changed"
    ACCOUNT_TIER_CHANGED = "account.tier_changed", "Account tier changed"
    PLAYBOOK_CHANGED = "playbook.changed", "Playbook details changed"
    PLAYBOOK_STATUS_CHANGED = "playbook.status_changed", "Playbook status changed"
    PLAYBOOK_STAGE_ADDED = "playbook.stage_added", "Playbook stage added"
    PLAYBOOK_STAGE_CHANGED = "playbook.stage_changed", "Playbook stage changed"
    PLAYBOOK_STAGE_MOVED = "playbook.stage_moved", "Playbook stage moved"
    PLAYBOOK_STAGE_REMOVED = "playbook.stage_removed", "Playbook stage removed"
    PLAYBOOK_STEP_ADDED = "playbook.step_added", "Playbook step added"
    PLAYBOOK_STEP_CHANGED = "playbook.step_changed", "Playbook step changed"
    PLAYBOOK_STEP_MOVED = "playbook.step_moved", "Playbook step moved"
    PLAYBOOK_STEP_REMOVED = "playbook.step_removed", "Playbook step removed"
    GOAL_CREATED = "goal.created", "Goal created"
    GOAL_CHANGED = "goal.changed", "Goal changed"
    GOAL_DELETED = "goal.deleted", "Goal deleted"
    ICP_SAVED = "icp.saved", "ICP saved"
    TOUCH_RULES_SAVED = "touch_rules.saved", "Touch rules saved"
    IMPORT_STARTED = "import.started", "Import started"
    IMPORT_FINISHED = "import.finished", "Import finished"


@dataclass(frozen=True)
class AuditTarget:
    """What an event is about when there is no model instance at hand (bulk updates)."""

    type: str
    id: int | str
    label: str


def audit_value(value):
    """A JSON-safe copy of a field value: money as text (exact), dates as ISO, rows as their pk."""
    if isinstance(value, Decimal):
        # 100000 and 100000.0000 (as stored) are one amount: no change to record.
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset):
        return [audit_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): audit_value(item) for key, item in value.items()}
    return value


def audit_diff(before: Mapping, after: Mapping) -> dict[str, list]:
    """{field: [old, new]} for the fields of `after` whose value differs from `before`."""
    changes = {}
    for field, new in after.items():
        old, new = audit_value(before.get(field)), audit_value(new)
        # Blank and unset are one state to a reader: "" -> None is no change.
        if old != new and not (old in _BLANK and new in _BLANK):
            changes[field] = [old, new]
    return changes


_BLANK = (None, "", [], {})


def _target(obj) -> AuditTarget:
    if isinstance(obj, AuditTarget):
        return obj
    return AuditTarget(type=obj._meta.model_name, id=obj.pk or "", label=str(obj))


def _event(*, actor, action: str, target: AuditTarget, changes: Mapping, at) -> AuditEvent:
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent(
        at=at,
        actor=actor,
        actor_label=actor.get_username() if actor else "",
        action=str(action),
        object_type=target.type,
        object_id=str(target.id),
        object_label=target.label[:255],
        changes=audit_value(dict(changes)),
    )


def audit_record(*, actor, action: str, obj, changes: Mapping | None = None) -> AuditEvent:
    """Write one event about `obj` (a model instance or an AuditTarget); `actor` None = system."""
    event = _event(
        actor=actor, action=action, target=_target(obj), changes=changes or {}, at=timezone.now()
    )
    event.save()
    return event


def audit_record_many(*, actor, action: str, items: Iterable[tuple[AuditTarget, Mapping]]) -> int:
    """One event per (target, changes), written in batches with one timestamp; returns the count."""
    now = timezone.now()
    events = [
        _event(actor=actor, action=action, target=target, changes=changes, at=now)
        for target, changes in items
    ]
    AuditEvent.objects.bulk_create(events, batch_size=_BATCH)
    return len(events)


def audit_events_visible_to(user):
    """The trail is for directors and admins only; everyone else sees nothing."""
    if user_role(user) not in AUDIT_ROLES:
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()
