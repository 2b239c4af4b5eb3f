"""Goal services: save a goal with its milestones, measure baselines, and write progress.

``update_goal_progress`` runs on every recompute (the metrics_recomputed signal, goals/apps.py)
inside its write transaction; notifications go out after the commit (goals/notifications.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from abm.audit import AuditAction, audit_diff, audit_record
from accounts.models import Account, Lead, Opportunity
from goals.choices import GoalMetric
from goals.loading import load_goal_data
from goals.models import Goal, GoalMilestone
from goals.notifications import notify_goal_owners
from goals.progress import (
    RISK_STATUSES,
    GoalData,
    Scope,
    baseline_value,
    goal_progress,
    metric_series,
    previous_period,
    scope_accounts,
)
from goals.record import Record, equal_periods, goal_record
from metrics.models import JourneyStageChange
from playbooks.models import Activity

_FIELDS = ("current_value", "expected_value", "status", "notified_status", "computed_at")
# What a person sets on a goal, for the audit trail (baseline and progress are computed).
_AUDITED = (
    "name",
    "team",
    "owner_id",
    "metric",
    "scope_tiers",
    "scope_playbook_id",
    "scope_owner_id",
    "target",
    "start_date",
    "end_date",
    "parent_id",
)


def _audited(goal: Goal) -> dict:
    return {field: getattr(goal, field) for field in _AUDITED}


def _milestones(goal_id: int | None) -> list:
    if goal_id is None:
        return []
    rows = GoalMilestone.objects.filter(goal_id=goal_id).order_by("date")
    return [[day, value] for day, value in rows.values_list("date", "value")]


def goal_scope(goal: Goal) -> Scope:
    return Scope(
        tiers=tuple(int(t) for t in goal.scope_tiers or ()),
        playbook_id=goal.scope_playbook_id,
        owner_id=goal.scope_owner_id,
    )


def _shares() -> dict:
    return {
        "on_track_share": settings.ABM_GOAL_ON_TRACK_SHARE,
        "at_risk_share": settings.ABM_GOAL_AT_RISK_SHARE,
    }


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 4)))


def measure_baseline(
    *,
    metric: str,
    scope: Scope,
    start: dt.date,
    end: dt.date,
    accounts: QuerySet[Account] | None = None,
) -> float | None:
    """The metric over the previous equal period; ``accounts`` limits it to what a user sees."""
    prev_start, prev_end = previous_period(start, end)
    until = timezone.make_aware(dt.datetime.combine(prev_end, dt.time.max), dt.UTC)
    data = load_goal_data(
        since=prev_start,
        until=until,
        accounts=accounts,
        playbook_ids=None if scope.playbook_id is None else [scope.playbook_id],
    )
    return baseline_value(data, metric=metric, scope=scope, start=start, end=end)


# Where each metric's events are stored, and the column that dates them.
_EVENT_SOURCES = {
    GoalMetric.MQA_ACCOUNTS: (JourneyStageChange, "changed_at"),
    GoalMetric.ENGAGED_ACCOUNTS: (JourneyStageChange, "changed_at"),
    GoalMetric.MEETINGS_HELD: (Activity, "occurred_at"),
    GoalMetric.FOLLOW_UP_RATE: (Lead, "handed_off_at"),
}


def metric_data_start(metric: str) -> dt.date | None:
    """The UTC day of the first stored event the metric counts (deals for the deal metrics):
    the data cover a period that starts on or after it. None when nothing is stored."""
    model, column = _EVENT_SOURCES.get(metric, (Opportunity, "created_at"))
    first = model.objects.order_by().aggregate(first=Min(column))["first"]
    if isinstance(first, dt.datetime):
        return first.astimezone(dt.UTC).date()
    return first


def measure_record(
    *,
    metric: str,
    scope: Scope,
    start: dt.date,
    end: dt.date,
    accounts: QuerySet[Account] | None = None,
) -> Record:
    """The baseline and the best of the previous equal periods on record (``goal_record``)."""
    periods = equal_periods(start, end, settings.ABM_GOAL_RECORD_PERIODS)
    data_start = metric_data_start(metric)
    covered = [p for p in periods if data_start is not None and p[0] >= data_start]
    since = (covered or periods[:1])[-1][0]
    until = timezone.make_aware(dt.datetime.combine(periods[0][1], dt.time.max), dt.UTC)
    data = load_goal_data(
        since=since,
        until=until,
        accounts=accounts,
        playbook_ids=None if scope.playbook_id is None else [scope.playbook_id],
    )
    return goal_record(
        data,
        metric=metric,
        scope=scope,
        start=start,
        end=end,
        data_start=data_start,
        count=settings.ABM_GOAL_RECORD_PERIODS,
    )


@transaction.atomic
def goal_save(
    *,
    goal: Goal,
    milestones: Sequence[tuple[dt.date, Decimal]],
    by,
    now: dt.datetime | None = None,
) -> Goal:
    """Create or change a goal: its baseline from the previous period, its milestones replaced,
    and its progress measured at once (and its parent's, whose children changed)."""
    creating = goal.pk is None
    if creating:
        goal.created_by = by
        before = {}
    else:
        # From the database: the form has already changed the instance.
        before = Goal.objects.filter(pk=goal.pk).values(*_AUDITED).first() or {}
        before["milestones"] = _milestones(goal.pk)
    goal.baseline = _decimal(
        measure_baseline(
            metric=goal.metric, scope=goal_scope(goal), start=goal.start_date, end=goal.end_date
        )
    )
    goal.save()
    goal.milestones.all().delete()
    GoalMilestone.objects.bulk_create(
        GoalMilestone(goal=goal, date=day, value=value) for day, value in milestones
    )
    after = {**_audited(goal), "milestones": [[day, value] for day, value in sorted(milestones)]}
    if changes := audit_diff(before, after):
        audit_record(
            actor=by,
            action=AuditAction.GOAL_CREATED if creating else AuditAction.GOAL_CHANGED,
            obj=goal,
            changes=changes,
        )
    update_goal_progress(goals=Goal.objects.filter(pk__in=[goal.pk, goal.parent_id]), now=now)
    goal.refresh_from_db()
    return goal


@transaction.atomic
def goal_delete(*, goal: Goal, by=None) -> None:
    """Delete a goal and its child goals (playbooks linked to it keep no goal)."""
    children = list(Goal.objects.filter(parent=goal).values_list("name", flat=True))
    audit_record(
        actor=by,
        action=AuditAction.GOAL_DELETED,
        obj=goal,
        changes=audit_diff(
            {**_audited(goal), "child_goals": children}, dict.fromkeys([*_AUDITED, "child_goals"])
        ),
    )
    goal.delete()


def update_goal_progress(
    *, now: dt.datetime | None = None, goals: Iterable[Goal] | None = None
) -> int:
    """Measure every goal (or ``goals``) as of ``now`` and store current value, expected-by-now
    and status; owners of goals that turned at_risk or off_track are emailed after the commit.

    Recompute-and-overwrite: a re-run as of the same instant writes the same values.
    """
    now = now or timezone.now()
    queryset = Goal.objects.all() if goals is None else goals
    goals = list(queryset.prefetch_related("milestones"))
    if not goals:
        return 0
    data = load_goal_data(
        since=min(goal.start_date for goal in goals),
        until=now,
        playbook_ids=sorted({g.scope_playbook_id for g in goals if g.scope_playbook_id}),
    )
    for goal in goals:
        _measure(goal, data, now)
    with transaction.atomic():
        Goal.objects.bulk_update(goals, list(_FIELDS), batch_size=500)
        if any(goal.status in RISK_STATUSES for goal in goals):
            transaction.on_commit(notify_goal_owners)
    return len(goals)


def _measure(goal: Goal, data: GoalData, now: dt.datetime) -> None:
    progress = goal_progress(
        data,
        metric=goal.metric,
        scope=goal_scope(goal),
        baseline=None if goal.baseline is None else float(goal.baseline),
        target=float(goal.target),
        start=goal.start_date,
        end=goal.end_date,
        milestones=[(m.date, float(m.value)) for m in goal.milestones.all()],
        as_of=now,
        **_shares(),
    )
    goal.current_value = _decimal(progress.current)
    goal.expected_value = _decimal(progress.expected)
    goal.status = progress.status
    goal.computed_at = now
    # Leaving the risk states re-arms the email: the next turn for the worse is a new change.
    if goal.status not in RISK_STATUSES:
        goal.notified_status = ""


def goal_series(*, goal: Goal, now: dt.datetime | None = None):
    """The actual value at the end of each day of the goal's period so far (for its chart)."""
    now = now or timezone.now()
    data = load_goal_data(
        since=goal.start_date,
        until=now,
        playbook_ids=[goal.scope_playbook_id] if goal.scope_playbook_id else None,
    )
    return metric_series(
        data,
        metric=goal.metric,
        accounts=scope_accounts(data, goal_scope(goal)),
        start=goal.start_date,
        end=goal.end_date,
        as_of=now,
    )
