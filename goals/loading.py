"""Rows goal progress needs, from the database into a ``GoalData`` and plain goal rows
(goals/progress.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.conf import settings
from django.db.models import Min, QuerySet

from abm.lib.channels import ActivityKind
from abm.lib.frames import frame_from_queryset
from accounts.models import Account, Lead, Opportunity
from goals.models import Goal
from goals.progress import GoalData
from metrics.models import EngagementHistory, JourneyStageChange
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
    first_mqa = (
        JourneyStageChange.objects.filter(to_stage="mqa", account__in=ids, changed_at__lte=until)
        .values("account_id")
        .annotate(mqa_at=Min("changed_at"))
        .filter(mqa_at__gte=start)
        .order_by()
    )
    return GoalData(
        accounts=frame_from_queryset(
            accounts.order_by(), {"account_id": "id", "tier": "tier", "owner_id": "owner_id"}
        ).astype({"account_id": "int64", "tier": "float64", "owner_id": "float64"}),
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
        first_mqa=frame_from_queryset(
            first_mqa, {"account_id": "account_id", "mqa_at": "mqa_at"}, datetimes=("mqa_at",)
        ),
        engaged_days=_engaged_days(ids, since, until),
        sla_hours=float(settings.ABM_FOLLOW_UP_SLA_HOURS),
    )


def _engaged_days(ids, since: dt.date, until: dt.datetime) -> pd.DataFrame:
    frame = frame_from_queryset(
        EngagementHistory.objects.order_by().filter(
            account__in=ids,
            date__gte=since,
            date__lte=until.date(),
            score__gte=settings.ABM_ENGAGED_SCORE,
        ),
        {"account_id": "account_id", "date": "date"},
    )
    frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize("UTC")
    return frame


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
