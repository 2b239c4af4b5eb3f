"""Where a plan's period will end (plan vs actual, issue #18): the run rate at the top of the
funnel, and below it the accounts already on their way (in flight) as well as those still to come,
each converting only if its lag lets it land before the period ends.

For a step ``a -> b`` with conversion rate ``r`` and lag distribution ``F`` (the share of
converters that made the step within ``x`` days):

- an account that reached ``a`` ``age`` days ago and not ``b`` converts by the period's end
  (``R`` days away) with probability ``r (F(age + R) - F(age)) / (1 - r F(age))``: it has not
  converted so far, which makes a late conversion likelier and an early one impossible. A deal
  open for a year adds almost nothing; one opened yesterday adds nearly ``r``.
- the ``n`` accounts still to reach ``a`` arrive evenly over the ``R`` days and convert in the
  time left after their arrival: ``n r (1/R) int_0^R F(u) du``.

``F`` is the step's measured lags when at least ``min_lags`` converters are behind it, else a
lag halving every assumed median (the plan's lag assumption): ``F(x) = 1 - 2^(-x / median)``.
Without a ``Pipeline`` every account still to come converts and none in flight is counted (the
forecast before lags were known to it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.engine.compute.planning.plan import OUTCOME_STAGE, Plan, PlanInputError
from metrics.engine.compute.planning.rates import (
    MATURE_Q,
    PLAN_STAGES,
    STEPS,
    Estimate,
    StageRates,
)

_DAY_S = 86_400.0


@dataclass(frozen=True)
class Pipeline:
    """The scope's accounts as they stand today. Per step (``"mqa->opportunity"``, say):
    ``waiting``, the days since each account reached the step's first stage without reaching the
    second; ``lags``, the days each account that made the step took (of the cohorts that have
    had the time: ``pipeline_from_journeys``)."""

    waiting: dict[str, np.ndarray]
    lags: dict[str, np.ndarray]
    remaining_days: float  # from now to the end of the period


def pipeline_from_journeys(
    journeys: pd.DataFrame, now: pd.Timestamp, end: pd.Timestamp
) -> Pipeline:
    """``journeys``: one row per account with naive UTC ``{stage}_at`` columns (the planner's);
    ``now`` and ``end`` (the period's exclusive end), naive UTC."""
    waiting, lags = {}, {}
    for step in STEPS:
        before, after = step.split("->")
        first, second = journeys[f"{before}_at"], journeys[f"{after}_at"]
        reached = first.notna() & (first <= now)
        open_ = reached & (second.isna() | (second > now))
        waiting[step] = ((now - first[open_]).dt.total_seconds() / _DAY_S).to_numpy(float)
        made = reached & second.notna() & (second <= now)
        lag = np.clip((second - first).dt.total_seconds().to_numpy(float) / _DAY_S, 0.0, None)
        # Right-censoring: an account that reached ``before`` lately has shown only its short
        # lags. Count the cohorts that have had the step's 90th-percentile lag (as the rates do).
        wait = np.percentile(lag[made.to_numpy()], MATURE_Q) if made.any() else 0.0
        mature = made & (first <= now - pd.Timedelta(days=float(wait)))
        lags[step] = np.sort(lag[mature.to_numpy()])
    remaining = max(0.0, (end - now).total_seconds() / _DAY_S)
    return Pipeline(waiting=waiting, lags=lags, remaining_days=remaining)


def forecast(
    *,
    actual_by_stage: dict[str, float],
    plan: Plan,
    elapsed_share: float,
    rates_since: StageRates | None,
    pipeline: Pipeline | None = None,
    min_lags: int = 10,
) -> dict[str, Estimate]:
    """Where the period will end: engaged accounts at today's run rate (actual / elapsed share),
    then each later stage = its actual + the conversions still to come (above) at the rate
    measured since the plan (the plan's assumption where none was measured), its range from that
    rate's range and from the range of the median lag measured since the plan (every lag
    stretched by its end over the median: slower for the low end, faster for the high). Also
    the outcome's value under the plan's kind: the actual money (when ``actual_by_stage`` has
    it) plus what is still to come at the plan's deal size."""
    if not 0 < elapsed_share <= 1:
        raise PlanInputError("The share of the period elapsed must be above 0 and at most 1.")
    got = {s: float(actual_by_stage.get(s, 0.0)) for s in PLAN_STAGES}
    out = {"targeted": Estimate.exact(got["targeted"])}
    run = got["engaged"] / elapsed_share
    out["engaged"] = Estimate.exact(run)
    ahead = {"point": run, "low": run, "high": run}
    for step in STEPS[1:]:
        before, after = step.split("->")
        rates = dict.fromkeys(ahead, plan.assumptions.conversion[step])
        est = rates_since.conversion.get(step) if rates_since else None
        if est is not None and math.isfinite(est.value):
            rates = {"point": est.value, "low": est.low, "high": est.high}
        coming = {k: max(0.0, v - got[before]) for k, v in ahead.items()}
        if pipeline is None:
            ahead = {k: got[after] + coming[k] * rates[k] for k in ahead}
        else:
            median = plan.assumptions.lag_days.get(step, 0.0)
            lags = _lags(pipeline.lags.get(step), median, min_lags)
            stretch = _lag_stretch(rates_since.lag_days.get(step) if rates_since else None)
            remaining = pipeline.remaining_days
            ahead = {}
            for k, before_count in coming.items():
                lag = lags.stretched(stretch[k])
                ahead[k] = (
                    got[after]
                    + _in_flight(pipeline.waiting.get(step), rates[k], lag, remaining)
                    + before_count * rates[k] * lag.landing(remaining)
                )
        point = ahead["point"]
        out[after] = Estimate(point, min(ahead["low"], point), max(ahead["high"], point), 0)
    outcome, deal = out[OUTCOME_STAGE[plan.kind]], plan.assumptions.deal_size
    so_far = got[OUTCOME_STAGE[plan.kind]]
    money = actual_by_stage.get(plan.kind)
    base = so_far * deal if money is None else float(money)
    out[plan.kind] = Estimate(
        *(base + max(0.0, v - so_far) * deal for v in (outcome.value, outcome.low, outcome.high)),
        0,
    )
    return out


@dataclass(frozen=True)
class _Lags:
    """A step's lag distribution: measured lags, or else halving every ``median`` days."""

    measured: np.ndarray | None
    median: float

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.measured is not None:
            return np.searchsorted(self.measured, x, side="right") / len(self.measured)
        if not self.median > 0:
            return (x >= 0).astype(float)
        return 1.0 - np.exp2(-x / self.median)

    def stretched(self, factor: float) -> _Lags:
        """The same distribution with every lag ``factor`` times as long."""
        if factor == 1.0:
            return self
        measured = None if self.measured is None else self.measured * factor
        return _Lags(measured, self.median * factor)

    def landing(self, remaining: float) -> float:
        """(1/R) int_0^R F(u) du: the share of converters arriving evenly over the ``R`` days
        left that also make the step in time."""
        if remaining <= 0:
            return 0.0
        if self.measured is not None:
            return float(np.mean(np.clip(remaining - self.measured, 0.0, None)) / remaining)
        if not self.median > 0:
            return 1.0
        m = self.median / math.log(2)
        return 1.0 - m / remaining * (1.0 - math.exp(-remaining / m))


def _lag_stretch(lag: Estimate | None) -> dict[str, float]:
    """How much slower (low) or faster (high) the lags run at the ends of the measured median
    lag's range: the low forecast takes the low rate and the slow lags, the high the other two."""
    same = {"point": 1.0, "low": 1.0, "high": 1.0}
    if lag is None or not lag.value > 0 or not (math.isfinite(lag.low) and math.isfinite(lag.high)):
        return same
    return {"point": 1.0, "low": max(lag.high, lag.value) / lag.value, "high": lag.low / lag.value}


def _lags(measured, median: float, min_lags: int) -> _Lags:
    if measured is not None and len(measured) >= min_lags:
        return _Lags(np.sort(np.asarray(measured, dtype=float)), median)
    return _Lags(None, median)


def _in_flight(ages, rate: float, lags: _Lags, remaining: float) -> float:
    if ages is None or not len(ages) or remaining <= 0 or rate <= 0:
        return 0.0
    ages = np.asarray(ages, dtype=float)
    so_far = lags.cdf(ages)
    left = np.clip(1.0 - rate * so_far, 1e-12, None)
    return float(np.sum(rate * (lags.cdf(ages + remaining) - so_far) / left))
