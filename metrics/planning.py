"""The planner's service (issue #18): load what a user may see, measure the rates, plan backwards.

``preview_plan`` is what pages, the API and saved plans call: the plan and the rates, channel costs
and pool it rests on, for the pages and the API to show (metrics/planning_output.py ``plan_json``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd
from django.conf import settings
from django.utils import timezone

from metrics.engine.compute.planning import (
    STEPS,
    Assumptions,
    ChannelCost,
    Plan,
    PlanInputError,
    StageRates,
    assumptions_from,
    plan_backwards,
    rates_for_scope,
)
from metrics.planning_inputs import load_plan_data

__all__ = ["PlanInputError", "PlanPreview", "plan_months", "preview_plan"]


@dataclass(frozen=True)
class PlanPreview:
    plan: Plan
    rates: StageRates  # as measured, before any override
    costs: list[ChannelCost]
    pool: dict[str, int]
    measured: Assumptions  # the assumptions the rates give, before any override


def plan_months(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every month the period touches, start and end included."""
    if start > end:
        raise PlanInputError("The period must start before it ends.")
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def apply_overrides(assumptions: Assumptions, overrides: dict | None) -> Assumptions:
    """``overrides``: any of conversion {step: rate}, lag_days {step: days}, deal_size,
    channel_mix {channel: share}; a given mix replaces the measured one whole."""
    if not overrides:
        return assumptions
    unknown = set(overrides.get("conversion", {})) | set(overrides.get("lag_days", {}))
    if unknown - set(STEPS):
        raise PlanInputError(f"Unknown step: {', '.join(sorted(unknown - set(STEPS)))}.")
    return replace(
        assumptions,
        conversion=assumptions.conversion | dict(overrides.get("conversion") or {}),
        lag_days=assumptions.lag_days | dict(overrides.get("lag_days") or {}),
        deal_size=float(overrides.get("deal_size") or assumptions.deal_size),
        channel_mix=dict(overrides.get("channel_mix") or assumptions.channel_mix),
    )


def preview_plan(
    *,
    user,
    target: float,
    kind: str,
    start: dt.date,
    end: dt.date,
    tiers: tuple[int, ...],
    playbook=None,
    model: str,
    overrides: dict | None = None,
    today: dt.date | None = None,
) -> PlanPreview:
    months = plan_months(start, end)
    tiers = tuple(sorted(set(tiers)))
    data = load_plan_data(user, tiers=tiers, playbook=playbook, model=model, today=today)
    rates = rates_for_scope(
        data.journeys,
        tiers=tiers,
        playbook_id=playbook.pk if playbook is not None else None,
        min_accounts=settings.ABM_PLAN_MIN_ACCOUNTS,
        draws=settings.ABM_PLAN_RESAMPLES,
        seed=settings.ABM_PLAN_SEED,
        # The end of today (naive UTC, as the journeys): who has had the time to convert.
        as_of=pd.Timestamp(today or timezone.now().date()) + pd.Timedelta(days=1),
    )
    measured = assumptions_from(rates, data.costs)
    plan = plan_backwards(
        target=float(target),
        kind=kind,
        months=months,
        assumptions=apply_overrides(measured, overrides),
        costs=data.costs,
        pool=data.pool,
        rates=rates,
        draws=settings.ABM_PLAN_RESAMPLES,
        seed=settings.ABM_PLAN_SEED,
    )
    return PlanPreview(plan, rates, data.costs, data.pool, measured)
