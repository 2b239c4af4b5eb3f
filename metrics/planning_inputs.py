"""What the planner reads (issue #18), from the database into the pure package's inputs.

Everything is scoped to what ``user`` may see, through the one scoping function of each model:
a rep's plan rests on their own accounts' history and spend.

- Journeys: one row per target account (tier 1..3) with the first date it reached each plan
  stage, from the journey stage history, its opportunities (created = reached opportunity) and its
  closed_won deals (closed = won; amounts summed). A stage skipped counts as passed on the date of
  the next stage reached (for targeted, aware counts as that next stage); a target with no history
  was targeted when it was created. With a
  playbook, its enrolled accounts (holdouts excluded) appear once more with its id, for the
  per-playbook rates.
- Channel costs over the last ``ABM_PLAN_COST_MONTHS`` months: spend (activity costs and budget
  lines shared out as in metrics/roi.py, read from the spend rollups) and mqa accounts per channel
  from the rollups, attributed opportunities (sum of pipeline weights) and won revenue (revenue
  credits) per channel of the chosen model, from the credit rollups (AttributionCredit summed).
- Pool: per plan stage, the targets in scope that have not yet passed it (see pool_counts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from abm.lib.frames import frame_from_queryset
from accounts.models import JourneyStage, OpportunityStage
from accounts.visibility import accounts_visible_to, opportunities_visible_to
from metrics.engine.compute.planning import PLAN_STAGES, ChannelCost
from metrics.models import ConversionKind, RollupMetric
from metrics.visibility import (
    journey_stage_changes_visible_to,
    rollups_visible_to,
)
from playbooks.models import EnrolmentStatus
from playbooks.visibility import enrolments_visible_to

TARGET_TIERS = (1, 2, 3)
# Journey stages as plan stages; customer is won. Aware is not a plan stage, but it comes right
# after targeted: a target whose history starts at aware (it answered before its first evaluation
# as a target) passed targeted then, not when it later became engaged.
_PLAN_STAGE_OF = {
    JourneyStage.TARGETED: "targeted",
    JourneyStage.AWARE: "targeted",
    JourneyStage.ENGAGED: "engaged",
    JourneyStage.MQA: "mqa",
    JourneyStage.OPPORTUNITY: "opportunity",
    JourneyStage.CUSTOMER: "won",
}
# How far down the funnel an account's current stage is, in plan stages (aware = not yet engaged).
_DEPTH = {"": 0, "targeted": 0, "aware": 0, "engaged": 1, "mqa": 2, "opportunity": 3, "customer": 4}


@dataclass(frozen=True)
class PlanData:
    journeys: pd.DataFrame
    costs: list[ChannelCost]
    pool: dict[str, int]


def _naive(values: pd.Series) -> pd.Series:
    values = pd.to_datetime(values, utc=True)
    return values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")


def load_journeys(user, *, playbook=None) -> pd.DataFrame:
    targets = accounts_visible_to(user).filter(tier__in=TARGET_TIERS)
    accounts = frame_from_queryset(
        targets,
        {"account_id": "id", "tier": "tier", "created_at": "created_at"},
        datetimes=("created_at",),
    )
    # The history and deals of every account the user may see, not only targets: joining the
    # accounts to filter by tier cost more than the rows it saves; reindexing keeps the targets.
    changes = first_stage_changes(journey_stage_changes_visible_to(user))
    deals = first_deals(opportunities_visible_to(user))
    frame = accounts[["account_id", "tier"]].astype({"account_id": "int64", "tier": "int64"})
    index = pd.Index(frame["account_id"])
    first = reach_dates(index, changes, deals)
    created = _naive(accounts["created_at"]).set_axis(index)
    first["targeted"] = first["targeted"].fillna(created)
    for stage in PLAN_STAGES:
        frame[f"{stage}_at"] = first[stage].to_numpy()
    won_amount = deals.set_index("account_id")["won_amount"].reindex(index)
    frame["won_amount"] = won_amount.fillna(0.0).to_numpy(dtype=float)
    frame["playbook_id"] = np.nan
    if playbook is None:
        return frame
    enrolled = set(
        enrolments_visible_to(user)
        .filter(playbook=playbook)
        .exclude(status=EnrolmentStatus.HOLDOUT)
        .values_list("account_id", flat=True)
    )
    extra = frame[frame["account_id"].isin(enrolled)].assign(playbook_id=float(playbook.pk))
    return pd.concat([frame, extra], ignore_index=True)


def first_stage_changes(changes: QuerySet) -> pd.DataFrame:
    """``account_id, to_stage, first``: the first change of each account to each journey stage
    that is a plan stage, of these stage changes."""
    return frame_from_queryset(
        changes.filter(to_stage__in=list(_PLAN_STAGE_OF))
        .values("account_id", "to_stage")
        .annotate(first=Min("changed_at"))
        .order_by(),
        {"account_id": "account_id", "to_stage": "to_stage", "first": "first"},
        datetimes=("first",),
    )


def first_deals(deals: QuerySet) -> pd.DataFrame:
    """``account_id, created, won_at, won_amount`` of these deals: each account's first deal
    created, first won close and won amount."""
    return frame_from_queryset(
        deals.values("account_id")
        .annotate(
            created=Min("created_at"),
            won_at=Min("closed_at", filter=Q(stage=OpportunityStage.CLOSED_WON)),
            won_amount=Sum("amount", filter=Q(stage=OpportunityStage.CLOSED_WON)),
        )
        .order_by(),
        {
            "account_id": "account_id",
            "created": "created",
            "won_at": "won_at",
            "won_amount": "won_amount",
        },
        datetimes=("created", "won_at"),
        numbers=("won_amount",),
    )


def reach_dates(index: pd.Index, changes: pd.DataFrame, deals: pd.DataFrame) -> dict:
    """Per plan stage, the naive UTC time each account of ``index`` first reached it, a stage
    skipped counting as passed when a later one was reached (NaT: not reached).

    ``changes``: ``account_id, to_stage, first`` (the first change to each journey stage);
    ``deals``: ``account_id, created, won_at`` (the first deal created, the first won close).
    Goal progress counts mqa and engaged accounts from the same dates (goals/loading.py)."""
    first = {s: pd.Series(pd.NaT, index=index, dtype="datetime64[ns]") for s in PLAN_STAGES}
    if len(changes):
        # One row per (account, journey stage) already: the query took the first change.
        at = _naive(changes["first"]).to_numpy()
        to_stage = changes["to_stage"].to_numpy()
        ids = changes["account_id"].to_numpy()
        for journey_stage, stage in _PLAN_STAGE_OF.items():
            rows = to_stage == journey_stage
            when = pd.Series(at[rows], index=ids[rows]).reindex(index)
            first[stage] = _earliest(first[stage], when)
    if len(deals):
        deals = deals.set_index("account_id")
        first["opportunity"] = _earliest(
            first["opportunity"], _naive(deals["created"]).reindex(index)
        )
        first["won"] = _earliest(first["won"], _naive(deals["won_at"]).reindex(index))
    # A stage skipped counts as passed when the account reached a later one.
    later = first["won"]
    for stage in reversed(PLAN_STAGES[:-1]):
        first[stage] = _earliest(first[stage], later)
        later = first[stage]
    return first


def _earliest(a: pd.Series, b: pd.Series) -> pd.Series:
    return a.where(a.notna() & ~(b < a), b)


def cost_window_start(today: dt.date) -> dt.date:
    """The first day of the month ``ABM_PLAN_COST_MONTHS`` months before today's (whole months)."""
    months = today.year * 12 + today.month - 1 - settings.ABM_PLAN_COST_MONTHS
    return dt.date(months // 12, months % 12 + 1, 1)


SPEND, ENGAGED, MQA, CREDIT = (
    RollupMetric.SPEND,
    RollupMetric.ENGAGED,
    RollupMetric.MQA,
    RollupMetric.CREDIT,
)


def load_channel_costs(user, *, tiers, playbook, model: str, since: dt.date) -> list[ChannelCost]:
    """Per channel since ``since``: spend, accounts that became engaged and mqa (1/n per touch),
    and the chosen model's attributed opportunities (sum of pipeline weights) and won revenue
    (revenue credit). All from the
    rollups the recompute stores: its ``credit`` rows are the AttributionCredit rows summed by
    month, channel, playbook, tier and owner, so they give the credits' figures at a few rows'
    cost (the same figures the ROI dashboard shows)."""
    rollups = rollups_visible_to(user).filter(period__gte=since, tier__in=tiers)
    if playbook is not None:
        rollups = rollups.filter(playbook=playbook)
    spend: dict[str, float] = {}
    mqa: dict[str, float] = {}
    engaged: dict[str, float] = {}
    opportunities: dict[str, float] = {}
    revenue: dict[str, float] = {}
    rows = (
        rollups.filter(metric__in=[SPEND, ENGAGED, MQA, CREDIT])
        .filter(Q(model="") | Q(model=model))
        .exclude(channel="")
        .values("metric", "kind", "channel")
        .annotate(v=Sum("value"), n=Sum("count"))
        .values_list("metric", "kind", "channel", "v", "n")
    )
    for metric, kind, channel, value, count in rows:
        if metric == SPEND:
            spend[channel] = spend.get(channel, 0.0) + float(value or 0)
        elif metric in (ENGAGED, MQA):
            reached = engaged if metric == ENGAGED else mqa
            reached[channel] = reached.get(channel, 0.0) + float(value or 0)
        elif kind == ConversionKind.PIPELINE:
            opportunities[channel] = float(count or 0)
        elif kind == ConversionKind.REVENUE:
            revenue[channel] = float(value or 0)
    channels = sorted(set(spend) | set(engaged) | set(mqa) | set(opportunities) | set(revenue))
    return [
        ChannelCost(
            channel=c,
            spend=spend.get(c, 0.0),
            engaged=engaged.get(c, 0.0),
            mqa=mqa.get(c, 0.0),
            opportunities=opportunities.get(c, 0.0),
            won_revenue=revenue.get(c, 0.0),
        )
        for c in channels
    ]


def pool_counts(user, *, tiers, playbook) -> dict[str, int]:
    """Per plan stage, the targets in scope that have not yet passed it, so could still feed it:
    for targeted, those not yet engaged (aware counts as not yet engaged); for engaged, those not
    yet mqa; ... ; for won, those not yet customers."""
    targets = accounts_visible_to(user).filter(tier__in=tiers)
    if playbook is not None:
        enrolled = (
            enrolments_visible_to(user)
            .filter(playbook=playbook)
            .exclude(status=EnrolmentStatus.HOLDOUT)
        )
        targets = targets.filter(pk__in=enrolled.values("account_id"))
    depth = np.zeros(5, dtype=int)
    for stage, n in targets.values("stage").annotate(n=Count("id")).values_list("stage", "n"):
        depth[_DEPTH.get(stage or "", 0)] += n
    # Targets not yet engaged, not yet mqa, not yet an opportunity; "won": not yet customers.
    return {stage: int(depth[: min(i, 3) + 1].sum()) for i, stage in enumerate(PLAN_STAGES)}


def load_plan_data(user, *, tiers, playbook, model: str, today: dt.date | None = None) -> PlanData:
    today = today or timezone.now().date()
    return PlanData(
        journeys=load_journeys(user, playbook=playbook),
        costs=load_channel_costs(
            user, tiers=tiers, playbook=playbook, model=model, since=cost_window_start(today)
        ),
        pool=pool_counts(user, tiers=tiers, playbook=playbook),
    )
