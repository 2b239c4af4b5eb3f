"""The lead list the follow-up trend drills down to, and its CSV."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from abm.exports import export_or_queue
from accounts.follow_up import FollowUpStatus, lead_follow_up
from accounts.lead_filtering import filter_leads, lead_chips, lead_filter, lead_totals
from accounts.list_filters import PER_PAGE, CountedPaginator, filter_names, page_of, sort_link
from accounts.visibility import leads_visible_to


@login_required
def lead_list(request):
    flt = lead_filter(request.GET)
    leads = filter_leads(leads_visible_to(request.user), flt)
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
    query = flt.query()
    return render(
        request,
        "accounts/leads.html",
        {
            "title": "Leads",
            "page": page,
            "rows": rows,
            "filter": flt,
            "totals": totals,
            "sla_hours": int(sla_hours),
            "chips": lead_chips(flt, filter_names(request.user, flt.values)),
            "problems": flt.problems + ([page_problem] if page_problem else []),
            "query": query,
            "query_string": query.urlencode(),
            "sort_links": {"handed_off": sort_link(flt, "handed_off", "-handed_off")},
        },
    )


@login_required
def lead_list_csv(request):
    return export_or_queue(request, "lead_list")
