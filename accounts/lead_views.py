"""The lead list the follow-up trend drills down to, and its CSV."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.exporting import csv_response
from accounts.lead_filtering import filter_leads, lead_chips, lead_filter, lead_totals, sla
from accounts.list_filters import PER_PAGE, CountedPaginator, filter_names, page_of, sort_link
from accounts.visibility import leads_visible_to

# header -> values_list lookup
CSV_COLUMNS = {
    "id": "id",
    "handed_off_at": "handed_off_at",
    "first_follow_up_at": "first_follow_up_at",
    "status": "status",
    "source_channel": "source_channel",
    "account_id": "account_id",
    "account": "account__name",
    "tier": "account__tier",
    "owner": "account__owner__username",
    "contact_email": "contact__email",
    "external_id": "external_id",
}


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
    flt = lead_filter(request.GET)
    leads = filter_leads(leads_visible_to(request.user), flt)
    rows = leads.values_list(*CSV_COLUMNS.values()).iterator(chunk_size=2_000)
    return csv_response("leads.csv", list(CSV_COLUMNS), rows)
