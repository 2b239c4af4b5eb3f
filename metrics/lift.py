"""Lift and incrementality (DOMAIN.md "Lift and incrementality"): pure pandas/numpy, no Django.

Target vs non-target compares the opportunities created in a period by segment of accounts;
holdout lift compares each playbook's enrolled accounts with its random holdout.

Decisions where DOMAIN.md is silent:

- "In the period" means created in ``[start, end)``; their outcome is read as of the data:
  won = closed_won, lost = closed_lost, open = neither.
- Win rate = won / (won + lost); average deal size = won amount / won; sales cycle = mean of
  ``closed_at - created_at`` in days (a float) over won deals; pipeline = amount of every created
  deal; revenue = won amount; revenue per account = revenue / accounts in the segment;
  pipeline velocity = open deals * win rate * average deal size / cycle days (money per day).
  A ratio with nothing to divide by is NaN (shown as "—"), and so is a velocity built on one.
- Segments: ``target`` (has a tier), ``non_target``, ``tier_1`` .. ``tier_3``, and within targets
  ``engaged`` / ``not_engaged`` by a boolean ``engaged`` column the caller computes for the period.
  An account belongs to one segment for the whole period.
- Lift = treatment / control - 1; NaN (None) when the control is 0 or undefined.
- Holdout: enrolled = enrolment status active, completed or exited; holdout = holdout. An account
  "has an opportunity" when one was created strictly after its enrolment (and not after ``now``);
  pipeline per account sums the amounts of those. The difference is enrolled - holdout.
- Opportunity rate: 95 % CI from the unpooled (Wald) standard error, p-value from the pooled
  two-proportion z test, two-sided; when both groups are all 0 or all 1 the test has no variance
  and p = 1.
- Pipeline per account: percentile bootstrap CI of the difference of means (``resamples``
  resamples of each group with replacement, a fixed seed per playbook so a re-run gives the same
  interval); p-value from the same resamples shifted to the null of no difference,
  ``p = (1 + #{|d*_b - d| >= |d|}) / (resamples + 1)``, two-sided.
- Below ``min_group`` accounts in either group the result says ``enough_data = False`` and
  carries no difference, no CI and no p-value (DOMAIN: no bare point estimate); each group's own
  rate and pipeline per account stay, beside its account count, for context.
"""

from __future__ import annotations

import hashlib
import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from abm.lib.timeconv import series_ns_float, to_utc

SEGMENTS = ("target", "non_target", "tier_1", "tier_2", "tier_3", "engaged", "not_engaged")
COMPARISONS = {
    "target_vs_non_target": ("target", "non_target"),
    "tier_1_vs_non_target": ("tier_1", "non_target"),
    "tier_2_vs_non_target": ("tier_2", "non_target"),
    "tier_3_vs_non_target": ("tier_3", "non_target"),
    "engaged_vs_not_engaged": ("engaged", "not_engaged"),
}
# What adds up over opportunities (and so over months in the rollups); ratios come from these.
SUMS = ("opportunities", "pipeline", "won", "lost", "open", "revenue", "cycle_days_sum")
RATIOS = (
    "win_rate",
    "average_deal_size",
    "cycle_days",
    "velocity",
    "revenue_per_account",
)
ENROLLED_STATUSES = ("active", "completed", "exited")
HOLDOUT_STATUS = "holdout"
_DAY_NS = 86_400 * 10**9
_BOOTSTRAP_CELLS = 4_000_000  # indices drawn per chunk: bounds memory, not speed
_BOOTSTRAPS: dict[tuple, dict] = {}  # _seeded_bootstrap's results, oldest first
_BOOTSTRAPS_KEPT = 512  # a few runs' playbooks


def opportunity_outcomes(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Per opportunity, the additive measures ``SUMS`` (1/0 flags, amounts, won cycle days).

    Input: ``amount, stage, created_at, closed_at``; other columns are kept.
    """
    won = (opportunities["stage"] == "closed_won").to_numpy()
    lost = (opportunities["stage"] == "closed_lost").to_numpy()
    amount = opportunities["amount"].to_numpy(dtype=float)
    days = (
        series_ns_float(opportunities["closed_at"]) - series_ns_float(opportunities["created_at"])
    ) / _DAY_NS  # NaN while open
    return opportunities.assign(
        opportunities=1,
        pipeline=amount,
        won=won.astype(int),
        lost=lost.astype(int),
        open=(~won & ~lost).astype(int),
        revenue=np.where(won, amount, 0.0),
        cycle_days_sum=np.where(won, np.nan_to_num(days), 0.0),
    )


def ratios(sums: pd.DataFrame) -> pd.DataFrame:
    """Add ``RATIOS`` to a frame of ``SUMS`` plus ``accounts``; rows are segments (or months)."""
    won = sums["won"].astype(float)
    decided = won + sums["lost"]
    win_rate = won / decided.where(decided > 0)
    deal = sums["revenue"] / won.where(won > 0)
    cycle = sums["cycle_days_sum"] / won.where(won > 0)
    return sums.assign(
        win_rate=win_rate,
        average_deal_size=deal,
        cycle_days=cycle,
        velocity=sums["open"] * win_rate * deal / cycle.where(cycle > 0),
        revenue_per_account=sums["revenue"] / sums["accounts"].where(sums["accounts"] > 0),
    )


def segment_metrics(
    opportunities: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Sums and ratios per segment (index ``SEGMENTS``) for opportunities created in the period.

    ``opportunities``: ``account_id, amount, stage, created_at, closed_at``;
    ``accounts``: ``account_id, tier`` (NA = not a target) and optionally ``engaged``.
    """
    segments = account_segments(accounts)
    created = opportunities.loc[
        (opportunities["created_at"] >= to_utc(start)) & (opportunities["created_at"] < to_utc(end))
    ]
    outcomes = opportunity_outcomes(created)[["account_id", *SUMS]]
    rows = outcomes.merge(segments, on="account_id")
    sums = rows.groupby("segment")[list(SUMS)].sum()
    sums = sums.reindex(list(SEGMENTS), fill_value=0).astype(float)
    sums["accounts"] = segments["segment"].value_counts().reindex(list(SEGMENTS), fill_value=0)
    return ratios(sums)


def account_segments(accounts: pd.DataFrame) -> pd.DataFrame:
    """``account_id, segment``: every account twice or three times (target, its tier, engaged)."""
    tier = accounts["tier"]
    target = tier.notna()
    frames = [
        pd.DataFrame(
            {
                "account_id": accounts["account_id"],
                "segment": np.where(target, "target", "non_target"),
            }
        ),
        pd.DataFrame(
            {
                "account_id": accounts.loc[target, "account_id"],
                "segment": "tier_" + tier[target].astype(int).astype(str),
            }
        ),
    ]
    if "engaged" in accounts:
        engaged = accounts.loc[target, "engaged"].fillna(False).astype(bool)
        frames.append(
            pd.DataFrame(
                {
                    "account_id": accounts.loc[target, "account_id"],
                    "segment": np.where(engaged, "engaged", "not_engaged"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def lift(treatment: pd.Series | float, control: pd.Series | float) -> pd.Series | float:
    """``treatment / control - 1``; NaN where the control is 0 or undefined."""
    if isinstance(control, pd.Series):
        return treatment / control.where(control != 0) - 1
    if control == 0 or control is None or math.isnan(control):
        return math.nan
    return treatment / control - 1


def lifts(metrics: pd.DataFrame) -> pd.DataFrame:
    """Lift of every measure for each of ``COMPARISONS`` (rows) from ``segment_metrics``."""
    columns = [*SUMS, "accounts", *RATIOS]
    rows = {
        name: lift(metrics.loc[treatment, columns], metrics.loc[control, columns])
        for name, (treatment, control) in COMPARISONS.items()
    }
    return pd.DataFrame(rows).T[columns]


# --- Holdout ----------------------------------------------------------------------------------


def enrolment_outcomes(
    enrolments: pd.DataFrame, opportunities: pd.DataFrame, *, now: pd.Timestamp
) -> pd.DataFrame:
    """Per enrolment: ``group`` (enrolled | holdout | None), ``has_opportunity``, ``pipeline``.

    ``enrolments``: ``account_id, playbook_id, status, enrolled_at``;
    ``opportunities``: ``account_id, amount, created_at``.
    """
    frame = enrolments.reset_index(drop=True)
    frame = frame.assign(row=np.arange(len(frame)))
    created = opportunities.loc[opportunities["created_at"] <= to_utc(now)]
    joined = frame[["row", "account_id", "enrolled_at"]].merge(
        created[["account_id", "amount", "created_at"]], on="account_id"
    )
    joined = joined.loc[joined["created_at"] > joined["enrolled_at"]]
    per_row = joined.groupby("row").agg(n=("amount", "size"), pipeline=("amount", "sum"))
    per_row = per_row.reindex(frame["row"], fill_value=0)
    group = np.select(
        [frame["status"].isin(ENROLLED_STATUSES), frame["status"] == HOLDOUT_STATUS],
        ["enrolled", "holdout"],
        default=None,
    )
    return frame.drop(columns="row").assign(
        group=group,
        has_opportunity=per_row["n"].to_numpy() > 0,
        pipeline=per_row["pipeline"].to_numpy(dtype=float),
    )


def holdout_lift(
    enrolments: pd.DataFrame,
    opportunities: pd.DataFrame,
    *,
    now: pd.Timestamp,
    min_group: int = 30,
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Enrolled vs holdout per playbook (one row per ``playbook_id``, sorted).

    Columns: ``enrolled_accounts, holdout_accounts, enough_data``; for ``rate`` (accounts with an
    opportunity after enrolment / accounts) and ``pipeline`` (per account) each:
    ``<m>_enrolled, <m>_holdout, <m>_diff, <m>_ci_low, <m>_ci_high, <m>_p``.
    """
    outcomes = enrolment_outcomes(enrolments, opportunities, now=now)
    outcomes = outcomes.loc[outcomes["group"].notna()]
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    rows = []
    for playbook_id, rows_of in outcomes.groupby("playbook_id", sort=True):
        enrolled = rows_of.loc[rows_of["group"] == "enrolled"]
        holdout = rows_of.loc[rows_of["group"] == "holdout"]
        n1, n2 = len(enrolled), len(holdout)
        enough = n1 >= min_group and n2 >= min_group
        rate = two_proportions(
            int(enrolled["has_opportunity"].sum()), n1, int(holdout["has_opportunity"].sum()), n2, z
        )
        pipeline = _seeded_bootstrap(
            enrolled["pipeline"].to_numpy(dtype=float),
            holdout["pipeline"].to_numpy(dtype=float),
            seed=(seed, int(playbook_id)),
            resamples=resamples,
            confidence=confidence,
        )
        row = {"playbook_id": playbook_id, "enrolled_accounts": n1, "holdout_accounts": n2}
        for name, result in (("rate", rate), ("pipeline", pipeline)):
            if not enough:
                result = {**result, **dict.fromkeys(("diff", "ci_low", "ci_high", "p"), math.nan)}
            row.update({f"{name}_{key}": value for key, value in result.items()})
        row["enough_data"] = enough
        rows.append(row)
    columns = ["playbook_id", "enrolled_accounts", "holdout_accounts", "enough_data"]
    for name in ("rate", "pipeline"):
        columns += [
            f"{name}_{k}" for k in ("enrolled", "holdout", "diff", "ci_low", "ci_high", "p")
        ]
    return pd.DataFrame(rows, columns=columns)


_ESTIMATES = tuple(
    f"{name}_{key}" for name in ("rate", "pipeline") for key in ("diff", "ci_low", "ci_high", "p")
)


def not_enough_note(enrolled: int, holdout: int, min_group: int) -> str | None:
    """What a holdout row says instead of a difference when a group is under ``min_group``."""
    if enrolled >= min_group and holdout >= min_group:
        return None
    return f"not enough data ({enrolled:,} enrolled / {holdout:,} holdout)"


def without_bare_estimates(row: dict, min_group: int) -> dict:
    """A holdout row with its difference, interval and p-value blanked when a group is under
    ``min_group``, decided from the row's own counts (so rows stored before the rule, or under
    another minimum, obey it too), plus ``enough_data`` and ``note``."""
    note = not_enough_note(
        int(row.get("enrolled_accounts") or 0), int(row.get("holdout_accounts") or 0), min_group
    )
    if note is None:
        return {**row, "enough_data": True, "note": None}
    return {**row, **dict.fromkeys(_ESTIMATES), "enough_data": False, "note": note}


def two_proportions(x1: int, n1: int, x2: int, n2: int, z: float = 1.959963984540054) -> dict:
    """Rates, their difference, its Wald CI and the pooled two-proportion z-test p-value."""
    p1 = x1 / n1 if n1 else math.nan
    p2 = x2 / n2 if n2 else math.nan
    diff = p1 - p2
    if not n1 or not n2:
        return _result(p1, p2, diff, math.nan, math.nan, math.nan)
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    pooled = (x1 + x2) / (n1 + n2)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = math.erfc(abs(diff / se0) / math.sqrt(2)) if se0 > 0 else 1.0
    return _result(p1, p2, diff, diff - z * se, diff + z * se, p_value)


def bootstrap_difference(
    x1: np.ndarray,
    x2: np.ndarray,
    *,
    rng: np.random.Generator,
    resamples: int = 2000,
    confidence: float = 0.95,
) -> dict:
    """Means, their difference, its percentile bootstrap CI and shifted-bootstrap p-value."""
    if not len(x1) or not len(x2):
        m1 = x1.mean() if len(x1) else math.nan
        m2 = x2.mean() if len(x2) else math.nan
        return _result(m1, m2, m1 - m2, math.nan, math.nan, math.nan)
    m1, m2 = float(x1.mean()), float(x2.mean())
    diff = m1 - m2
    boot = _resampled_means(x1, rng, resamples) - _resampled_means(x2, rng, resamples)
    tail = (1 - confidence) / 2
    low, high = np.quantile(boot, [tail, 1 - tail])
    extreme = np.count_nonzero(np.abs(boot - diff) >= abs(diff))
    return _result(m1, m2, diff, float(low), float(high), (1 + extreme) / (resamples + 1))


def _seeded_bootstrap(x1, x2, *, seed: tuple, resamples: int, confidence: float) -> dict:
    """``bootstrap_difference`` with a generator seeded by ``seed``, remembered for the same
    groups: the result is a function of these arguments, and the engine's finish re-tests every
    playbook on each run while a change of one account leaves nearly all groups as they were
    (0.07 s of a 1 s run at 10 000 accounts)."""
    key = (
        hashlib.blake2b(x1.tobytes() + b"|" + x2.tobytes(), digest_size=16).digest(),
        len(x1),
        seed,
        resamples,
        confidence,
    )
    if key not in _BOOTSTRAPS:
        if len(_BOOTSTRAPS) >= _BOOTSTRAPS_KEPT:
            _BOOTSTRAPS.pop(next(iter(_BOOTSTRAPS)))  # the oldest
        rng = np.random.default_rng(list(seed))
        _BOOTSTRAPS[key] = bootstrap_difference(
            x1, x2, rng=rng, resamples=resamples, confidence=confidence
        )
    return dict(_BOOTSTRAPS[key])


def _resampled_means(x: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    means = np.empty(resamples)
    chunk = max(1, _BOOTSTRAP_CELLS // len(x))
    for b0 in range(0, resamples, chunk):
        b1 = min(b0 + chunk, resamples)
        means[b0:b1] = x[rng.integers(0, len(x), size=(b1 - b0, len(x)))].mean(axis=1)
    return means


def _result(a: float, b: float, diff: float, low: float, high: float, p: float) -> dict:
    return {
        "enrolled": a,
        "holdout": b,
        "diff": diff,
        "ci_low": low,
        "ci_high": high,
        "p": p,
    }
