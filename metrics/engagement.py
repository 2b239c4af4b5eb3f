"""Account engagement score (DOMAIN.md "Engagement score"): pure pandas/numpy, no Django.

``score(a, t) = sum over activities i of a with t - window < t_i <= t of
w(kind_i) * m(seniority_i) * 2 ** (-(t - t_i) / H)``. Callers pass the points, multipliers and
thresholds from settings (``ABM_ENGAGEMENT_POINTS`` and friends).

Input: one row per activity with ``activity_id, account_id, contact_id (nullable), seniority
(nullable), channel, kind, occurred_at`` (UTC; naive timestamps are read as UTC) and optionally
``direction``.

Decisions where DOMAIN.md is silent:

- Daily cap: the activities counted at t are grouped by (account, kind, UTC calendar day); when a
  group's raw points ``sum(w * m)`` exceed ``daily_cap``, each of its activities is scaled by
  ``daily_cap / sum`` so the group brings exactly the cap; decay then applies per activity on its
  own timestamp. "Counted at t" means inside the window and not after t, so the cap never looks
  ahead.
- m: ``seniority_multipliers[seniority]``; a row without a contact, or a contact without a
  seniority, uses ``seniority_multipliers[None]`` (1.0 if that key is absent). A kind missing from
  ``points`` or an unknown seniority raises ValueError instead of silently scoring 0.
- by_channel: decayed points per channel, channels with no points left out; it sums to the score.
- Engaged contacts: distinct contacts with >= 1 activity in the window that earns points
  (``w * m > 0``); with a ``direction`` column only ``inbound`` rows count (what we sent engages
  nobody).
- Spike: undecayed capped points of ``(t - 7d, t]`` against the weekly average of the 4 weeks
  ``(t - 35d, t - 7d]``; a spike when ``last7 >= spike_min_points and last7 >= spike_ratio *
  average`` (DOMAIN: >= 2x and >= 10 points), so a burst after silence is a spike when it is big
  enough, a doubling of a near-zero base (two ad impressions) never is, and silence never is.
- Top activities: the ``top_n`` with the most decayed points (> 0), ties to the most recent, then
  the higher activity_id; each a dict ``activity_id, kind, channel, points``.
- History: the score on date d is the score at the last instant of d (23:59:59.999999999 UTC), so
  the window holds exactly the ``window_days`` calendar days ending on d, and caps cover whole days.
- Every account_id in the input gets a row (score 0 when nothing counts), so callers can reset
  accounts that went quiet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from abm.lib.timeconv import instant_ns, series_ns

_DAY_NS = 86_400 * 10**9
_SPIKE_DAYS = 7
_SPIKE_BASELINE_WEEKS = 4
_HISTORY_CHUNK_CELLS = 4_000_000  # accounts x days per dense block: bounds memory, not speed
# A column of points after the daily cap (``with_capped_points``), which ``score_history`` reads
# instead of capping again.
CAPPED_POINTS = "capped_points"


def score_accounts(
    activities: pd.DataFrame,
    as_of: dt.datetime | pd.Timestamp,
    *,
    points: Mapping[str, float],
    seniority_multipliers: Mapping[str | None, float],
    window_days: float = 90,
    half_life_days: float = 30.0,
    daily_cap: float = 20.0,
    spike_ratio: float = 2.0,
    spike_min_points: float = 10.0,
    top_n: int = 3,
) -> pd.DataFrame:
    """Score, by_channel, engaged_contacts, spike and top_activities per account at ``as_of``."""
    t = instant_ns(as_of)
    ts = series_ns(activities["occurred_at"])
    inside = (ts <= t) & (ts > t - round(window_days * _DAY_NS))
    acts = activities.loc[inside].reset_index(drop=True)
    ts = ts[inside]
    raw, capped = _capped_points(acts, ts, points, seniority_multipliers, daily_cap)
    decayed = capped * np.exp2(-((t - ts) / _DAY_NS) / half_life_days)

    accounts = pd.Index(activities["account_id"].unique(), name="account_id").sort_values()
    account = acts["account_id"]
    last7 = ts > t - _SPIKE_DAYS * _DAY_NS
    before = ~last7 & (ts > t - (_SPIKE_DAYS * (_SPIKE_BASELINE_WEEKS + 1)) * _DAY_NS)
    recent = _sum_by(account, capped * last7, accounts)
    baseline = _sum_by(account, capped * before, accounts) / _SPIKE_BASELINE_WEEKS

    engaging = (raw > 0) & acts["contact_id"].notna().to_numpy()
    if "direction" in acts:
        engaging &= (acts["direction"] == "inbound").to_numpy()
    engaged = acts.loc[engaging].groupby("account_id")["contact_id"].nunique()

    return pd.DataFrame(
        {
            "account_id": accounts,
            "score": _sum_by(account, decayed, accounts),
            "by_channel": _by_channel(acts, decayed, accounts),
            "engaged_contacts": engaged.reindex(accounts, fill_value=0).to_numpy(dtype=np.int64),
            # > 0 as well, so a floor set to 0 still never calls silence a spike.
            "spike": (recent > 0)
            & (recent >= spike_min_points)
            & (recent >= spike_ratio * baseline),
            "top_activities": _top_activities(acts, ts, decayed, accounts, top_n),
        }
    )


def score_history(
    activities: pd.DataFrame,
    start: dt.date | pd.Timestamp,
    end: dt.date | pd.Timestamp,
    *,
    points: Mapping[str, float],
    seniority_multipliers: Mapping[str | None, float],
    window_days: int = 90,
    half_life_days: float = 30.0,
    daily_cap: float = 20.0,
) -> pd.DataFrame:
    """Daily score per account and date from ``start`` to ``end`` (inclusive UTC dates).

    Each activity is decayed to the end of its own day and summed per (account, day); the window
    sum then comes from cumulative sums scaled by ``2 ** (day / H)``. The float error of that
    difference is relative to the decayed all-time total, which is of the order of the score.
    """
    if window_days != int(window_days) or window_days < 1:
        raise ValueError("score_history needs a whole number of window days")
    window = int(window_days)
    first, last = _day_number(start), _day_number(end)
    if last < first:
        raise ValueError("end is before start")
    lo = first - window + 1  # first day that can count on the first date
    n_days = last - lo + 1
    if n_days / half_life_days > 900:  # 2 ** (day / H) would overflow a float
        raise ValueError("date range too long for the half-life; split it")

    accounts = pd.Index(activities["account_id"].unique()).sort_values()
    ts = series_ns(activities["occurred_at"])
    day = ts // _DAY_NS
    inside = (day >= lo) & (day <= last)
    acts = activities.loc[inside].reset_index(drop=True)
    ts, day = ts[inside], day[inside]
    if CAPPED_POINTS in acts:
        capped = acts[CAPPED_POINTS].to_numpy(dtype=float)
    else:
        _, capped = _capped_points(acts, ts, points, seniority_multipliers, daily_cap)
    end_of_day = (day + 1) * _DAY_NS - 1
    own_day = capped * np.exp2(-((end_of_day - ts) / _DAY_NS) / half_life_days)

    code = accounts.get_indexer(acts["account_id"])
    order = np.argsort(code, kind="stable")
    code, offset, own_day = code[order], (day - lo)[order], own_day[order]
    growth = np.exp2(np.arange(n_days) / half_life_days)
    out_days = np.arange(window - 1, n_days)
    shrink = np.exp2(-out_days / half_life_days)

    scores = np.empty((len(accounts), len(out_days)))
    chunk = max(1, _HISTORY_CHUNK_CELLS // n_days)
    for a0 in range(0, len(accounts), chunk):
        a1 = min(a0 + chunk, len(accounts))
        r0, r1 = np.searchsorted(code, [a0, a1])
        daily = np.bincount(
            (code[r0:r1] - a0) * n_days + offset[r0:r1],
            weights=own_day[r0:r1],
            minlength=(a1 - a0) * n_days,
        ).reshape(a1 - a0, n_days)
        cum = np.zeros((a1 - a0, n_days + 1))
        np.cumsum(daily * growth, axis=1, out=cum[:, 1:])
        scores[a0:a1] = (cum[:, out_days + 1] - cum[:, out_days + 1 - window]) * shrink

    dates = np.arange(first, last + 1).astype("datetime64[D]")
    return pd.DataFrame(
        {
            "account_id": accounts.repeat(len(dates)),
            "date": np.tile(dates, len(accounts)),
            "score": scores.ravel(),
        }
    )


def with_capped_points(
    activities: pd.DataFrame,
    *,
    points: Mapping[str, float],
    seniority_multipliers: Mapping[str | None, float],
    daily_cap: float = 20.0,
    **_history_kwargs,
) -> pd.DataFrame:
    """The activities with their points after the daily cap (``CAPPED_POINTS``). A day's cap
    depends only on that account's activities of that day, so any ``score_history`` of whole
    accounts and days of these rows reads the same figures from this column: several histories
    over one set of activities cap it once."""
    ts = series_ns(activities["occurred_at"])
    _, capped = _capped_points(
        activities.reset_index(drop=True), ts, points, seniority_multipliers, daily_cap
    )
    return activities.assign(**{CAPPED_POINTS: capped})


# --- Points -----------------------------------------------------------------------------------


def _capped_points(
    acts: pd.DataFrame,
    ts: np.ndarray,
    points: Mapping[str, float],
    seniority_multipliers: Mapping[str | None, float],
    daily_cap: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``w * m`` and the same after the per (account, kind, day) cap."""
    kind, kinds = pd.factorize(acts["kind"])
    unknown = sorted(set(kinds) - set(points))
    if unknown or (kind < 0).any():
        raise ValueError(f"activity kinds without points: {unknown or 'null'}")
    w = np.array([points[k] for k in kinds], dtype=float)[kind]

    has_contact = acts["contact_id"].notna()
    seniority, levels = pd.factorize(acts["seniority"].where(has_contact))
    unknown = sorted(set(levels) - set(seniority_multipliers))
    if unknown:
        raise ValueError(f"unknown seniorities: {unknown}")
    no_contact = seniority_multipliers.get(None, 1.0)
    # Code -1 (no contact or no seniority) picks the last slot.
    table = np.array([seniority_multipliers[s] for s in levels] + [no_contact], dtype=float)
    raw = w * table[seniority]

    account, _ = pd.factorize(acts["account_id"])
    day = ts // _DAY_NS
    day = day - (day.min() if len(day) else 0)
    key = (account.astype(np.int64) * max(len(kinds), 1) + kind) * (int(day.max(initial=0)) + 1)
    group, _ = pd.factorize(key + day)
    total = np.bincount(group, weights=raw)
    scale = np.where(total > daily_cap, daily_cap / np.where(total > 0, total, 1.0), 1.0)
    return raw, raw * scale[group]


# --- Per account ------------------------------------------------------------------------------


def _sum_by(account: pd.Series, values: np.ndarray, accounts: pd.Index) -> np.ndarray:
    summed = pd.Series(values, index=account.to_numpy()).groupby(level=0).sum()
    return summed.reindex(accounts, fill_value=0.0).to_numpy(dtype=float)


def _by_channel(acts: pd.DataFrame, decayed: np.ndarray, accounts: pd.Index) -> list[dict]:
    frame = pd.DataFrame({"account_id": acts["account_id"], "channel": acts["channel"]})
    sums = frame.loc[decayed > 0].assign(points=decayed[decayed > 0])
    sums = sums.groupby(["account_id", "channel"], sort=True, observed=True)["points"].sum()
    by_account: dict = {}
    for account, channel, value in zip(
        sums.index.get_level_values(0).tolist(),
        sums.index.get_level_values(1).tolist(),
        sums.to_numpy(dtype=float).tolist(),
        strict=True,
    ):
        by_account.setdefault(account, {})[channel] = value
    return [by_account.get(a, {}) for a in accounts]


def _top_activities(
    acts: pd.DataFrame, ts: np.ndarray, decayed: np.ndarray, accounts: pd.Index, top_n: int
) -> list[list[dict]]:
    counted = np.flatnonzero(decayed > 0)
    account = acts["account_id"].to_numpy(dtype=np.int64)[counted]
    activity = acts["activity_id"].to_numpy(dtype=np.int64)[counted]
    points = decayed[counted]
    # Per account, the most points first, ties to the most recent, then the higher id.
    order = np.lexsort((-activity, -ts[counted], -points, account))
    account = account[order]
    first = np.r_[True, account[1:] != account[:-1]]
    starts = np.flatnonzero(first)
    rank = np.arange(len(account)) - np.repeat(starts, np.diff(np.r_[starts, len(account)]))
    top = counted[order[rank < top_n]]
    by_account: dict = {}
    for account_id, activity_id, kind, channel, value in zip(
        acts["account_id"].to_numpy()[top].tolist(),
        acts["activity_id"].to_numpy()[top].tolist(),
        acts["kind"].to_numpy()[top].tolist(),
        acts["channel"].to_numpy()[top].tolist(),
        decayed[top].tolist(),
        strict=True,
    ):
        by_account.setdefault(account_id, []).append(
            {"activity_id": activity_id, "kind": kind, "channel": channel, "points": value}
        )
    return [by_account.get(a, []) for a in accounts]


# --- Time -------------------------------------------------------------------------------------


def _day_number(value: dt.date | pd.Timestamp) -> int:
    return instant_ns(value) // _DAY_NS
