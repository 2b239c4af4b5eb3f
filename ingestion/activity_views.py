"""The activity list a dashboard drills down to, and its CSV."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from abm.exports import export_or_queue
from accounts.list_filters import PER_PAGE, CountedPaginator, filter_names, page_of, sort_link
from ingestion.activity_filtering import (
    activity_chips,
    activity_filter,
    activity_totals,
    filter_activities,
)
from playbooks.models import Activity
from playbooks.visibility import activities_visible_to

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
    return export_or_queue(request, "activity_list")
