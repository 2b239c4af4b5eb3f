"""From plan to work: a saved plan becomes SMART goals (issue #18).

A parent goal on the plan's outcome (revenue won, or pipeline created) and three child goals on
the stages that lead to it (opportunities created, mqa accounts, engaged accounts), all over the
plan's period, tiers and playbook, with a milestone at the end of every month of the period but
the last (the end date is the target itself).

- A child's target is what the plan needs of its stage, rounded up to whole accounts.
- Its milestones are the running total of the plan's by-month counts, rounded up. What the plan
  wanted reached before the period (the lags push early stages back) is due in its first month:
  those months are past or starting when the goal is set.
- The parent's milestones are the target times the share of the outcome stage (won, or
  opportunity) due by then, to the cent.
- Every goal passes the SMART check (goals/smart.py) or none is made: the check's message says
  which goal fails and why.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from goals.access import goal_teams_for
from goals.choices import GoalMetric, GoalTeam
from goals.models import Goal, Plan, PlanKind
from goals.progress import Scope
from goals.smart import ERROR, Check, smart_check
from goals.tracking import goal_save, measure_record

# Plan stage -> the goal metric that counts it, and the team that moves it.
CHILD_STAGES = (
    ("opportunity", GoalMetric.OPPORTUNITY_ACCOUNTS, GoalTeam.SALES),
    ("mqa", GoalMetric.MQA_ACCOUNTS, GoalTeam.MARKETING),
    ("engaged", GoalMetric.ENGAGED_ACCOUNTS, GoalTeam.MARKETING),
)
PARENT_METRIC = {
    PlanKind.REVENUE: (GoalMetric.REVENUE_WON, "won"),
    PlanKind.PIPELINE: (GoalMetric.PIPELINE_CREATED, "opportunity"),
}
ROLES = ("parent", *(stage for stage, _, _ in CHILD_STAGES))
_EPSILON = 1e-9


class PlanGoalsError(ValueError):
    """The goals a plan would make do not pass the SMART check (or were made already)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class GoalSpec:
    role: str  # "parent" or the plan stage
    name: str
    metric: str
    team: str
    target: Decimal
    milestones: list[tuple[dt.date, Decimal]] = field(default_factory=list)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _period_months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month_end(month) + dt.timedelta(days=1)).replace(day=1)
    return months


def stage_by_month(result: dict, stage: str, start: dt.date, end: dt.date) -> list[float]:
    """The plan's count of ``stage`` in each month of the period, months before it folded into
    the first and months after it into the last."""
    months = _period_months(start, end)
    counts = [0.0] * len(months)
    for row in result.get("by_month") or []:
        month = dt.date.fromisoformat(row["month"]).replace(day=1)
        value = float(row.get(stage) or 0.0)
        if month < months[0]:
            index = 0
        elif month > months[-1]:
            index = len(months) - 1
        else:
            index = months.index(month)
        counts[index] += value
    return counts


def _running_milestones(
    counts: list[float], start: dt.date, end: dt.date, to_value
) -> list[tuple[dt.date, Decimal]]:
    months, running, rows = _period_months(start, end), 0.0, []
    for month, count in zip(months[:-1], counts[:-1], strict=True):
        running += count
        day = month_end(month)
        if start <= day < end:
            rows.append((day, to_value(running)))
    return rows


def _ceil(value: float) -> int:
    return math.ceil(value - _EPSILON)


def plan_goal_specs(
    result: dict, *, name: str, kind: str, target: Decimal, start: dt.date, end: dt.date
) -> list[GoalSpec]:
    """The parent goal first, then the children, from a plan's JSON (pure)."""
    metric, outcome_stage = PARENT_METRIC[PlanKind(kind)]
    outcome = stage_by_month(result, outcome_stage, start, end)
    total = sum(outcome)
    cents = Decimal("0.01")

    def money_due(running: float) -> Decimal:
        share = 1.0 if total <= 0 else min(1.0, running / total)
        return (target * Decimal(str(share))).quantize(cents, rounding=ROUND_HALF_UP)

    specs = [
        GoalSpec(
            role="parent",
            name=f"{GoalMetric(metric).label} from the plan “{name}”",
            metric=metric,
            team=GoalTeam.SHARED,
            target=target,
            milestones=_running_milestones(outcome, start, end, money_due) if total > 0 else [],
        )
    ]
    needed = result.get("needed") or {}
    for stage, child_metric, team in CHILD_STAGES:
        counts = stage_by_month(result, stage, start, end)
        planned = (needed.get(stage) or {}).get("value")
        goal_target = _ceil(float(planned) if planned is not None else sum(counts))

        def due(running: float, cap=goal_target) -> Decimal:
            return Decimal(min(cap, max(0, _ceil(running))))

        specs.append(
            GoalSpec(
                role=stage,
                name=f"{GoalMetric(child_metric).label} for the plan “{name}”",
                metric=child_metric,
                team=team,
                target=Decimal(goal_target),
                milestones=_running_milestones(counts, start, end, due),
            )
        )
    return specs


def plan_goal_checks(*, plan: Plan, specs: list[GoalSpec], today: dt.date) -> dict[str, list]:
    """The SMART check of each goal the plan would make, by role (baselines over every account,
    as goal_save measures the baseline it stores)."""
    scope = Scope(tiers=tuple(plan.tiers or ()), playbook_id=plan.playbook_id)
    checks = {}
    for spec in specs:
        record = measure_record(
            metric=spec.metric, scope=scope, start=plan.start_date, end=plan.end_date
        )
        checks[spec.role] = smart_check(
            name=spec.name,
            metric=spec.metric,
            target=float(spec.target),
            has_owner=True,
            tiers=scope.tiers,
            playbook=plan.playbook.name if plan.playbook else None,
            scope_owner=None,
            start=plan.start_date,
            end=plan.end_date,
            baseline=record.baseline,
            record=record,
            pace_limit=settings.ABM_GOAL_ATTAINABLE_PACE,
            today=today,
        )
    return checks


def _errors(specs: list[GoalSpec], checks: dict[str, list[Check]]) -> list[str]:
    return [
        f"{spec.name}: {check.label}: {check.message}"
        for spec in specs
        for check in checks[spec.role]
        if check.level == ERROR
    ]


@transaction.atomic
def plan_create_goals(*, plan: Plan, owners: dict, by, today: dt.date | None = None) -> Goal:
    """Make the plan's goals (owners by role: "parent", "opportunity", "mqa", "engaged") through
    goal_save, link the parent to the plan and return it."""
    specs = plan_goal_specs(
        plan.result,
        name=plan.name,
        kind=plan.kind,
        target=plan.target,
        start=plan.start_date,
        end=plan.end_date,
    )
    teams = goal_teams_for(by)
    if any(spec.team not in teams for spec in specs):
        raise PermissionDenied
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    if locked.goal_id is not None:
        raise PlanGoalsError(["Goals were already made from this plan."])
    missing = [role for role in ROLES if owners.get(role) is None]
    if missing:
        raise PlanGoalsError([f"Choose an owner for every goal ({', '.join(missing)})."])
    today = today or timezone.now().date()
    errors = _errors(specs, plan_goal_checks(plan=plan, specs=specs, today=today))
    if errors:
        raise PlanGoalsError(errors)
    parent = None
    for spec in specs:
        goal = Goal(
            name=spec.name,
            team=spec.team,
            owner=owners[spec.role],
            metric=spec.metric,
            scope_tiers=sorted(plan.tiers or []),
            scope_playbook_id=plan.playbook_id,
            target=spec.target,
            start_date=plan.start_date,
            end_date=plan.end_date,
            parent=parent,
        )
        saved = goal_save(goal=goal, milestones=spec.milestones, by=by)
        parent = parent or saved
    locked.goal = parent
    locked.save(update_fields=["goal"])
    plan.goal = parent
    return parent
