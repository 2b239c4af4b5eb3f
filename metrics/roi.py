"""Spend, ROI, pipeline ratio, cost per mqa and cost per opportunity (DOMAIN.md "Money").

Pure pandas/numpy: a loader builds the frames, a service stores the results. The same
``roi_table`` reads raw rows (one per cost, credit, mqa account) or the monthly rollups the
recompute stores, since both carry the dimensions ``month, channel, playbook_id, tier, owner_id``.

Decisions where DOMAIN.md is silent:

- Spend = activity costs + budget lines. An activity's cost counts for its channel, the playbook of
  its step (none outside playbooks), its account's tier and owner, and the UTC month it occurred.
- A budget line counts in the month of its date, for its playbook (if any) and its channel; a line
  with a playbook and no channel counts under the channel ``"unallocated"`` rather than being
  spread over the playbook's channels by a guess.
- A budget line is shared out to accounts pro rata to their activity cost in the same month on
  its key: the line's playbook, its channel, or both when it names both (DOMAIN "Money"). Each
  share carries the account's tier and owner, so a tier, owner or account slice includes it.
  A line with no such activity cost in its month stays whole and tied to no account (tier, owner
  and account NA): the "unallocated" slice, counted only in unfiltered spend, so the slices
  (tiers or owners, plus unallocated) always add up to the total.
- Tier 0 means a non-target account (no tier); NA means "not tied to an account".
- ROI and pipeline ratio are undefined (NaN, shown as "—") when spend is 0; so are cost per mqa
  and cost per opportunity when there is nothing to divide by.
- Attributed revenue and pipeline are the credits of one attribution model (the caller filters);
  a credit counts in the month of its conversion (creation for pipeline, closed_at for revenue).
- Cost per opportunity = spend / attributed opportunities, where a deal counts for a group with the
  model's pipeline weight (a deal credited 40 % to email counts 0.4 for email), so the groups add
  up to the deals that have touches, and the figure follows the model selector like ROI does.
- Cost per mqa = spend / accounts that became mqa (their first change to the mqa journey stage),
  each credited linearly over its touches in the attribution window before it became mqa (1/n per
  touch), in the month it became mqa. An mqa account without touches counts only under channel
  ``""`` (no touch), so every breakdown adds up to the number of mqa accounts.
- Cost per engaged account (the planner's, README Metrics > Plans) the same way, from the first
  time each account reached the engaged journey stage or a later one (an account that skipped
  engaged passed it when it reached a later stage, as the plan's funnel counts it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

UNALLOCATED = "unallocated"
NON_TARGET = 0
DIMENSIONS = ("month", "channel", "playbook_id", "tier", "owner_id")
COLUMNS = (
    "spend",
    "pipeline",
    "revenue",
    "roi",
    "pipeline_ratio",
    "opportunities",
    "cost_per_opportunity",
    "mqa",
    "cost_per_mqa",
)


def month_of(values: pd.Series) -> pd.Series:
    """First day of the UTC calendar month, as a naive datetime64 column."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    else:
        values = pd.to_datetime(values)
    # numpy's month unit truncates as to_period("M").start_time does, several times faster.
    months = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    return pd.Series(months.astype("datetime64[ns]"), index=values.index, name=values.name)


def account_dimensions(frame: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Add ``tier`` (0 for non-targets) and ``owner_id`` from ``accounts`` by ``account_id``;
    both NA for a row tied to no (known) account."""
    lookup = accounts.set_index("account_id")
    # Positions by numpy lookup: Series.map over a nullable id column is many times slower.
    ids = pd.Index(frame["account_id"].astype("float64").to_numpy())
    where = lookup.index.get_indexer(ids) if len(lookup) else np.full(len(ids), -1)
    known = where >= 0

    def pick(values: np.ndarray) -> pd.Series:
        picked = np.full(len(ids), np.nan)
        picked[known] = values[where[known]]
        return pd.Series(picked, index=frame.index).astype("Int64")

    tiers = lookup["tier"].astype(float).fillna(NON_TARGET).to_numpy()
    return frame.assign(
        tier=pick(tiers), owner_id=pick(lookup["owner_id"].astype(float).to_numpy())
    )


def spend_rows(
    activities: pd.DataFrame, budget_lines: pd.DataFrame, accounts: pd.DataFrame
) -> pd.DataFrame:
    """One row per cost: ``month, channel, playbook_id, tier, owner_id, account_id, amount, lines``.

    ``activities``: ``account_id, channel, occurred_at, cost, playbook_id``;
    ``budget_lines``: ``playbook_id`` (NA when none), ``channel`` ("" when none), ``date``,
    ``amount``; ``accounts``: ``account_id, tier, owner_id``. A budget line gives one row per
    account it is shared out to (``lines`` is that account's share of the line, so ``lines``
    still adds up to the number of cost lines), or one unallocated row (``account_id`` NA).
    A line is shared by the accounts' activity cost on its key that month, else by their number
    of activities on it, else it stays on no account (README "Metrics").
    The costed activities' rows come first, in their order (dashboards/spend_records.py relies on it).
    """
    costly = activities.loc[activities["cost"] > 0]
    from_activities = pd.DataFrame(
        {
            "month": month_of(costly["occurred_at"]),
            "channel": costly["channel"].astype(object),
            "playbook_id": costly["playbook_id"].astype("Int64"),
            "account_id": costly["account_id"],
            "amount": costly["cost"].astype(float),
            "lines": 1.0,
        }
    )
    from_budget = from_activities.iloc[:0]
    if len(budget_lines):
        # The fallback key: every activity on the line's key that month counts once.
        counts = pd.DataFrame(
            {
                "month": month_of(activities["occurred_at"]),
                "channel": activities["channel"].astype(object),
                "playbook_id": activities["playbook_id"].astype("Int64"),
                "account_id": activities["account_id"],
                "amount": 1.0,
            }
        )
        from_budget = budget_rows(budget_lines, from_activities, counts)
    frames = [f for f in (from_activities, from_budget) if len(f)]
    if not frames:
        return _empty(account_id="Int64", amount=float, lines=float)
    rows = pd.concat(frames, ignore_index=True)
    rows["account_id"] = rows["account_id"].astype("Int64")
    rows = account_dimensions(rows, accounts)
    return rows[[*DIMENSIONS, "account_id", "amount", "lines"]]


def budget_rows(
    budget_lines: pd.DataFrame, costs: pd.DataFrame, counts: pd.DataFrame
) -> pd.DataFrame:
    """Budget lines shared out by ``costs`` (``month, channel, playbook_id, account_id, amount``:
    activity cost), else by ``counts`` (the same columns, ``amount`` = number of activities):
    ``month, channel, playbook_id, account_id, amount, lines`` (``account_id`` NA: unallocated).
    The "accounts" may be any disjoint groups of them: shares add up (the sharded engine)."""
    lines = pd.DataFrame(
        {
            "month": month_of(pd.to_datetime(budget_lines["date"])),
            "channel": budget_lines["channel"].fillna("").astype(object),
            "playbook_id": budget_lines["playbook_id"].astype("Int64"),
            "amount": budget_lines["amount"].astype(float),
            "lines": 1.0,
        }
    )
    rows = _allocated(lines, costs, counts)
    rows["channel"] = rows["channel"].where(rows["channel"] != "", UNALLOCATED)
    return rows


# A budget line's allocation key: the activity columns that must match it, by what it names.
_KEYS = {(True, True): ["playbook_id", "channel"], (True, False): ["playbook_id"]}


def _allocated(lines: pd.DataFrame, costs: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Budget lines shared out to accounts by their activity cost in the line's month and key;
    a line with no cost there by the accounts' number of activities on it (a content budget by
    downloads); a line with neither stays whole, on no account."""
    columns = ["month", "channel", "playbook_id", "account_id", "amount", "lines"]
    has_playbook = lines["playbook_id"].notna()
    has_channel = lines["channel"] != ""
    parts = []
    for (playbook, channel), chosen in lines.groupby([has_playbook, has_channel]):
        key = ["month", *_KEYS.get((playbook, channel), ["channel"])]
        # Lines on the same key and month share out alike: add them up first.
        sums = chosen.groupby(key)[["amount", "lines"]].sum().reset_index()
        by_cost = _shared(sums, costs, key)
        idle = by_cost["account_id"].isna()
        by_count = _shared(by_cost.loc[idle, [*key, "amount", "lines"]], counts, key)
        joined = pd.concat([by_cost.loc[~idle], by_count], ignore_index=True)
        if "channel" not in key:
            joined["channel"] = ""
        parts.append(joined.reindex(columns=columns))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"playbook_id": "Int64", "account_id": "Int64"})


def _shared(sums: pd.DataFrame, weights: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """``sums`` rows shared out to accounts by their ``amount`` in ``weights`` on the same key;
    a row with no weight on its key stays whole (``account_id`` NA)."""
    # Only the weights on a line's key and month (usually a small part of all activity).
    relevant = weights[[*key, "account_id", "amount"]].merge(sums[key], on=key)
    per_account = relevant.groupby([*key, "account_id"])["amount"].sum().rename("weight")
    per_account = per_account.reset_index()
    total = per_account.groupby(key)["weight"].transform("sum")
    per_account["share"] = per_account["weight"] / total
    joined = sums.merge(per_account[[*key, "account_id", "share"]], on=key, how="left")
    share = joined["share"].fillna(1.0)
    return joined.assign(amount=joined["amount"] * share, lines=joined["lines"] * share).drop(
        columns="share"
    )


def credit_rows(credits: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Credits with the dimensions: ``month`` of ``converted_at``, ``tier`` and ``owner_id``.

    ``credits``: ``model, kind, account_id, converted_at, channel, playbook_id, weight, credit``.
    """
    frame = credits.assign(
        month=month_of(credits["converted_at"]),
        playbook_id=credits["playbook_id"].astype("Int64"),
    )
    frame = account_dimensions(frame, accounts)
    return frame[["model", "kind", *DIMENSIONS, "credit", "weight"]]


def mqa_rows(
    touches: pd.DataFrame,
    became_mqa: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    window_days: float,
) -> pd.DataFrame:
    """Accounts that became mqa (``became_mqa``: ``account_id, mqa_at``), as ``reached_rows``."""
    return reached_rows(touches, became_mqa, accounts, "mqa", window_days=window_days)


def reached_rows(
    touches: pd.DataFrame,
    reached: pd.DataFrame,
    accounts: pd.DataFrame,
    stage: str,
    *,
    window_days: float,
) -> pd.DataFrame:
    """Accounts that reached ``stage``, credited 1/n over their n touches in the window before.

    ``touches``: ``account_id, occurred_at, channel, playbook_id``; ``reached``:
    ``account_id, {stage}_at`` (one row per account: the first time). A touch counts when
    ``{stage}_at - window_days <= occurred_at <= {stage}_at``. Output: the dimensions and a
    ``stage`` column of account shares.
    """
    at = f"{stage}_at"
    first = reached.drop_duplicates("account_id")
    joined = touches[["account_id", "occurred_at", "channel", "playbook_id"]].merge(
        first, on="account_id"
    )
    window = pd.Timedelta(days=window_days)
    inside = (joined["occurred_at"] <= joined[at]) & (joined["occurred_at"] >= joined[at] - window)
    joined = joined.loc[inside]
    share = 1.0 / joined.groupby("account_id")["account_id"].transform("size")
    joined = joined.assign(**{stage: share})
    untouched = first.loc[~first["account_id"].isin(joined["account_id"])].assign(
        channel="", playbook_id=pd.NA, **{stage: 1.0}
    )
    rows = pd.concat(
        [joined[["account_id", at, "channel", "playbook_id", stage]], untouched],
        ignore_index=True,
    )
    if rows.empty:
        return _empty(**{stage: float})
    rows = rows.assign(
        month=month_of(rows[at]),
        channel=rows["channel"].astype(object),
        playbook_id=rows["playbook_id"].astype("Int64"),
    )
    rows = account_dimensions(rows, accounts)
    return rows[[*DIMENSIONS, stage]]


def roi_table(
    spend: pd.DataFrame,
    credits: pd.DataFrame,
    mqa: pd.DataFrame,
    *,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Spend, attributed pipeline and revenue, ROI and costs per group of ``by``.

    ``spend``: dimensions + ``amount``; ``credits``: dimensions + ``kind`` (pipeline | revenue),
    ``credit``, ``weight``, of one model; ``mqa``: dimensions + ``mqa``. ``by`` is a subset of
    ``DIMENSIONS``; empty gives one row of totals. Missing dimension values (NA) form their own
    group ("unallocated"). Columns: ``COLUMNS``.
    """
    by = list(by)
    unknown = set(by) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}; expected some of {DIMENSIONS}")
    if "model" in credits and credits["model"].nunique() > 1:
        raise ValueError("credits of one attribution model only")
    kind = credits["kind"].to_numpy(dtype=object)
    pipeline, revenue = kind == "pipeline", kind == "revenue"
    # (rows, their measures: name -> column). The dashboards pass a few dozen summed rows, where
    # pandas' concat and groupby cost ~10 ms a table in overhead: grouped with numpy instead.
    parts = [
        (spend, {"spend": "amount"}),
        (credits.loc[pipeline], {"pipeline": "credit", "opportunities": "weight"}),
        (credits.loc[revenue], {"revenue": "credit"}),
        (mqa, {"mqa": "mqa"}),
    ]
    group, keys = _groups([frame for frame, _ in parts], by)
    size = len(keys)
    sums = {}
    start = 0
    for frame, measures in parts:
        at = group[start : start + len(frame)]
        start += len(frame)
        for name, column in measures.items():
            values = np.nan_to_num(frame[column].to_numpy(dtype=float))
            sums[name] = sums.get(name, 0.0) + np.bincount(at, weights=values, minlength=size)
    spent = _positive(sums["spend"])
    figures = {
        **sums,
        "roi": (sums["revenue"] - sums["spend"]) / spent,
        "pipeline_ratio": sums["pipeline"] / spent,
        "cost_per_opportunity": sums["spend"] / _positive(sums["opportunities"]),
        "cost_per_mqa": sums["spend"] / _positive(sums["mqa"]),
    }
    return pd.DataFrame({**{key: keys[key] for key in by}, **{c: figures[c] for c in COLUMNS}})


def _positive(values: np.ndarray) -> np.ndarray:
    """The values, NaN where not above zero: nothing to divide by."""
    return np.where(values > 0, values, np.nan)


def _groups(frames: list[pd.DataFrame], by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """A group number per row of the frames, end to end, and the groups' keys in sorted order
    (a missing value last, a group of its own), as ``groupby(by, dropna=False)`` has them; with
    no ``by``, one group of every row."""
    rows = sum(len(frame) for frame in frames)
    if not by:
        return np.zeros(rows, dtype=np.intp), pd.DataFrame(index=range(1))
    codes, uniques = [], []
    for key in by:
        values = pd.concat([frame[key] for frame in frames], ignore_index=True)
        code, unique = pd.factorize(values, sort=True)
        missing = code < 0
        if missing.any():  # NA sorted last (factorize leaves it unsorted among objects)
            code[missing] = len(unique)
            unique = unique.insert(len(unique), np.nan)
        codes.append(code)
        # Typed as groupby types its keys: floats and NaN as float, strings as str.
        uniques.append(unique.infer_objects() if unique.dtype == object else unique)
    if not rows:
        return np.zeros(0, dtype=np.intp), pd.DataFrame(dict(zip(by, uniques, strict=True)))
    # Codes of several keys as one number, in the keys' order (renumbered when it grows wide).
    combined = np.zeros(rows, dtype=np.int64)
    for code, unique in zip(codes, uniques, strict=True):
        if (int(combined.max()) + 1) * (len(unique) + 1) >= 1 << 62:
            combined = np.unique(combined, return_inverse=True)[1].astype(np.int64)
        combined = combined * len(unique) + code
    _, first, group = np.unique(combined, return_index=True, return_inverse=True)
    keys = {key: u.take(code[first]) for key, u, code in zip(by, uniques, codes, strict=True)}
    return group, pd.DataFrame(keys)


def _empty(**measures: type) -> pd.DataFrame:
    dimensions = {
        "month": "datetime64[ns]",
        "channel": object,
        "playbook_id": "Int64",
        "tier": "Int64",
        "owner_id": "Int64",
    }
    return pd.DataFrame(
        {name: pd.Series(dtype=dtype) for name, dtype in {**dimensions, **measures}.items()}
    )
