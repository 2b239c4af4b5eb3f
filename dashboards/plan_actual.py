"""Plan vs actual on the director dashboard (issue #18): for the newest saved plan whose period
covers today (or the one chosen), each stage's actual so far against the plan's milestone to
date, the first stage that slips, and where the period will end (compute ``forecast``).

- Actual: the accounts of the plan's tiers (and playbook) that first reached each stage since the
  plan's start, today included, counted as the plan counts them: from the planner's journeys
  (metrics/planning_inputs.py), a skipped stage passed on the date of the next one reached. The
  outcome: revenue won (closed_won amounts by close date), or pipeline created, since the start.
- Due by today: the plan's by-month counts (months before the period due in its first month, as
  for its goals) summed over the months passed, plus the current month pro rata by days.
- Forecast: compute ``forecast`` with the conversion rates of the scope's accounts that moved
  (reached any stage) since the plan's start (the plan's own rates where those are too few), and
  the scope's pipeline as it stands: the accounts on their way to each next stage and the lags
  of those that made it (compute/planning/forecast.py), so open deals count by their age.
- A stage slips when its actual is below the on-track share (ABM_GOAL_ON_TRACK_SHARE) of what is
  due; the first in funnel order is named.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pandas as pd
from django.conf import settings
from django.db.models import Sum
from django.urls import reverse

from abm.lib.formats import money
from accounts.models import OpportunityStage
from accounts.visibility import opportunities_visible_to
from dashboards.figure_cache import cached_value
from goals.models import Plan
from goals.plan_display import STAGE_LABELS, count
from goals.plan_goals import month_end, stage_by_month
from goals.plans import plans_visible_to
from goals.progress import period_bounds
from metrics.engine.compute.planning import (
    Estimate,
    Pipeline,
    StageRates,
    forecast,
    pipeline_from_journeys,
    rates_for_scope,
)
from metrics.planning_inputs import load_journeys
from metrics.planning_output import plan_from_json, preview_from_json
from playbooks.models import EnrolmentStatus
from playbooks.visibility import enrolments_visible_to

ROW_STAGES = ("engaged", "mqa", "opportunity", "won")


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


def scope_journeys(journeys: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The planner's journeys of the plan's scope: its tiers, and its playbook's enrolled
    accounts when it names one (one row per account)."""
    tiers = list(plan.tiers or (1, 2, 3))
    in_tiers = journeys[journeys["tier"].isin(tiers)]
    if plan.playbook_id:
        return in_tiers[in_tiers["playbook_id"] == float(plan.playbook_id)]
    return in_tiers.drop_duplicates("account_id")


def actual_by_stage(user, plan: Plan, journeys: pd.DataFrame, *, now: dt.datetime) -> dict:
    """Per stage, the accounts in scope that first reached it since the plan's start, counted as
    the plan counts them (a skipped stage is passed); the targets in scope; and the outcome's
    money (revenue won, or pipeline created) since the start."""
    scope = scope_journeys(journeys, plan)
    lo, hi = period_bounds(plan.start_date, plan.end_date)  # UTC
    until = min(hi, pd.Timestamp(now).tz_convert("UTC") + pd.Timedelta(1))  # now included
    # The journeys' dates are naive UTC.
    naive_lo, naive_until = lo.tz_localize(None), until.tz_localize(None)
    actual = {"targeted": float(len(scope))}
    for stage in ROW_STAGES:
        at = scope[f"{stage}_at"]
        actual[stage] = float(((at >= naive_lo) & (at < naive_until)).sum())
    # The same accounts as the journeys' scope, in SQL (no list of ids).
    deals = opportunities_visible_to(user).filter(account__tier__in=list(plan.tiers or (1, 2, 3)))
    if plan.playbook_id:
        enrolled = (
            enrolments_visible_to(user)
            .filter(playbook_id=plan.playbook_id)
            .exclude(status=EnrolmentStatus.HOLDOUT)
        )
        deals = deals.filter(account__in=enrolled.values("account_id"))
    if plan.kind == "revenue":
        deals = deals.filter(
            stage=OpportunityStage.CLOSED_WON, closed_at__gte=lo, closed_at__lt=until
        )
    else:
        deals = deals.filter(created_at__gte=lo, created_at__lt=until)
    actual[plan.kind] = float(deals.aggregate(total=Sum("amount"))["total"] or 0)
    return actual


def pipeline_now(plan: Plan, journeys: pd.DataFrame, *, now: dt.datetime) -> Pipeline:
    """The scope's accounts on their way to each next stage as of ``now``, and the period's
    days left (the journeys' dates are naive UTC)."""
    _, hi = period_bounds(plan.start_date, plan.end_date)
    at = pd.Timestamp(now).tz_convert("UTC").tz_localize(None)
    return pipeline_from_journeys(scope_journeys(journeys, plan), at, hi.tz_localize(None))


def rates_since(plan: Plan, journeys: pd.DataFrame, *, now: dt.datetime) -> StageRates | None:
    """The conversion rates of the cohorts since the plan's start: for each step, the accounts of
    the scope that reached its first stage since then and have had the time to make it. A rate
    fewer than ``ABM_PLAN_MIN_ACCOUNTS`` accounts carry, even over every tier, is left out (the
    forecast then takes the plan's own); so is such a median lag's range."""
    if not len(journeys):
        return None
    rates = rates_for_scope(
        journeys,
        tiers=tuple(plan.tiers or (1, 2, 3)),
        playbook_id=plan.playbook_id,
        min_accounts=settings.ABM_PLAN_MIN_ACCOUNTS,
        draws=settings.ABM_PLAN_RESAMPLES,
        seed=settings.ABM_PLAN_SEED,
        as_of=pd.Timestamp(now).tz_convert("UTC").tz_localize(None),
        since=pd.Timestamp(plan.start_date),
    )
    saved = preview_from_json(plan.result or {})
    enough = settings.ABM_PLAN_MIN_ACCOUNTS
    conversion, lags = {}, {}
    for step, est in rates.conversion.items():
        if est.accounts >= enough and math.isfinite(est.value):
            conversion[step] = est
        else:
            conversion[step] = _as_planned(saved.plan.assumptions.conversion[step], saved, step)
    for step, est in rates.lag_days.items():
        # A thin median lag's range says little: the forecast then keeps the lags as they are.
        thin = est.accounts < enough
        lags[step] = Estimate.exact(est.value, est.accounts) if thin else est
    return replace(rates, conversion=conversion, lag_days=lags)


def _as_planned(rate: float, saved, step: str) -> Estimate:
    """The plan's own rate with the relative range of the rate measured when it was made."""
    measured = saved.rates.conversion.get(step)
    if measured is None or not measured.value > 0 or not math.isfinite(measured.low):
        return Estimate.exact(rate)
    low, high = rate * measured.low / measured.value, rate * measured.high / measured.value
    return Estimate(rate, min(low, rate), min(max(high, rate), 1.0), measured.accounts)


def plan_vs_actual(user, *, plan_id: str | None, now: dt.datetime) -> dict | None:
    """The panel's figures, kept (dashboards/figure_cache.py) until the stored data, the day or
    the saved plans change: the journeys behind them are every target's history."""
    today = now.date()
    plan = chosen_plan(user, plan_id=plan_id, today=today)
    if plan is None:
        return None
    newest = plans_visible_to(user).order_by("-pk").values_list("pk", flat=True).first()
    return cached_value(
        "plan-vs-actual", lambda: plan_figures(user, plan, now), user, plan.pk, today, newest
    )


def plan_figures(user, plan: Plan, now: dt.datetime) -> dict:
    today = now.date()
    result = plan.result or {}
    journeys = load_journeys(user, playbook=plan.playbook)
    actual = actual_by_stage(user, plan, journeys, now=now)
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
            rates_since=rates_since(plan, journeys, now=now),
            pipeline=pipeline_now(plan, journeys, now=now),
            min_lags=settings.ABM_PLAN_MIN_ACCOUNTS,
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
