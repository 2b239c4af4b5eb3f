"""The lead list the follow-up trend drills down to, and its CSV."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from abm.exports import export_or_queue
from accounts.lead_filtering import filter_leads, lead_chips, lead_filter, lead_totals, sla
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
    window = sla()
    rows = []
    for lead in page.object_list:
        lead.hours = (
            None
            if lead.first_follow_up_at is None
            else (lead.first_follow_up_at - lead.handed_off_at).total_seconds() / 3600
        )
        lead.on_time = lead.hours is not None and lead.hours <= window.total_seconds() / 3600
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
            "sla_hours": int(window.total_seconds() // 3600),
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
