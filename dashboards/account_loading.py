"""Loaders for the account pages: scoped querysets in, what the pure modules take out.

Each loader runs a fixed number of queries whatever the number of rows, so pages stay flat
(tests/accounts/test_account_query_counts.py holds them to it).
"""

import datetime as dt
from collections import defaultdict

import pandas as pd
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q

from abm.lib import colours
from abm.lib.channels import Channel, Direction
from accounts.committee import committee_coverage, contact_engaged
from accounts.fit_explain import fit_rows
from accounts.follow_up import lead_follow_up
from accounts.models import (
    CLOSED_STAGES,
    COMMITTEE_ROLES,
    Account,
    BuyingRole,
    OpportunityStage,
    Seniority,
)
from accounts.timeline import MAX_WEEKS, timeline_data
from accounts.visibility import contacts_visible_to, leads_visible_to, opportunities_visible_to
from accounts.why_hot import why_hot
from metrics.visibility import journey_stage_changes_visible_to
from playbooks.models import Activity, TaskStatus
from playbooks.visibility import activities_visible_to, tasks_visible_to

ACTIVITY_LIMIT = 100
ACTIVITIES_PER_PAGE = 25
HOT_WEEK = dt.timedelta(days=7)
_ROLE_ORDER = {role: i for i, role in enumerate(BuyingRole.values)}
_SENIORITY_ORDER = {s: i for i, s in enumerate(Seniority.values)}


def engagement_of(account: Account):
    """The account's EngagementScore, or None before the first recompute."""
    try:
        return account.engagement
    except ObjectDoesNotExist:
        return None


def why_hot_by_account(accounts: list[Account], *, now: dt.datetime) -> dict[int, str]:
    """The "why hot" line of each account (with `engagement` selected), in two queries."""
    tops = {}
    for account in accounts:
        engagement = engagement_of(account)
        if engagement and engagement.top_activities:
            tops[account.pk] = engagement.top_activities
    if not tops:
        return {}
    activity_ids = [a.get("activity_id") for top in tops.values() for a in top]
    # Both queries stay inside the accounts given, which the caller took from the scoped list.
    seniority = dict(
        Activity.objects.filter(account_id__in=list(tops), pk__in=activity_ids)
        .order_by()
        .values_list("pk", "contact__seniority")
    )
    week = defaultdict(dict)
    recent = (
        Activity.objects.filter(account_id__in=list(tops), occurred_at__gt=now - HOT_WEEK)
        .filter(occurred_at__lte=now, direction=Direction.INBOUND)
        .order_by()
        .values_list("account_id", "kind")
        .annotate(n=Count("pk"))
    )
    for account_id, kind, n in recent:
        week[account_id][kind] = n
    return {
        pk: why_hot(top, seniority_by_activity=seniority, week_counts=week[pk])
        for pk, top in tops.items()
    }


def account_timeline(
    *, account: Account, user, now: dt.datetime, opportunities: list | None = None
) -> dict:
    """The timeline chart's data for one (already scoped) account; two queries, or one."""
    since = now - dt.timedelta(weeks=MAX_WEEKS + 1)
    rows = (
        activities_visible_to(user)
        .filter(account=account, occurred_at__gte=since)
        .order_by()
        .values_list("occurred_at", "channel")
    )
    activities = pd.DataFrame.from_records(list(rows), columns=["occurred_at", "channel"])
    activities["occurred_at"] = pd.to_datetime(activities["occurred_at"], utc=True)
    if opportunities is None:
        opportunities = list(opportunities_visible_to(user).filter(account=account))
    opps = pd.DataFrame.from_records(
        [(o.pk, o.name, o.amount, o.stage, o.created_at, o.closed_at) for o in opportunities],
        columns=["opportunity_id", "name", "amount", "stage", "created_at", "closed_at"],
    )
    for column in ("created_at", "closed_at"):
        opps[column] = pd.to_datetime(opps[column], utc=True)
    return timeline_data(activities, opps, now=pd.Timestamp(now))


def account_profile(*, account: Account, user, now: dt.datetime, activity_page=None) -> dict:
    """Everything the account page shows beyond the account row itself."""
    window = settings.ABM_ENGAGEMENT_WINDOW_DAYS
    contacts = list(
        contacts_visible_to(user)
        .filter(account=account)
        .annotate(
            last_inbound_at=Max(
                "activities__occurred_at",
                filter=Q(activities__direction=Direction.INBOUND),
            )
        )
    )
    for contact in contacts:
        contact.engaged = contact_engaged(contact.last_inbound_at, now=now, days=window)
    contacts.sort(
        key=lambda c: (
            _ROLE_ORDER.get(c.buying_role, len(_ROLE_ORDER)),
            _SENIORITY_ORDER.get(c.seniority, len(_SENIORITY_ORDER)),
            c.last_name,
            c.first_name,
        )
    )
    coverage = committee_coverage(
        [(c.buying_role, c.last_inbound_at) for c in contacts],
        roles=[(role.value, str(role.label)) for role in COMMITTEE_ROLES],
        now=now,
        days=window,
    )
    present = {c.buying_role for c in contacts}

    opportunities = list(
        opportunities_visible_to(user).filter(account=account).prefetch_related("stage_changes")
    )
    leads = list(leads_visible_to(user).filter(account=account).select_related("contact"))
    sla = settings.ABM_FOLLOW_UP_SLA_HOURS
    for lead in leads:
        lead.follow_up = lead_follow_up(
            handed_off_at=lead.handed_off_at,
            first_follow_up_at=lead.first_follow_up_at,
            now=now,
            sla_hours=sla,
        )
    tasks = list(
        tasks_visible_to(user)
        .filter(account=account, status=TaskStatus.OPEN)
        .select_related("assignee", "enrolment__playbook")
        .order_by("due_at", "id")
    )
    for task in tasks:
        task.overdue = task.due_at < now
    activities = (
        activities_visible_to(user)
        .filter(account=account)
        .select_related("contact")
        .order_by("-occurred_at", "-id")
    )
    activity_pages = Paginator(activities[:ACTIVITY_LIMIT], ACTIVITIES_PER_PAGE)
    engagement = engagement_of(account)
    hot = why_hot_by_account([account], now=now).get(account.pk, "")
    by_channel = _channel_rows(engagement.by_channel if engagement else {})
    return {
        "contacts": contacts,
        "coverage": coverage,
        "committee_roles": COMMITTEE_ROLES,
        "missing_roles": [role.label for role in COMMITTEE_ROLES if role not in present],
        "engaged_contacts": sum(c.engaged for c in contacts),
        "opportunities": opportunities,
        "open_pipeline": sum(o.amount for o in opportunities if o.stage not in CLOSED_STAGES),
        "won_revenue": sum(
            o.amount for o in opportunities if o.stage == OpportunityStage.CLOSED_WON
        ),
        "leads": leads,
        "sla_hours": sla,
        "window_days": window,
        "tasks": tasks,
        "stage_history": list(
            journey_stage_changes_visible_to(user)
            .filter(account=account)
            .order_by("-changed_at", "-id")
        ),
        "ownership_history": list(
            account.ownership_changes.select_related("previous_owner", "new_owner", "changed_by")
        ),
        "activity_page": activity_pages.get_page(activity_page),
        "engagement": engagement,
        "why_hot": hot,
        "by_channel": by_channel,
        "fit_rows": fit_rows(account.fit_breakdown, account.fit_score),
        "timeline": account_timeline(
            account=account, user=user, now=now, opportunities=opportunities
        ),
    }


def _channel_rows(by_channel: dict) -> list[dict]:
    """Engagement points per channel, biggest first, each with its share of the total."""
    total = sum(float(v) for v in by_channel.values()) or 0.0
    rows = []
    for channel, points in sorted(by_channel.items(), key=lambda item: -float(item[1])):
        try:
            label = Channel(channel).label
        except ValueError:
            label = channel
        rows.append(
            {
                "channel": channel,
                "label": label,
                "points": float(points),
                "share": float(points) / total if total else 0.0,
                "colour": colours.CHANNEL_COLOURS.get(channel, colours.GRAY_400),
            }
        )
    return rows
