"""Rows goal progress needs, from the database into a ``GoalData`` and plain goal rows
(goals/progress.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import QuerySet

from abm.lib.channels import ActivityKind
from abm.lib.frames import frame_from_queryset
from accounts.models import Account, Lead, Opportunity
from goals.models import Goal
from goals.progress import REACHED_STAGES, GoalData
from metrics.models import JourneyStageChange
from metrics.planning_inputs import first_deals, first_stage_changes, reach_dates
from playbooks.models import Activity, Enrolment


def load_goal_data(
    *,
    since: dt.date,
    until: dt.datetime,
    accounts: QuerySet[Account] | None = None,
    playbook_ids: list[int] | None = None,
) -> GoalData:
    """Everything from ``since`` (a day, UTC) to ``until``; ``accounts`` limits the rows to a
    user's accounts, ``playbook_ids`` the enrolments to the playbooks goals are scoped to."""
    accounts = Account.objects.all() if accounts is None else accounts
    start = pd.Timestamp(since.year, since.month, since.day, tz="UTC").to_pydatetime()
    ids = accounts.order_by().values("pk")
    enrolments = Enrolment.objects.order_by().filter(account__in=ids)
    if playbook_ids is not None:
        enrolments = enrolments.filter(playbook_id__in=playbook_ids)
    opportunities = Opportunity.objects.order_by().filter(account__in=ids, created_at__lte=until)
    frame = frame_from_queryset(
        accounts.order_by(), {"account_id": "id", "tier": "tier", "owner_id": "owner_id"}
    ).astype({"account_id": "int64", "tier": "float64", "owner_id": "float64"})
    return GoalData(
        accounts=frame,
        # No playbook scopes: no query (an empty IN cannot go through PostgreSQL's COPY).
        enrolments=frame_from_queryset(
            enrolments,
            {"account_id": "account_id", "playbook_id": "playbook_id", "status": "status"},
            texts=("status",),
        )
        if playbook_ids != []
        else GoalData().enrolments,
        # A deal counts by its creation (pipeline) or its close (revenue, win rate).
        opportunities=frame_from_queryset(
            opportunities.filter(created_at__gte=start)
            | opportunities.filter(closed_at__gte=start),
            {
                "account_id": "account_id",
                "amount": "amount",
                "stage": "stage",
                "created_at": "created_at",
                "closed_at": "closed_at",
            },
            datetimes=("created_at", "closed_at"),
            numbers=("amount",),
            texts=("stage",),
        ),
        meetings=frame_from_queryset(
            Activity.objects.order_by().filter(
                account__in=ids,
                kind=ActivityKind.MEETING,
                occurred_at__gte=start,
                occurred_at__lte=until,
            ),
            {"account_id": "account_id", "occurred_at": "occurred_at"},
            datetimes=("occurred_at",),
        ),
        leads=frame_from_queryset(
            Lead.objects.order_by().filter(
                account__in=ids, handed_off_at__gte=start, handed_off_at__lte=until
            ),
            {
                "account_id": "account_id",
                "handed_off_at": "handed_off_at",
                "first_follow_up_at": "first_follow_up_at",
            },
            datetimes=("handed_off_at", "first_follow_up_at"),
        ),
        reached=_reached(
            pd.Index(frame["account_id"]),
            JourneyStageChange.objects.filter(account__in=ids, changed_at__lte=until),
            opportunities,
            since=since,
            until=until,
        ),
        sla_hours=float(settings.ABM_FOLLOW_UP_SLA_HOURS),
    )


def _reached(index: pd.Index, changes, deals, *, since: dt.date, until: dt.datetime):
    """When each account of ``index`` first reached engaged and mqa, as the planner counts (a
    stage skipped is passed when a later one is reached): from these stage changes and deals
    (the whole history up to ``until``), kept when on or after ``since``."""
    first = reach_dates(index, first_stage_changes(changes), first_deals(deals))
    # The reach dates are naive UTC.
    lo, hi = pd.Timestamp(since), pd.Timestamp(until).tz_convert("UTC").tz_localize(None)
    parts = []
    for stage in REACHED_STAGES:
        at = first[stage]
        at = at[(at >= lo) & (at <= hi)]  # a deal may close after ``until``
        parts.append(
            pd.DataFrame(
                {
                    "account_id": at.index.to_numpy(dtype=np.int64),
                    "stage": stage,
                    "at": pd.DatetimeIndex(at.to_numpy()).tz_localize("UTC"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


SUMMARY_FIELDS = (
    "id",
    "name",
    "team",
    "metric",
    "start_date",
    "end_date",
    "target",
    "current_value",
    "expected_value",
    "status",
    "computed_at",
)


def goal_summary_rows(goals: QuerySet[Goal]) -> list[dict]:
    """The stored progress of ``goals`` as plain rows for ``goal_summaries``, with the owner's
    name: pass ``select_related("owner")``."""
    return [
        {
            **{name: getattr(goal, name) for name in SUMMARY_FIELDS},
            "owner": goal.owner.get_full_name() or goal.owner.username,
        }
        for goal in goals
    ]
