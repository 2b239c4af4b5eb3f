"""The lead list the follow-up trend drills down to, and its CSV."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.shortcuts import render
from django.utils import timezone

from abm.exports import export_or_queue
from accounts.filtersets import LeadFilterSet, on_time_q
from accounts.follow_up import FollowUpStatus, lead_follow_up
from accounts.list_filters import (
    PER_PAGE,
    CountedPaginator,
    list_context,
    page_of,
)
from accounts.models import Lead
from accounts.visibility import leads_visible_to


@dataclass(frozen=True)
class Totals:
    count: int
    on_time: int
    followed: int


def lead_totals(leads: QuerySet[Lead]) -> Totals:
    """Counts over the whole filtered set in one query."""
    row = leads.order_by().aggregate(
        n=Count("pk"),
        on_time=Count("pk", filter=on_time_q(settings.ABM_FOLLOW_UP_SLA_HOURS)),
        followed=Count("pk", filter=Q(first_follow_up_at__isnull=False)),
    )
    return Totals(count=row["n"], on_time=row["on_time"], followed=row["followed"])


@login_required
def lead_list(request):
    flt = LeadFilterSet.for_page(request.GET, leads_visible_to(request.user))
    leads = flt.qs
    totals = lead_totals(leads)
    paginator = CountedPaginator(
        leads.select_related("account__owner", "contact"), PER_PAGE, count=totals.count
    )
    page, page_problem = page_of(paginator, request.GET.get("page"))
    sla_hours = settings.ABM_FOLLOW_UP_SLA_HOURS
    now = timezone.now()
    rows = []
    for lead in page.object_list:
        follow_up = lead_follow_up(
            handed_off_at=lead.handed_off_at,
            first_follow_up_at=lead.first_follow_up_at,
            now=now,
            sla_hours=sla_hours,
        )
        lead.hours = follow_up.hours
        lead.on_time = follow_up.status == FollowUpStatus.ON_TIME
        rows.append(lead)
    return render(
        request,
        "accounts/leads.html",
        {
            "title": "Leads",
            "rows": rows,
            "totals": totals,
            "sla_hours": int(sla_hours),
            **list_context(
                request.user, flt, page, page_problem, {"handed_off": ("handed_off", "-handed_off")}
            ),
        },
    )


@login_required
def lead_list_csv(request):
    return export_or_queue(request, "lead_list")
