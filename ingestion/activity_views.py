"""The activity list a dashboard drills down to, and its CSV."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Count, QuerySet, Sum
from django.shortcuts import render

from abm.exports import export_or_queue
from accounts.list_filters import (
    PER_PAGE,
    CountedPaginator,
    list_context,
    page_of,
)
from playbooks.filtersets import ActivityFilterSet
from playbooks.models import Activity
from playbooks.visibility import activities_visible_to

SORT_COLUMNS = {"occurred": ("occurred", "-occurred"), "cost": (None, "-cost")}


@dataclass(frozen=True)
class Totals:
    count: int
    cost: Decimal


def activity_totals(activities: QuerySet[Activity]) -> Totals:
    """Count and cost of the whole filtered set: one query, the page's only COUNT."""
    row = activities.order_by().aggregate(n=Count("pk"), cost=Sum("cost"))
    return Totals(count=row["n"], cost=row["cost"] or Decimal(0))


@login_required
def activity_list(request):
    flt = ActivityFilterSet.for_page(request.GET, activities_visible_to(request.user))
    activities = flt.qs
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
    return render(
        request,
        "accounts/activities.html",
        {
            "title": "Activities",
            "rows": [found[pk] for pk in ids if pk in found],
            "totals": totals,
            **list_context(request.user, flt, page, page_problem, SORT_COLUMNS),
        },
    )


@login_required
def activity_list_csv(request):
    return export_or_queue(request, "activity_list")
