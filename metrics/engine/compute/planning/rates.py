"""Funnel rates from the workspace's own journeys, each with an 80 % bootstrap interval.

A journeys frame has one row per target account: account_id, tier, playbook_id, the first date the
account reached each of PLAN_STAGES (NaT = not reached; the loader fills a skipped stage with the
next reached stage's date, so a skipped stage counts as passed) and won_amount.

Intervals are the 10th..90th percentiles of a bootstrap over accounts. The conversion draws of one
group come from the same resamples (draw j of every step is one resample), so a plan built from
draw j uses one consistent funnel.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

PLAN_STAGES = ("targeted", "engaged", "mqa", "opportunity", "won")
STEPS = tuple(f"{a}->{b}" for a, b in zip(PLAN_STAGES, PLAN_STAGES[1:], strict=False))
LOW_Q, HIGH_Q = 10.0, 90.0  # the 80 % interval
MATURE_Q = 90.0  # a step's rate counts accounts that reached its first stage this lag ago
_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    accounts: int  # how many accounts the figure rests on
    fallback: bool = False  # thin data: the all-tier (or wider-scope) figure stands in

    @classmethod
    def exact(cls, value: float, accounts: int = 0) -> Estimate:
        return cls(float(value), float(value), float(value), accounts)


@dataclass(frozen=True)
class StageRates:
    conversion: dict[str, Estimate]  # keys STEPS
    lag_days: dict[str, Estimate]  # median days between a step's two stages
    deal_size: Estimate  # average won amount per won account
    # Bootstrap draws behind each figure ("conv:<step>", "lag:<step>", "deal_size"), paired by
    # index within one group; plan_backwards turns them into the plan's ranges.
    samples: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)


def _interval(point: float, draws: np.ndarray, accounts: int) -> Estimate:
    finite = draws[np.isfinite(draws)]
    if not np.isfinite(point) or finite.size == 0:
        return Estimate(float(point), float(point), float(point), accounts)
    low, high = np.percentile(finite, [LOW_Q, HIGH_Q])
    return Estimate(float(point), float(min(low, point)), float(max(high, point)), accounts)


def _resample_medians(values: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """The (lower) median of each of ``draws`` resamples with replacement of ``values``, without
    building the resamples: a resample's picks are floor(m * V) for uniform V, so its k-th smallest
    is the sorted value at floor(m * V_(k)), and V_(k) ~ Beta(k, m + 1 - k)."""
    m = values.size
    if not m:
        return np.full(draws, np.nan)
    k = (m + 1) // 2
    at = np.minimum((m * rng.beta(k, m + 1 - k, size=draws)).astype(np.int64), m - 1)
    return np.sort(values)[at]


def _resample_means(values: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    if not values.size:
        return np.full(draws, np.nan)
    return values[rng.integers(0, values.size, size=(draws, values.size))].mean(axis=1)


def _group_rates(
    frame: pd.DataFrame,
    draws: int,
    rng: np.random.Generator,
    as_of: pd.Timestamp | None = None,
    since: pd.Timestamp | None = None,
) -> StageRates:
    """The figures of one group of accounts. The conversion draws resample the accounts jointly:
    an account matters to them only through which stages it reached (and for which steps it has
    had time to convert), so a resample is a multinomial draw over those patterns (exact, and
    cheap at any size). Lags and deal size resample the accounts each rests on (those that
    reached both stages; the won ones).

    With ``as_of``, a step's rate counts only the accounts that reached its first stage at least
    the step's 90th-percentile lag before ``as_of`` (``_mature``): an account that got there last
    week has not had the time to convert that its cohort-mates had. With ``since``, only the
    accounts that reached a step's first stage from then on count in its rate (the cohort since
    a plan was made: those that reached the second stage since are not a cohort)."""
    n = len(frame)
    reached = np.column_stack([frame[f"{s}_at"].notna().to_numpy() for s in PLAN_STAGES])
    times = {
        s: frame[f"{s}_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64) for s in PLAN_STAGES
    }
    lag_days = {
        step: (times[b][rows] - times[a][rows]) / _DAY_NS
        for step, a, b, rows in (
            (step, a, b, reached[:, i] & reached[:, i + 1])
            for i, (step, a, b) in enumerate(zip(STEPS, PLAN_STAGES, PLAN_STAGES[1:], strict=False))
        )
    }
    mature = _mature(times, lag_days, n, as_of, since)
    bits = np.column_stack([reached, mature]).astype(np.int64)
    codes = bits @ (1 << np.arange(bits.shape[1]))
    patterns, counts = np.unique(codes, return_counts=True)
    if n:
        picked = rng.multinomial(n, counts / n, size=draws).astype(float)  # draws x patterns
    else:
        picked = np.zeros((draws, 0))
    conversion, lags, samples = {}, {}, {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, step in enumerate(STEPS):
            a_bit, b_bit, ripe_bit = 1 << i, 1 << (i + 1), 1 << (len(PLAN_STAGES) + i)
            at_a = ((patterns & a_bit) > 0) & ((patterns & ripe_bit) > 0)
            both = at_a & ((patterns & b_bit) > 0)
            base = int(counts[at_a].sum())
            point = counts[both].sum() / base if base else np.nan
            draw = picked[:, both].sum(axis=1) / picked[:, at_a].sum(axis=1)
            samples[f"conv:{step}"] = draw
            conversion[step] = _interval(point, draw, base)

            days = lag_days[step]
            lag_point = float(np.median(days)) if days.size else np.nan
            lag_draw = _resample_medians(days, draws, rng)
            samples[f"lag:{step}"] = lag_draw
            lags[step] = _interval(lag_point, lag_draw, int(days.size))

        won = reached[:, -1]
        amounts = frame["won_amount"].to_numpy(dtype=float)[won]
        deal_point = float(amounts.mean()) if amounts.size else np.nan
        deal_draw = _resample_means(amounts, draws, rng)
    samples["deal_size"] = deal_draw
    return StageRates(conversion, lags, _interval(deal_point, deal_draw, int(won.sum())), samples)


def _mature(times: dict, lag_days: dict, n: int, as_of, since) -> np.ndarray:
    """Per account and step: does it count in the step's rate? It has had the time to make the
    step (always, without ``as_of``) and reached the first stage from ``since`` on."""
    ripe = np.ones((n, len(STEPS)), dtype=bool)
    if since is not None:
        start = _ns(since)
        for i in range(len(STEPS)):
            ripe[:, i] = times[PLAN_STAGES[i]] >= start
    if as_of is None:
        return ripe
    now = _ns(as_of)
    for i, step in enumerate(STEPS):
        days = lag_days[step]
        wait = float(np.percentile(days, MATURE_Q)) if days.size else 0.0
        ripe[:, i] &= times[PLAN_STAGES[i]] <= now - int(wait * _DAY_NS)
    return ripe


def _ns(at) -> int:
    return int(pd.Timestamp(at).to_datetime64().astype("datetime64[ns]").astype(np.int64))


def fall_back(rates: StageRates, to: StageRates, *, min_accounts: int = 30) -> StageRates:
    """Each figure of ``rates`` resting on fewer than ``min_accounts`` accounts replaced by ``to``'s,
    marked fallback (with ``to``'s draws behind it)."""
    samples = dict(rates.samples)

    def pick(key: str, own: Estimate, wide: Estimate) -> Estimate:
        if own.accounts >= min_accounts and np.isfinite(own.value):
            return own
        if key in to.samples:
            samples[key] = to.samples[key]
        return replace(wide, fallback=True)

    conversion = {s: pick(f"conv:{s}", rates.conversion[s], to.conversion[s]) for s in STEPS}
    lags = {s: pick(f"lag:{s}", rates.lag_days[s], to.lag_days[s]) for s in STEPS}
    deal = pick("deal_size", rates.deal_size, to.deal_size)
    return StageRates(conversion, lags, deal, samples)


def estimate_rates(
    journeys: pd.DataFrame,
    *,
    min_accounts: int = 30,
    draws: int = 400,
    seed: int = 0,
    as_of: pd.Timestamp | None = None,
) -> dict[int | None, StageRates]:
    """Rates for all tiers together (key None) and per tier 1..3, each tier figure falling back
    to the all-tier one when fewer than ``min_accounts`` accounts rest on it.

    ``journeys`` has one row per account (see rates_for_scope for per-playbook rates)."""
    rng = np.random.default_rng(seed)
    overall = _group_rates(journeys, draws, rng, as_of)
    out: dict[int | None, StageRates] = {None: overall}
    tiers = journeys["tier"].to_numpy()
    for tier in (1, 2, 3):
        own = _group_rates(journeys[tiers == tier], draws, rng, as_of)
        out[tier] = fall_back(own, overall, min_accounts=min_accounts)
    return out


def rates_for_scope(
    journeys: pd.DataFrame,
    *,
    tiers: tuple[int, ...] = (1, 2, 3),
    playbook_id: int | None = None,
    min_accounts: int = 30,
    draws: int = 400,
    seed: int = 0,
    as_of: pd.Timestamp | None = None,
    since: pd.Timestamp | None = None,
) -> StageRates:
    """The rates of the accounts in ``tiers`` (and ``playbook_id``), each thin figure falling back
    to the all-tier figure (of the playbook's accounts when given; of every account below that).
    ``as_of`` and ``since``: whom a step's rate counts (``_group_rates``)."""
    rng = np.random.default_rng(seed)
    # An account in several playbooks has a row per playbook: counted once for everyone.
    everyone = _group_rates(journeys.drop_duplicates("account_id"), draws, rng, as_of, since)
    wide = everyone
    frame = journeys.drop_duplicates("account_id")
    if playbook_id is not None:
        frame = journeys[journeys["playbook_id"].to_numpy() == playbook_id]
        own = _group_rates(frame, draws, rng, as_of, since)
        wide = fall_back(own, everyone, min_accounts=min_accounts)
    if set(tiers) >= {1, 2, 3}:
        return wide
    in_tiers = frame[np.isin(frame["tier"].to_numpy(), list(tiers))]
    own = _group_rates(in_tiers, draws, rng, as_of, since)
    return fall_back(own, wide, min_accounts=min_accounts)
