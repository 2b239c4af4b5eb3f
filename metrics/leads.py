"""Lead management (DOMAIN.md "Lead management"): pure pandas/numpy, no Django.

Follow-up against the SLA, sourced vs influenced pipeline, and lead-to-opportunity conversion.

Decisions where DOMAIN.md is silent:

- Follow-up: each lead's outcome comes from ``accounts/follow_up.py`` (the SLA rule). A *waiting*
  lead is left out of the rate until it is decided; an overdue one counts as a miss. Median hours
  are over the leads followed up. The rep is the account's owner.
- Marketing touch: a touch (an activity the touch rules count, metrics/touch_rules.py) whose
  playbook step is owned by marketing; outside playbooks, a touch on any channel but ``phone`` and
  ``sdr_outreach``. A step's owner decides over its channel: an email a rep sends from a sales
  step is a sales touch.
- Sourced share = pipeline (amount of opportunities created) whose source is ``marketing`` /
  all pipeline; influenced share = pipeline with >= 1 marketing touch on the account in the
  attribution window before creation (``created_at - window_days <= ts <= created_at``) / all
  pipeline. A deal can be both; with no pipeline the shares are NaN (shown as "—").
- Lead conversion: a lead converts when its account gets an opportunity created after the
  hand-off and at most ``days`` (90) later. A lead younger than ``days`` that has not converted yet
  is left out (not decided), so recent months do not look worse than they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from abm.lib.timeconv import to_utc

SALES_CHANNELS = ("phone", "sdr_outreach")
MARKETING = "marketing"


def follow_up_summary(outcomes: pd.DataFrame, *, by: Sequence[str] = ()) -> pd.DataFrame:
    """Per group: ``handed_off, due, on_time, rate, followed_up, median_hours``."""
    frame = outcomes.assign(
        handed_off=1,
        due=outcomes["due"].astype(int),
        on_time=outcomes["on_time"].astype(int),
        followed_up=outcomes["hours"].notna().astype(int),
    )
    counts = ["handed_off", "due", "on_time", "followed_up"]
    if by:
        grouped = frame.groupby(list(by), dropna=False)
        table = grouped[counts].sum()
        table["median_hours"] = grouped["hours"].median()
    else:
        table = frame[counts].sum().to_frame().T
        table["median_hours"] = frame["hours"].median() if len(frame) else np.nan
    table["rate"] = table["on_time"] / table["due"].where(table["due"] > 0)
    table = table[["handed_off", "due", "on_time", "rate", "followed_up", "median_hours"]]
    return table.reset_index() if by else table.reset_index(drop=True)


def is_marketing_touch(touches: pd.DataFrame) -> np.ndarray:
    """``touches``: ``channel`` and ``owner_role`` of the step ("" or NA outside playbooks)."""
    role = touches["owner_role"].fillna("").astype(str).to_numpy()
    by_channel = ~touches["channel"].isin(SALES_CHANNELS).to_numpy()
    return np.where(role == "", by_channel, role == MARKETING)


def pipeline_origins(
    opportunities: pd.DataFrame, touches: pd.DataFrame, *, window_days: float
) -> pd.DataFrame:
    """Per opportunity: ``sourced`` (source is marketing) and ``influenced`` (a marketing touch
    in the window before creation).

    ``opportunities``: ``opportunity_id, account_id, amount, source, created_at``; ``touches``:
    ``account_id, occurred_at, channel, owner_role``.
    """
    marketing = touches.loc[is_marketing_touch(touches), ["account_id", "occurred_at"]]
    joined = opportunities[["opportunity_id", "account_id", "created_at"]].merge(
        marketing, on="account_id"
    )
    window = pd.Timedelta(days=window_days)
    inside = (joined["occurred_at"] <= joined["created_at"]) & (
        joined["occurred_at"] >= joined["created_at"] - window
    )
    influenced = opportunities["opportunity_id"].isin(joined.loc[inside, "opportunity_id"])
    return opportunities.assign(
        sourced=(opportunities["source"] == MARKETING).to_numpy(),
        influenced=influenced.to_numpy(),
    )


def lead_conversions(
    leads: pd.DataFrame,
    opportunities: pd.DataFrame,
    *,
    days: float,
    now: pd.Timestamp,
) -> pd.DataFrame:
    """Per lead: ``converted`` and ``decided`` (converted, or ``days`` have passed).

    ``leads``: ``lead_id, account_id, handed_off_at``; ``opportunities``:
    ``account_id, created_at``.
    """
    horizon = pd.Timedelta(days=days)
    joined = leads[["lead_id", "account_id", "handed_off_at"]].merge(
        opportunities[["account_id", "created_at"]], on="account_id"
    )
    hit = (joined["created_at"] > joined["handed_off_at"]) & (
        joined["created_at"] <= joined["handed_off_at"] + horizon
    )
    converted = leads["lead_id"].isin(joined.loc[hit, "lead_id"]).to_numpy()
    matured = (leads["handed_off_at"] + horizon <= to_utc(now)).to_numpy()
    return leads.assign(converted=converted, decided=converted | matured)
