"""Per account: engagement scores and daily history, engaged months, and journey stages."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics import engagement, stages
from metrics.engine.compute.inputs import Inputs
from metrics.engine.params import EngineParams

# The journey stages that pass engaged: the first change to any of them is when an account
# became engaged for cost per engaged account (metrics/roi.py).
ENGAGED_OR_LATER = ("engaged", "mqa", "opportunity", "customer")


def account_scores(data: Inputs, now: pd.Timestamp, params: EngineParams) -> pd.DataFrame:
    """Every account's score as of ``now``: accounts without activities score 0."""
    scores = engagement.score_accounts(data.activities, now, **params.scoring_kwargs())
    scores = data.accounts[["account_id"]].merge(scores, on="account_id", how="left")
    scores["score"] = scores["score"].fillna(0.0)
    scores["engaged_contacts"] = scores["engaged_contacts"].fillna(0).astype(int)
    scores["spike"] = scores["spike"].fillna(False).astype(bool)
    for column, empty in (("by_channel", {}), ("top_activities", [])):
        scores[column] = [v if isinstance(v, dict | list) else empty for v in scores[column]]
    return scores


def score_history(
    data: Inputs, start: dt.date, now: pd.Timestamp, params: EngineParams
) -> pd.DataFrame:
    """Daily scores from ``start`` to today; only days above 0 (a missing day reads as 0)."""
    history = engagement.score_history(
        data.activities, start, now.date(), **params.engagement_kwargs()
    )
    return history.loc[history["score"] > 0]


def engaged_accounts(
    data: Inputs, now: pd.Timestamp, params: EngineParams
) -> tuple[pd.DataFrame, set]:
    """Target accounts engaged (daily score >= the engaged score on >= 1 day) per month, and in
    the lift period. Only targets: the engaged split is within targets."""
    targets = data.accounts.loc[data.accounts["tier"].notna(), "account_id"]
    acts = data.activities.loc[data.activities["account_id"].isin(targets)]
    lift_start = now - pd.Timedelta(days=params.lift_period_days)
    empty = pd.DataFrame(
        {"account_id": pd.Series(dtype="int64"), "month": pd.Series(dtype="M8[ns]")}
    )
    if acts.empty:
        return empty, set()
    # No score before the first activity: start there, or at the earliest month we need.
    first_day = acts["occurred_at"].min().tz_convert("UTC").tz_localize(None).normalize()
    start = max(first_day, min(data.horizon, lift_start.tz_localize(None).normalize()))
    daily = engagement.score_history(acts, start, now.date(), **params.engagement_kwargs())
    days = pd.DatetimeIndex(pd.unique(daily["date"]))
    accounts = pd.unique(daily["account_id"])
    if len(daily) != len(accounts) * len(days):
        raise ValueError("score_history no longer returns one row per account and day")
    grid = daily["score"].to_numpy().reshape(len(accounts), len(days))  # account-major
    hot = grid >= params.engaged_score
    months = days.to_period("M")
    bounds = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    per_month = np.logical_or.reduceat(hot, bounds, axis=1)
    account_at, month_at = np.nonzero(per_month)
    engaged_months = pd.DataFrame(
        {
            "account_id": accounts[account_at],
            "month": months[bounds].start_time.to_numpy()[month_at],
        }
    )
    in_period = hot[:, days >= lift_start.tz_localize(None).normalize()].any(axis=1)
    return engaged_months, set(accounts[in_period].tolist())


def journey_stages_now(
    accounts: pd.DataFrame,
    scores: pd.DataFrame,
    opportunities: pd.DataFrame,
    activities: pd.DataFrame,
    now: pd.Timestamp,
    params: EngineParams,
) -> pd.Series:
    recent = activities["occurred_at"] > now - pd.Timedelta(days=params.engagement_window_days)
    inbound = activities.loc[recent & (activities["direction"] == "inbound"), "account_id"]
    created = opportunities.loc[opportunities["created_at"] <= now]
    frame = accounts[["account_id", "tier"]].merge(
        scores[["account_id", "score", "engaged_contacts"]], on="account_id", how="left"
    )
    frame["has_inbound_90d"] = frame["account_id"].isin(inbound.unique())
    open_ = created["closed_at"].isna() | (created["closed_at"] > now)
    frame["has_open_opportunity"] = frame["account_id"].isin(created.loc[open_, "account_id"])
    won = (created["stage"] == "closed_won") & (created["closed_at"] <= now)
    frame["has_won_opportunity"] = frame["account_id"].isin(created.loc[won, "account_id"])
    return stages.journey_stages(
        frame,
        engaged_score=params.engaged_score,
        mqa_score=params.mqa_score,
        mqa_min_contacts=params.mqa_min_engaged_contacts,
    )


def with_new_mqa(first_mqa: pd.DataFrame, changes: pd.DataFrame, now: pd.Timestamp):
    """Accounts this run moves to mqa for the first time became mqa now."""
    return with_new_reached(first_mqa, changes, now, ("mqa",), "mqa_at")


def with_new_reached(
    first: pd.DataFrame, changes: pd.DataFrame, now: pd.Timestamp, stages, column: str
) -> pd.DataFrame:
    """``first`` (``account_id, {column}``) with the accounts this run moves to one of
    ``stages`` for the first time, reached now."""
    new = changes.loc[
        changes["to_stage"].isin(stages) & ~changes["account_id"].isin(first["account_id"]),
        ["account_id"],
    ].assign(**{column: now})
    if new.empty:
        return first
    return pd.concat([first, new], ignore_index=True)
