"""The activity list a dashboard drills down to, and its CSV."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.activity_filtering import (
    activity_chips,
    activity_filter,
    activity_totals,
    filter_activities,
)
from accounts.exporting import csv_response
from accounts.list_filters import PER_PAGE, CountedPaginator, filter_names, page_of, sort_link
from playbooks.models import Activity
from playbooks.visibility import activities_visible_to

# header -> values_list lookup
CSV_COLUMNS = {
    "id": "id",
    "occurred_at": "occurred_at",
    "account_id": "account_id",
    "account": "account__name",
    "account_domain": "account__domain",
    "tier": "account__tier",
    "owner": "account__owner__username",
    "contact_email": "contact__email",
    "kind": "kind",
    "channel": "channel",
    "direction": "direction",
    "playbook_id": "step__stage__playbook_id",
    "playbook": "step__stage__playbook__name",
    "stage": "step__stage__name",
    "step_id": "step_id",
    "cost": "cost",
    "source": "source",
    "external_id": "external_id",
}
SORT_COLUMNS = {"occurred": ("occurred", "-occurred"), "cost": (None, "-cost")}


@login_required
def activity_list(request):
    flt = activity_filter(request.GET)
    activities = filter_activities(activities_visible_to(request.user), flt)
    totals = activity_totals(activities)
    # The page's ids first, then their rows: sorting a million rows joined to their account,
    # contact and step first (to sort by cost, say) took seconds; sorting bare rows does not.
    paginator = CountedPaginator(
        activities.values_list("pk", flat=True), PER_PAGE, count=totals.count
    )
    page, page_problem = page_of(paginator, request.GET.get("page"))
    ids = list(page.object_list)
    found = Activity.objects.select_related("account", "contact", "step__stage__playbook").in_bulk(
        ids
    )
    query = flt.query()
    return render(
        request,
        "accounts/activities.html",
        {
            "title": "Activities",
            "page": page,
            "rows": [found[pk] for pk in ids if pk in found],
            "filter": flt,
            "totals": totals,
            "chips": activity_chips(flt, filter_names(request.user, flt.values)),
            "problems": flt.problems + ([page_problem] if page_problem else []),
            "query": query,
            "query_string": query.urlencode(),
            "sort_links": {name: sort_link(flt, *keys) for name, keys in SORT_COLUMNS.items()},
        },
    )


@login_required
def activity_list_csv(request):
    flt = activity_filter(request.GET)
    activities = filter_activities(activities_visible_to(request.user), flt)
    rows = activities.values_list(*CSV_COLUMNS.values()).iterator(chunk_size=2_000)
    return csv_response("activities.csv", list(CSV_COLUMNS), rows)
