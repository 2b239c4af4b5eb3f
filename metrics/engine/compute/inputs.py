"""What a run reads, as frames, and how far back it reads."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metrics.engine.params import EngineParams
from metrics.touch_rules import TouchRules

_DAY = pd.Timedelta(days=1)


@dataclass
class Inputs:
    accounts: pd.DataFrame
    opportunities: pd.DataFrame
    activities: pd.DataFrame
    enrolments: pd.DataFrame
    tasks: pd.DataFrame  # task_id, account_id, playbook_id, status, due_at: due from the horizon
    leads: pd.DataFrame
    budget_lines: pd.DataFrame
    first_mqa: pd.DataFrame  # account_id, mqa_at: the first change of each account to mqa
    first_engaged: pd.DataFrame  # account_id, engaged_at: first change to engaged or later
    horizon: pd.Timestamp  # first month of the monthly rollups (naive, UTC)
    touch_rules: TouchRules  # which activities are attribution touches


def month_start(now: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(year=now.year, month=now.month, day=1)


def rollup_horizon(now: pd.Timestamp, params: EngineParams) -> pd.Timestamp:
    """The first month the monthly rollups keep (naive, UTC)."""
    return month_start(now) - pd.DateOffset(months=params.rollup_months - 1)


def activities_since(
    now: pd.Timestamp, opportunities: pd.DataFrame, params: EngineParams
) -> pd.Timestamp:
    """Enough history for today's scores, every deal's attribution window and the rollups'
    months."""
    window = pd.Timedelta(days=params.attribution_window_days)
    engagement_days = pd.Timedelta(days=params.engagement_window_days)
    horizon = rollup_horizon(now, params)
    since = min(now - engagement_days - _DAY, horizon.tz_localize("UTC") - engagement_days)
    if not opportunities.empty:
        since = min(since, opportunities["created_at"].min() - window)
    return since


def history_floor(now: pd.Timestamp, params: EngineParams):
    """The earliest day the daily engagement history is rewritten from: one window back."""
    return (now - pd.Timedelta(days=params.engagement_window_days - 1)).date()
