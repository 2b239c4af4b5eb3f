"""Plan vs actual on the director dashboard (issue #18): for the newest saved plan whose period
covers today (or the one chosen), each stage's actual so far against the plan's milestone to
date, the first stage that slips, and where the period will end (compute ``forecast``).

- Actual: engaged and MQA accounts and opportunities created as the goals count them
  (goals/progress.py ``metric_value``), won deals = accounts with a closed_won deal, all since the
  plan's start over its tiers and playbook, today included.
- Due by today: the plan's by-month counts (months before the period due in its first month, as
  for its goals) summed over the months passed, plus the current month pro rata by days.
- Forecast: compute ``forecast`` with the conversion rates of the scope's accounts that moved
  (reached any stage) since the plan's start; the plan's own rates where those are too few.
- A stage slips when its actual is below the on-track share (ABM_GOAL_ON_TRACK_SHARE) of what is
  due; the first in funnel order is named.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.conf import settings
from django.urls import reverse

from abm.lib.formats import money
from goals.loading import load_goal_data
from goals.models import Plan
from goals.plan_display import STAGE_LABELS, count
from goals.plan_goals import month_end, stage_by_month
from goals.plans import plans_visible_to
from goals.progress import Scope, metric_value, period_bounds, scope_accounts
from metrics.engine.compute.planning import PLAN_STAGES, StageRates, forecast, rates_for_scope
from metrics.planning_inputs import load_journeys
from metrics.planning_output import plan_from_json

ROW_STAGES = ("engaged", "mqa", "opportunity", "won")
_STAGE_METRICS = {
    "engaged": "engaged_accounts",
    "mqa": "mqa_accounts",
    "opportunity": "opportunities_created",
}


def chosen_plan(user, *, plan_id: str | None, today: dt.date) -> Plan | None:
    plans = plans_visible_to(user)
    if plan_id and plan_id.isdigit() and len(plan_id) < 12:
        return plans.filter(pk=int(plan_id)).first()
    return (
        plans.filter(start_date__lte=today, end_date__gte=today)
        .order_by("-created_at", "-pk")
        .first()
    )


def due_by(result: dict, stage: str, start: dt.date, end: dt.date, today: dt.date) -> float:
    """What the plan wants reached in ``stage`` from its start to the end of ``today``."""
    counts = stage_by_month(result, stage, start, end)
    due, month = 0.0, start.replace(day=1)
    for value in counts:
        last = min(month_end(month), end)
        first = max(month, start)
        if today >= last:
            due += value
        elif today >= first:
            due += value * ((today - first).days + 1) / ((last - first).days + 1)
        month = month_end(month) + dt.timedelta(days=1)
    return due


def actual_by_stage(plan: Plan, *, now: dt.datetime) -> dict[str, float]:
    data = load_goal_data(
        since=plan.start_date,
        until=now,
        playbook_ids=[plan.playbook_id] if plan.playbook_id else None,
    )
    accounts = scope_accounts(
        data, Scope(tiers=tuple(plan.tiers or ()), playbook_id=plan.playbook_id)
    )
    actual = {"targeted": float(len(accounts))}
    for stage, metric in _STAGE_METRICS.items():
        actual[stage] = metric_value(
            data,
            metric=metric,
            accounts=accounts,
            start=plan.start_date,
            end=plan.end_date,
            as_of=now,
        )
    lo, hi = period_bounds(plan.start_date, plan.end_date)
    deals = data.opportunities
    won = deals.loc[
        (deals["stage"] == "closed_won")
        & deals["account_id"].isin(accounts)
        & (deals["closed_at"] >= lo)
        & (deals["closed_at"] < hi)
        & (deals["closed_at"] <= pd.Timestamp(now))
    ]
    actual["won"] = float(won["account_id"].nunique())
    outcome_metric = "revenue_won" if plan.kind == "revenue" else "pipeline_created"
    actual[plan.kind] = metric_value(
        data,
        metric=outcome_metric,
        accounts=accounts,
        start=plan.start_date,
        end=plan.end_date,
        as_of=now,
    )
    return actual


def rates_since(user, plan: Plan) -> StageRates | None:
    journeys = load_journeys(user, playbook=plan.playbook)
    columns = [f"{stage}_at" for stage in PLAN_STAGES if f"{stage}_at" in journeys]
    if not len(journeys) or not columns:
        return None
    moved = journeys[journeys[columns].max(axis=1) >= pd.Timestamp(plan.start_date)]
    if not len(moved):
        return None
    return rates_for_scope(
        moved,
        tiers=tuple(plan.tiers or (1, 2, 3)),
        playbook_id=plan.playbook_id,
        min_accounts=settings.ABM_PLAN_MIN_ACCOUNTS,
        draws=settings.ABM_PLAN_RESAMPLES,
        seed=settings.ABM_PLAN_SEED,
    )


def plan_vs_actual(user, *, plan_id: str | None, now: dt.datetime) -> dict | None:
    today = now.date()
    plan = chosen_plan(user, plan_id=plan_id, today=today)
    if plan is None:
        return None
    result = plan.result or {}
    actual = actual_by_stage(plan, now=now)
    share = settings.ABM_GOAL_ON_TRACK_SHARE
    rows = []
    for stage in ROW_STAGES:
        due = due_by(result, stage, plan.start_date, plan.end_date, today)
        got = actual.get(stage) or 0.0
        rows.append(
            {
                "stage": stage,
                "label": STAGE_LABELS[stage],
                "actual": f"{got:,.0f}",
                "due": count(due),
                "slipping": due > 0 and got < share * due,
            }
        )
    started = plan.start_date <= today
    elapsed = ((min(today, plan.end_date) - plan.start_date).days + 1) / (
        (plan.end_date - plan.start_date).days + 1
    )
    projection = None
    if started and elapsed > 0:
        ends = forecast(
            actual_by_stage=actual,
            plan=plan_from_json(result),
            elapsed_share=min(1.0, elapsed),
            rates_since=rates_since(user, plan),
        )
        outcome = ends.get(plan.kind)
        if outcome is not None:
            projection = {
                "value": money(outcome.value),
                "low": money(outcome.low),
                "high": money(outcome.high),
                "short": outcome.value < float(plan.target),
            }
    return {
        "plan": plan,
        "url": reverse("plans:plan_detail", args=[plan.pk]),
        "rows": rows,
        "slipping": next((row for row in rows if row["slipping"]), None),
        "outcome": money(actual.get(plan.kind)),
        "target": money(plan.target),
        "forecast": projection,
        "elapsed": elapsed,
        "others": list(
            plans_visible_to(user).values_list("pk", "name").order_by("-created_at", "-pk")[:20]
        ),
    }
