"""The sales dashboard: a rep's accounts by priority with why they are hot, the tasks due, and the
pipeline on those accounts.

Every read goes through the scoping functions, so a rep's dashboard holds only their own accounts
(and the rollups whose owner is them). A director or marketer sees the accounts of the rep picked
in the Owner filter, or every account they may see when no rep is picked. A fixed number of small
grouped queries whatever the number of accounts.

Where DOMAIN.md is silent (README "Metrics"):
- The priority list, the account tiles and the pipeline by stage are the state now: the period
  does not apply to them. Won revenue counts deals closed won in the period (by close date).
- The Playbook filter narrows the priority list and the tasks to the accounts enrolled in that
  playbook, and the attributed pipeline to credit from that playbook's touches; opportunities
  belong to no playbook, so pipeline by stage ignores it.
- Tasks due: open tasks due before today (overdue) or within the next 7 days; a rep's own queue,
  the picked rep's queue for a director, or every sales-step task when no rep is picked.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pandas as pd
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from abm.lib import colours
from accounts.filtering import priority_expression
from accounts.list_filters import day_range_q, tier_q
from accounts.models import CLOSED_STAGES, OpportunityStage
from accounts.visibility import accounts_visible_to, opportunities_visible_to
from dashboards import charts
from dashboards import figures as fig
from dashboards.account_loading import why_hot_by_account
from dashboards.drilldown import accounts_url, opportunities_url
from dashboards.figures import Column, Table
from dashboards.filters import NON_TARGET, TARGETS, DashboardFilters
from dashboards.panels import channel_label
from dashboards.rollup_reading import rollup_sums
from metrics.lift import ENROLLED_STATUSES
from metrics.models import AttributionModel
from playbooks.models import OwnerRole, TaskStatus
from playbooks.task_filtering import DUE_SOON_DAYS
from playbooks.visibility import tasks_visible_to

PRIORITY_ROWS = 15
TASK_ROWS = 15
OPEN_STAGES = [s for s in OpportunityStage.values if s not in CLOSED_STAGES]


def sales_context(user, filters: DashboardFilters, *, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    mine = not user.sees_everything
    accounts = _accounts(user, filters)
    counts = accounts.aggregate(
        accounts=Count("pk"),
        targets=Count("pk", filter=Q(tier__isnull=False)),
        spiking=Count("pk", filter=Q(spike=True)),
    )
    top = list(
        accounts.annotate(priority=priority_expression())
        .select_related("engagement", "owner")
        .order_by("-priority", "name", "pk")[:PRIORITY_ROWS]
    )
    why = why_hot_by_account(top, now=now)
    tasks, task_counts = _tasks(user, filters, now=now)
    stages = _opportunities(user, filters)
    credit = rollup_sums(
        user, filters, metrics=["credit"], by=["kind", "channel"], model=filters.model
    )

    tables = [
        priority_table(top, why, filters, show_owner=not mine),
        task_table(tasks, now=now),
        stage_table(stage_rows(stages), filters),
        channel_table(channel_rows(credit), filters),
    ]
    t = {table.name: table for table in tables}
    return {
        "tables": tables,
        "t": t,
        "tiles": tiles(counts, task_counts, stages, filters, mine=mine),
        "charts": {
            "stages": _stage_chart(t["pipeline_by_stage"].rows),
            "channels": _channel_chart(t["attributed_by_channel"].rows),
        },
        "mine": mine,
        "account_count": counts["accounts"],
        "task_counts": task_counts,
        "model_label": AttributionModel(filters.model).label,
        "all_accounts_url": accounts_url(filters, sort="-priority"),
        "spiking_url": accounts_url(filters, spike="on", sort="-priority"),
        "soon_days": DUE_SOON_DAYS,
    }


# --- Loading ----------------------------------------------------------------------------------


def _accounts(user, filters: DashboardFilters):
    accounts = accounts_visible_to(user)
    if filters.owner is not None:
        accounts = accounts.filter(owner_id=filters.owner)
    if filters.tier:
        accounts = accounts.filter(_account_tier_q(filters.tier))
    if filters.playbook is not None:
        # Enrolled in it; the holdout is the control group, not in the playbook.
        accounts = accounts.filter(
            enrolments__playbook_id=filters.playbook, enrolments__status__in=ENROLLED_STATUSES
        )
    return accounts


def _account_tier_q(tier: str) -> Q:
    # tier_q (accounts/list_filters.py) speaks of a child's account; this is the account itself.
    if tier == TARGETS:
        return Q(tier__isnull=False)
    if tier == NON_TARGET:
        return Q(tier__isnull=True)
    return Q(tier=int(tier))


def _tasks(user, filters: DashboardFilters, *, now: dt.datetime):
    """The open tasks due by the end of the soon window (the first few), and the counts."""
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    soon = now + dt.timedelta(days=DUE_SOON_DAYS)
    tasks = tasks_visible_to(user).filter(status=TaskStatus.OPEN, due_at__lt=soon)
    if not user.sees_everything:
        tasks = tasks.filter(assignee=user)
    elif filters.owner is not None:
        tasks = tasks.filter(assignee_id=filters.owner)
    else:
        tasks = tasks.filter(owner_role=OwnerRole.SALES)
    if filters.tier:
        tasks = tasks.filter(tier_q(filters.tier))
    if filters.playbook is not None:
        tasks = tasks.filter(enrolment__playbook_id=filters.playbook)
    counts = tasks.aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=today)),
        soon=Count("pk", filter=Q(due_at__gte=today)),
    )
    rows = list(
        tasks.select_related("account", "enrolment__playbook").order_by("due_at", "pk")[:TASK_ROWS]
    )
    for task in rows:
        task.is_overdue = task.due_at < today
    return rows, counts


def _opportunities(user, filters: DashboardFilters) -> pd.DataFrame:
    """Open deals per stage now, and the deals closed won in the period (``stage`` closed_won)."""
    deals = opportunities_visible_to(user)
    if filters.owner is not None:
        deals = deals.filter(account__owner_id=filters.owner)
    if filters.tier:
        deals = deals.filter(tier_q(filters.tier))
    # UTC days, as the opportunity list the tile links to counts them.
    won = Q(stage=OpportunityStage.CLOSED_WON) & day_range_q(
        "closed_at", filters.first_day, filters.last_day
    )
    # Conditions in the sums, not an OR in WHERE: the scoped deals are read once by account.
    counted = Q(stage__in=OPEN_STAGES) | won
    rows = (
        deals.order_by()
        .values("stage")
        .annotate(amount=Sum("amount", filter=counted), deals=Count("pk", filter=counted))
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["stage", "amount", "deals"])
    frame["amount"] = frame["amount"].astype(float).fillna(0.0)
    return frame.loc[frame["deals"] > 0].reset_index(drop=True)


# --- Figures ----------------------------------------------------------------------------------


def priority_table(accounts: list, why: dict, filters, *, show_owner: bool) -> Table:
    columns = [
        Column("name", "Account"),
        Column("tier", "Tier"),
        Column("stage", "Journey stage"),
        Column("fit", "Fit", "number"),
        Column("engagement", "Engagement", "number"),
        Column("priority", "Priority", "number"),
        Column("spike", "Spike"),
        Column("why_hot", "Why hot"),
    ]
    if show_owner:
        columns.append(Column("owner", "Owner"))
    table = Table("priority_accounts", "Accounts by priority", columns)
    for account in accounts:
        owner = account.owner
        table.rows.append(
            {
                "pk": account.pk,
                "name": account.name,
                "domain": account.domain,
                "tier": f"Tier {account.tier}" if account.tier else "",
                "tier_value": account.tier,
                "stage": account.get_stage_display() if account.stage else "",
                "stage_key": account.stage,
                "fit": account.fit_score,
                "engagement": account.engagement_score,
                "priority": account.priority,
                "spike": "Spike" if account.spike else "",
                "is_spike": account.spike,
                "why_hot": why.get(account.pk, ""),
                "owner": (owner.get_full_name() or owner.username) if owner else "Unassigned",
                "url": reverse("accounts:detail", args=[account.pk]) + "#timeline",
            }
        )
    return table


def task_table(tasks: list, *, now: dt.datetime) -> Table:
    table = Table(
        "tasks_due",
        "Tasks due",
        [
            Column("subject", "Task"),
            Column("due", "Due"),
            Column("state", "Status"),
            Column("account", "Account"),
            Column("playbook", "Playbook"),
            Column("channel", "Channel"),
        ],
    )
    for task in tasks:
        table.rows.append(
            {
                "subject": str(task),
                "due": f"{timezone.localtime(task.due_at):%Y-%m-%d}",
                "due_at": task.due_at,
                "state": "Overdue" if task.is_overdue else "Due soon",
                "is_overdue": task.is_overdue,
                "account": task.account.name,
                "account_url": reverse("accounts:detail", args=[task.account_id]),
                "playbook": task.enrolment.playbook.name,
                "channel": task.get_channel_display(),
                "channel_key": task.channel,
                "url": reverse("playbooks:tasks"),
            }
        )
    return table


def stage_rows(stages: pd.DataFrame) -> list[dict]:
    """Open pipeline per stage in the stage order (every open stage, zero where none)."""
    by_stage = stages.set_index("stage") if len(stages) else stages
    rows = []
    total = sum(
        float(by_stage.loc[s, "amount"]) for s in OPEN_STAGES if len(stages) and s in by_stage.index
    )
    for stage in OPEN_STAGES:
        present = len(stages) and stage in by_stage.index
        amount = float(by_stage.loc[stage, "amount"]) if present else 0.0
        deals = int(by_stage.loc[stage, "deals"]) if present else 0
        rows.append(
            {
                "stage_key": stage,
                "stage": OpportunityStage(stage).label,
                "deals": deals,
                "amount": amount,
                "share": fig.ratio(amount, total),
            }
        )
    return rows


def stage_table(rows: list[dict], filters) -> Table:
    table = Table(
        "pipeline_by_stage",
        "Open pipeline by stage",
        [
            Column("stage", "Stage"),
            Column("deals", "Open deals", "count"),
            Column("amount", "Amount", "money"),
            Column("share", "Share of open pipeline", "percent"),
        ],
    )
    for row in rows:
        # Open deals whatever their creation date: no created range on the link.
        row["url"] = opportunities_url(
            filters, credited=False, stage=row["stage_key"], created_from=None, created_to=None
        )
        table.rows.append(row)
    return table


def channel_rows(credit: pd.DataFrame) -> list[dict]:
    """Attributed pipeline and revenue per channel, biggest pipeline first."""
    if not len(credit):
        return []
    pivot = credit.pivot_table(index="channel", columns="kind", values="value", aggfunc="sum")
    pivot = pivot.reindex(columns=["pipeline", "revenue"]).fillna(0.0)
    pivot = pivot.sort_values(["pipeline", "revenue"], ascending=False)
    return [
        {
            "channel_key": channel,
            "channel": channel_label(channel),
            "pipeline": float(row["pipeline"]),
            "revenue": float(row["revenue"]),
        }
        for channel, row in pivot.iterrows()
        if channel
    ]


def channel_table(rows: list[dict], filters) -> Table:
    table = Table(
        "attributed_by_channel",
        "Attributed pipeline by channel",
        [
            Column("channel", "Channel"),
            Column("pipeline", "Attributed pipeline", "money"),
            Column("revenue", "Attributed revenue", "money"),
        ],
    )
    for row in rows:
        row["url"] = opportunities_url(filters, channel=row["channel_key"])
        row["revenue_url"] = opportunities_url(filters, kind="revenue", channel=row["channel_key"])
        table.rows.append(row)
    return table


def tiles(
    counts: dict, task_counts: dict, stages: pd.DataFrame, filters, *, mine: bool = True
) -> list[dict]:
    is_open = stages["stage"].isin(OPEN_STAGES) if len(stages) else None
    open_pipeline = float(stages.loc[is_open, "amount"].sum()) if len(stages) else 0.0
    open_deals = int(stages.loc[is_open, "deals"].sum()) if len(stages) else 0
    is_won = stages["stage"] == OpportunityStage.CLOSED_WON if len(stages) else None
    won = float(stages.loc[is_won, "amount"].sum()) if len(stages) else 0.0
    won_deals = int(stages.loc[is_won, "deals"].sum()) if len(stages) else 0
    return [
        {
            "key": "targets",
            "label": "Target accounts",
            "value": counts["targets"],
            "format": "count",
            "sub": f"of {counts['accounts']:,} account{'s' if counts['accounts'] != 1 else ''}",
            "url": accounts_url(filters, sort="-priority", tier=filters.tier or TARGETS)
            if filters.tier != NON_TARGET
            else "",
        },
        {
            "key": "spiking",
            "label": "Spiking accounts",
            "value": counts["spiking"],
            "format": "count",
            "sub": "engagement this week at least 2× its recent pace",
            "url": accounts_url(filters, spike="on", sort="-priority"),
        },
        {
            "key": "open_pipeline",
            "label": "Open pipeline",
            "value": open_pipeline,
            "format": "money",
            "sub": f"{open_deals:,} open deal{'s' if open_deals != 1 else ''}",
            "url": opportunities_url(
                filters, credited=False, stage="open", created_from=None, created_to=None
            ),
        },
        {
            "key": "won",
            "label": "Won revenue",
            "value": won,
            "format": "money",
            "sub": f"{won_deals:,} deal{'s' if won_deals != 1 else ''} closed won in the period",
            "url": opportunities_url(filters, kind="revenue", credited=False),
        },
        {
            "key": "overdue",
            "label": "Tasks overdue",
            "value": task_counts["overdue"],
            "format": "count",
            "sub": f"{task_counts['soon']:,} more due within {DUE_SOON_DAYS} days",
            "url": _overdue_url(task_counts, filters) if mine else "",
        },
    ]


def _overdue_url(task_counts: dict, filters) -> str:
    """A rep's overdue tasks on My tasks (their own open tasks, as the tile counts them). My
    tasks has no tier filter, and a director's tile counts the sales tasks, which My tasks does
    not separate: no link then."""
    if filters.tier or not task_counts["overdue"]:
        return ""
    query = {"due": "overdue", "playbook": filters.playbook}
    return f"{reverse('playbooks:tasks')}?{urlencode({k: v for k, v in query.items() if v})}"


def _stage_chart(rows: list[dict]) -> dict:
    return charts.bars(
        [r["stage"] for r in rows],
        [
            {
                "name": "Open pipeline",
                "values": [r["amount"] for r in rows],
                "colour": colours.SERIES[0],
                "urls": [r["url"] for r in rows],
            }
        ],
        height=280,
    )


def _channel_chart(rows: list[dict]) -> dict:
    return charts.bars(
        [r["channel"] for r in rows],
        [
            {
                "name": "Attributed pipeline",
                "values": [r["pipeline"] for r in rows],
                "colour": [charts.channel_colour(r["channel_key"], i) for i, r in enumerate(rows)],
                "urls": [r["url"] for r in rows],
            }
        ],
        height=280,
    )
