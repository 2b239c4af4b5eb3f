"""The opportunity list a dashboard drills down to, and its CSV."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from abm.exports import export_or_queue
from accounts.list_filters import (
    PER_PAGE,
    CountedPaginator,
    list_context,
    page_of,
)
from accounts.visibility import opportunities_visible_to
from dashboards.opportunity_filtering import OpportunityListFilterSet, opportunity_totals

CENT = Decimal("0.01")
# Only what the table shows: the credit filter groups rows, and narrow rows group faster.
ROW_FIELDS = (
    "name",
    "amount",
    "amount_original",
    "amount_currency",
    "stage",
    "source",
    "created_at",
    "closed_at",
    "account__name",
    "account__tier",
    "account__owner__username",
    "account__owner__first_name",
    "account__owner__last_name",
)
# Column -> (ascending, descending) sort keys; the first click sorts biggest or newest first.
SORT_COLUMNS = {
    "name": ("name", None),
    "amount": ("amount", "-amount"),
    "created": ("created", "-created"),
}


@login_required
def opportunity_list(request):
    flt = OpportunityListFilterSet.for_page(request.GET, opportunities_visible_to(request.user))
    credit = flt.credit
    opportunities = flt.qs
    totals = opportunity_totals(opportunities, credit=credit)
    paginator = CountedPaginator(
        opportunities.select_related("account__owner").only(*ROW_FIELDS),
        PER_PAGE,
        count=totals.count,
    )
    page, page_problem = page_of(paginator, request.GET.get("page"))
    return render(
        request,
        "accounts/opportunities.html",
        {
            "title": "Opportunities",
            "rows": list(page.object_list),
            "credit": credit,
            "totals": totals,
            **list_context(request.user, flt, page, page_problem, SORT_COLUMNS),
        },
    )


@login_required
def opportunity_list_csv(request):
    return export_or_queue(request, "opportunity_list")
