"""The rows the rollups are built from: a slot's deals (``deal_rows``) and the parts computed over
every account at once (``global_rollups``): budget lines, leads, lift and the holdout test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accounts.follow_up import follow_up_outcomes
from metrics import engagement, leads, lift, roi, rollups
from metrics.engine.compute.inputs import Inputs
from metrics.engine.params import EngineParams


def deal_rows(data: Inputs, touches, engaged_months, now, params: EngineParams) -> pd.DataFrame:
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


def global_rollups(
    data: Inputs,
    budget_weights: pd.DataFrame,
    engaged_in_period: set,
    now: pd.Timestamp,
    params: EngineParams,
) -> list[pd.DataFrame]:
    """``data`` holds every account, deal, lead, enrolment and budget line, and no activities;
    ``budget_weights``: the slots' summed activity cost and count per month, channel, playbook,
    tier and owner (``compute.slot.activity_costs``)."""
    return [
        rollups.spend_rollup(budget_spend_rows(data.budget_lines, budget_weights)),
        _lead_rollups(data, now, params),
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


def budget_spend_rows(budget_lines: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Budget lines shared out as ``roi.spend_rows`` shares them to accounts, to the tier and
    owner groups the rollups keep: a group's share is the sum of its accounts' shares."""
    groups = weights[["tier", "owner_id"]].drop_duplicates().reset_index(drop=True)
    groups["group"] = np.arange(len(groups), dtype=np.int64)
    keyed = weights.merge(groups, on=["tier", "owner_id"], how="left").rename(
        columns={"period": "month", "group": "account_id"}
    )
    columns = ["month", "channel", "playbook_id", "account_id"]
    costs = keyed.loc[keyed["value"] > 0, columns].assign(amount=keyed["value"], lines=1.0)
    counts = keyed[columns].assign(amount=keyed["count"].astype(float))
    rows = roi.budget_rows(budget_lines, costs, counts)
    at = groups.set_index("group")
    known = rows["account_id"].notna()
    tier = pd.array([pd.NA] * len(rows), dtype="Int64")
    owner = pd.array([pd.NA] * len(rows), dtype="Int64")
    picked = at.reindex(rows.loc[known, "account_id"].astype("int64"))
    tier[known.to_numpy()] = picked["tier"].astype("Int64").array
    owner[known.to_numpy()] = picked["owner_id"].astype("Int64").array
    return rows.assign(tier=tier, owner_id=owner)


def engagement_trend(data: Inputs, now, params: EngineParams) -> pd.DataFrame:
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


def task_rows(data: Inputs, now) -> pd.DataFrame:
    """A slot's rollup of its accounts' tasks due from the horizon on."""
    frame = roi.account_dimensions(data.tasks, data.accounts)
    return rollups.task_rollup(
        frame.assign(month=roi.month_of(data.tasks["due_at"])),
        today=now.tz_convert("UTC").floor("D"),
    )


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
