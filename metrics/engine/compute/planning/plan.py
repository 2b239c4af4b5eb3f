"""The reverse funnel: from a revenue or pipeline target back to the accounts, stage milestones by
month, budget by channel and account gap it takes; and forwards again (the period-end forecast:
forecast.py).

Ranges come from the bootstrap draws of the rates (StageRates.samples), rescaled so that an edited
assumption keeps the relative uncertainty of the figure it replaces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from metrics.engine.compute.planning.rates import (
    HIGH_Q,
    LOW_Q,
    PLAN_STAGES,
    STEPS,
    Estimate,
    StageRates,
)

KINDS = ("revenue", "pipeline")
OUTCOME_STAGE = {"revenue": "won", "pipeline": "opportunity"}  # the stage a kind counts
_Z80 = 1.2815515655446004  # a normal's 90th percentile, for figures known only by their interval


class PlanInputError(ValueError):
    """An assumption or input the plan cannot rest on; the message is for the user."""


@dataclass(frozen=True)
class ChannelCost:
    channel: str
    spend: float
    engaged: float  # attributed counts and revenue under the chosen model
    mqa: float
    opportunities: float
    won_revenue: float

    def _per(self, count: float) -> float | None:
        return self.spend / count if count else None

    @property
    def cost_per_engaged(self) -> float | None:
        return self._per(self.engaged)

    @property
    def cost_per_mqa(self) -> float | None:
        return self._per(self.mqa)

    @property
    def cost_per_opportunity(self) -> float | None:
        return self._per(self.opportunities)

    @property
    def return_per_dollar(self) -> float | None:
        return self.won_revenue / self.spend if self.spend else None


@dataclass(frozen=True)
class Assumptions:
    conversion: dict[str, float]  # keys STEPS, 0 < r <= 1
    lag_days: dict[str, float]
    deal_size: float
    channel_mix: dict[str, float]  # shares of the opportunities needed, summing to 1


@dataclass(frozen=True)
class PlanMonth:
    month: date
    counts: dict[str, float]  # per stage: how many must reach it in that month


@dataclass(frozen=True)
class BudgetLine:
    channel: str
    amount: Estimate
    cost_per_opportunity: float | None
    return_per_dollar: float | None


@dataclass(frozen=True)
class Plan:
    needed: dict[str, Estimate]  # per PLAN_STAGES
    by_month: list[PlanMonth]
    budget: list[BudgetLine]  # best marginal return first
    total_budget: Estimate
    gap: dict[str, int]
    assumptions: Assumptions
    kind: str = "revenue"
    target: float = 0.0


def assumptions_from(rates: StageRates, costs: list[ChannelCost]) -> Assumptions:
    """The measured rates as assumptions; the mix is each channel's share of attributed
    opportunities (channels with none get no share)."""
    total = sum(c.opportunities for c in costs if c.opportunities > 0)
    mix = {c.channel: c.opportunities / total for c in costs if total and c.opportunities > 0}
    return Assumptions(
        conversion={s: rates.conversion[s].value for s in STEPS},
        lag_days={s: rates.lag_days[s].value for s in STEPS},
        deal_size=rates.deal_size.value,
        channel_mix=mix,
    )


def check_assumptions(assumptions: Assumptions, costs: list[ChannelCost]) -> None:
    for step in STEPS:
        rate = assumptions.conversion.get(step)
        if rate is None or not math.isfinite(rate):
            raise PlanInputError(
                f"There is no history to measure the {step} conversion rate: set it by hand."
            )
        if not 0 < rate <= 1:
            raise PlanInputError(f"The {step} conversion rate must be above 0 % and at most 100 %.")
        lag = assumptions.lag_days.get(step)
        if lag is None or not math.isfinite(lag) or lag < 0:
            raise PlanInputError(f"The {step} lag must be a number of days, 0 or more.")
    if not math.isfinite(assumptions.deal_size) or assumptions.deal_size <= 0:
        raise PlanInputError("There is no won deal to measure the deal size from: set it by hand.")
    shares = assumptions.channel_mix
    if any(v < 0 for v in shares.values()):
        raise PlanInputError("A channel's share of the mix cannot be negative.")
    if shares and abs(sum(shares.values()) - 1) > 1e-6:
        raise PlanInputError("The channel mix must add up to 100 %.")
    priced = {c.channel for c in costs if c.cost_per_opportunity is not None}
    for channel, share in shares.items():
        if share > 0 and channel not in priced:
            raise PlanInputError(
                f"{channel} has no attributed opportunity, so no cost per opportunity to plan "
                "its budget from: give it no share of the mix."
            )


def _figure_draws(
    key: str,
    point: float,
    est: Estimate | None,
    rates: StageRates | None,
    pick: np.ndarray | None,
    rng: np.random.Generator,
    draws: int,
) -> np.ndarray:
    if rates is None or est is None or not math.isfinite(est.value) or est.value <= 0:
        return np.full(draws, point)
    sample = rates.samples.get(key)
    scale = point / est.value
    if sample is not None and sample.size and pick is not None:
        out = sample[pick % sample.size] * scale
        return np.where(np.isfinite(out), out, point)
    sd = (est.high - est.low) / (2 * _Z80)
    return point + rng.standard_normal(draws) * sd * scale


def _funnel(target: float, kind: str, conv: list, deal) -> dict[str, object]:
    """Counts per stage for the target; conv and deal may be floats or arrays of draws."""
    c1, c2, c3, c4 = conv
    if kind == "revenue":
        won = target / deal
        opp = won / c4
    else:
        opp = target / deal
        won = opp * c4
    mqa = opp / c3
    engaged = mqa / c2
    return {
        "targeted": engaged / c1,
        "engaged": engaged,
        "mqa": mqa,
        "opportunity": opp,
        "won": won,
    }


def _estimate(point: float, draws: np.ndarray, accounts: int, fallback: bool) -> Estimate:
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return Estimate(point, point, point, accounts, fallback)
    low, high = np.percentile(finite, [LOW_Q, HIGH_Q])
    return Estimate(point, float(min(low, point)), float(max(high, point)), accounts, fallback)


def _month_days(month: date) -> tuple[np.datetime64, np.datetime64]:
    start = np.datetime64(month.replace(day=1), "M")
    return start.astype("datetime64[D]"), (start + 1).astype("datetime64[D]")


def _by_month(needed: dict[str, float], months: list[date], lags: dict[str, float], outcome: str):
    """Spread each stage's count evenly over the period's months and uniformly within a month,
    shift it by the summed lags between that stage and the outcome stage, and bucket by month."""
    o = PLAN_STAGES.index(outcome)
    offsets = {}
    for i, stage in enumerate(PLAN_STAGES):
        between = STEPS[min(i, o) : max(i, o)]
        total = sum(lags[s] for s in between)
        offsets[stage] = -total if i < o else total
    spans = [_month_days(m) for m in months]
    first = min(s for s, _ in spans) + int(math.floor(min(offsets.values())))
    last = max(e for _, e in spans) + int(math.ceil(max(offsets.values())))
    cal, cursor = [], first.astype("datetime64[M]")
    while cursor.astype("datetime64[D]") < last:
        cal.append(cursor)
        cursor = cursor + 1
    cal_start = np.array([c.astype("datetime64[D]") for c in cal]).astype(np.int64).astype(float)
    cal_end = (
        np.array([(c + 1).astype("datetime64[D]") for c in cal]).astype(np.int64).astype(float)
    )
    counts = {stage: np.zeros(len(cal)) for stage in PLAN_STAGES}
    for start, end in spans:
        s, e = float(start.astype(np.int64)), float(end.astype(np.int64))
        for stage in PLAN_STAGES:
            lo, hi = s + offsets[stage], e + offsets[stage]
            overlap = np.clip(np.minimum(hi, cal_end) - np.maximum(lo, cal_start), 0, None)
            counts[stage] += needed[stage] / len(months) * overlap / (e - s)
    rows = []
    for k, month in enumerate(cal):
        row = {stage: float(counts[stage][k]) for stage in PLAN_STAGES}
        if any(v > 1e-9 for v in row.values()):
            rows.append(PlanMonth(month.astype(object), row))
    return rows


def plan_backwards(
    *,
    target: float,
    kind: str,
    months: list[date],
    assumptions: Assumptions,
    costs: list[ChannelCost],
    pool: dict[str, int],
    rates: StageRates | None = None,
    draws: int = 400,
    seed: int = 0,
) -> Plan:
    if kind not in KINDS:
        raise PlanInputError(f"The target must be revenue or pipeline, not {kind!r}.")
    if not target > 0:
        raise PlanInputError("The target must be above 0.")
    if not months:
        raise PlanInputError("The period must cover at least one month.")
    check_assumptions(assumptions, costs)
    a = assumptions
    rng = np.random.default_rng(seed)
    pick = None
    if rates is not None and rates.samples:
        size = max(v.size for v in rates.samples.values())
        pick = rng.integers(0, size, draws)
    conv_draws = [
        np.clip(
            _figure_draws(
                f"conv:{s}", a.conversion[s], rates and rates.conversion[s], rates, pick, rng, draws
            ),
            1e-9,
            1.0,
        )
        for s in STEPS
    ]
    deal_draws = np.clip(
        _figure_draws("deal_size", a.deal_size, rates and rates.deal_size, rates, pick, rng, draws),
        1e-9,
        None,
    )
    point = _funnel(target, kind, [a.conversion[s] for s in STEPS], a.deal_size)
    drawn = _funnel(target, kind, conv_draws, deal_draws)

    figures = [] if rates is None else [*rates.conversion.values(), rates.deal_size]
    accounts = min((f.accounts for f in figures), default=0)
    fallback = any(f.fallback for f in figures)
    needed = {
        s: _estimate(float(point[s]), np.asarray(drawn[s]), accounts, fallback) for s in PLAN_STAGES
    }

    by_cost = {c.channel: c for c in costs}
    lines, total_point, total_draws = [], 0.0, np.zeros(draws)
    for channel, share in a.channel_mix.items():
        if share <= 0:
            continue
        cost = by_cost[channel]
        cpo = cost.cost_per_opportunity
        amount_point = point["opportunity"] * share * cpo
        amount_draws = np.asarray(drawn["opportunity"]) * share * cpo
        total_point += amount_point
        total_draws = total_draws + amount_draws
        lines.append(
            BudgetLine(
                channel,
                _estimate(float(amount_point), amount_draws, accounts, fallback),
                cpo,
                cost.return_per_dollar,
            )
        )
    lines.sort(key=lambda b: (b.return_per_dollar is None, -(b.return_per_dollar or 0), b.channel))

    gap = {
        s: max(0, math.ceil(round(point[s], 6)) - int(pool[s])) for s in PLAN_STAGES if s in pool
    }
    return Plan(
        needed=needed,
        by_month=_by_month(point, months, a.lag_days, OUTCOME_STAGE[kind]),
        budget=lines,
        total_budget=_estimate(float(total_point), total_draws, accounts, fallback),
        gap=gap,
        assumptions=a,
        kind=kind,
        target=float(target),
    )


def plan_forwards(*, accounts: float, assumptions: Assumptions, kind: str) -> dict[str, float]:
    """What ``accounts`` targets turn into at the assumed rates: a count per stage, and under
    ``kind`` the revenue won (won x deal size) or pipeline (opportunities x deal size)."""
    if kind not in KINDS:
        raise PlanInputError(f"The target must be revenue or pipeline, not {kind!r}.")
    out = {"targeted": float(accounts)}
    for step, (before, after) in zip(
        STEPS, zip(PLAN_STAGES, PLAN_STAGES[1:], strict=False), strict=True
    ):
        out[after] = out[before] * assumptions.conversion[step]
    out[kind] = out[OUTCOME_STAGE[kind]] * assumptions.deal_size
    return out
