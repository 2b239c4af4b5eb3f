"""Every rollup the dashboards read, from what the run loaded and computed (metrics/rollups.py
shapes each part)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accounts.follow_up import follow_up_outcomes
from metrics import engagement, leads, lift, roi, rollups
from metrics.engine.compute.inputs import Inputs
from metrics.engine.params import EngineParams


def build_rollups(
    data: Inputs,
    credits: pd.DataFrame,
    touches: pd.DataFrame,
    first_mqa: pd.DataFrame,
    new_stages: pd.Series,
    engaged_months: pd.DataFrame,
    engaged_in_period: set,
    now: pd.Timestamp,
    params: EngineParams,
) -> pd.DataFrame:
    accounts = data.accounts
    window = params.attribution_window_days
    parts = [
        rollups.credit_rollup(roi.credit_rows(credits, accounts)),
        rollups.spend_rollup(roi.spend_rows(data.activities, data.budget_lines, accounts)),
        rollups.mqa_rollup(roi.mqa_rows(touches, first_mqa, accounts, window_days=window)),
        rollups.deal_rollups(_deals(data, touches, engaged_months, now, params)),
        rollups.engaged_accounts_rollup(roi.account_dimensions(engaged_months, accounts)),
        _engagement_trend(data, now, params),
        rollups.task_rollup(
            roi.account_dimensions(data.tasks, accounts).assign(
                month=roi.month_of(data.tasks["due_at"])
            ),
            today=now.tz_convert("UTC").floor("D"),
        ),
        _lead_rollups(data, now, params),
        rollups.accounts_rollup(
            roi.account_dimensions(
                pd.DataFrame(
                    {"account_id": new_stages.index, "stage": new_stages.to_numpy(dtype=object)}
                ),
                accounts,
            )
        ),
        _lift_snapshot(data, engaged_in_period, now, params),
        rollups.holdout_rollup(
            lift.holdout_lift(
                data.enrolments,
                data.opportunities,
                now=now,
                min_group=params.lift_min_group,
                resamples=params.lift_resamples,
                seed=params.lift_seed,
            )
        ),
    ]
    frame = rollups.assemble(parts)
    monthly = pd.notna(frame["period"].to_numpy())
    recent = np.array([p is None or p >= data.horizon.date() for p in frame["period"]])
    return frame.loc[~monthly | recent].reset_index(drop=True)


def _deals(data: Inputs, touches, engaged_months, now, params: EngineParams) -> pd.DataFrame:
    created = data.opportunities.loc[data.opportunities["created_at"] <= now]
    deals = lift.opportunity_outcomes(created)
    origins = leads.pipeline_origins(created, touches, window_days=params.attribution_window_days)
    deals = roi.account_dimensions(deals, data.accounts).assign(
        month=roi.month_of(deals["created_at"]),
        sourced=origins["sourced"].to_numpy(),
        influenced=origins["influenced"].to_numpy(),
    )
    engaged = pd.MultiIndex.from_frame(engaged_months[["account_id", "month"]])
    is_engaged = pd.MultiIndex.from_frame(deals[["account_id", "month"]]).isin(engaged)
    deals["segment"] = np.where(
        deals["tier"].fillna(0).to_numpy() > 0,
        np.where(is_engaged, "engaged", "not_engaged"),
        "",
    )
    return deals


def _engagement_trend(data: Inputs, now, params: EngineParams) -> pd.DataFrame:
    """Sampled days' scores as the daily history stores them, recomputed from the activities: a
    run's ``history`` frame holds only the days since the previous run."""
    days = rollups.engagement_days(now.tz_convert("UTC").date())
    members = rollups.engagement_members(
        data.enrolments, lift.ENROLLED_STATUSES, lift.HOLDOUT_STATUS
    )
    acts = data.activities.loc[data.activities["account_id"].isin(members["account_id"])]
    if acts.empty:
        daily = pd.DataFrame({"account_id": [], "date": [], "score": []})
    else:
        daily = engagement.score_history(acts, days[0], days[-1], **params.engagement_kwargs())
        daily = daily.loc[daily["date"].isin(pd.to_datetime(days))]
    return rollups.engagement_rollup(roi.account_dimensions(members, data.accounts), daily, days)


def _lead_rollups(data: Inputs, now, params: EngineParams) -> pd.DataFrame:
    frame = roi.account_dimensions(data.leads, data.accounts).assign(
        month=roi.month_of(data.leads["handed_off_at"]),
        channel=data.leads["source_channel"].astype(object),
    )
    follow_ups = follow_up_outcomes(frame, now=now, sla_hours=params.follow_up_sla_hours)
    conversions = leads.lead_conversions(
        frame, data.opportunities, days=params.lead_conversion_days, now=now
    )
    return rollups.lead_rollups(follow_ups, conversions)


def _lift_snapshot(data: Inputs, engaged_in_period: set, now, params: EngineParams) -> pd.DataFrame:
    accounts = data.accounts.assign(engaged=data.accounts["account_id"].isin(engaged_in_period))
    start = now - pd.Timedelta(days=params.lift_period_days)
    end = now + pd.Timedelta(microseconds=1)  # up to and including now
    metrics = lift.segment_metrics(data.opportunities, accounts, start=start, end=end)
    return rollups.lift_rollup(metrics, lift.lifts(metrics))
