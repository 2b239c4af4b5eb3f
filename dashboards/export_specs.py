"""What the opportunity list's CSV export holds, with the credit column when a credit filter is on
(registered with abm/exports.py in dashboards/apps.py)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.http import QueryDict

from abm.exports import ExportSpec, register_export
from abm.lib.csv_export import person_name
from accounts.visibility import opportunities_visible_to
from dashboards.opportunity_filtering import OpportunityListFilterSet

CENT = Decimal("0.01")

# header -> values_list lookup; "credited" is added when a credit filter is on.
OPPORTUNITY_LIST_COLUMNS = {
    "id": "id",
    "name": "name",
    "account_id": "account_id",
    "account": "account__name",
    "account_domain": "account__domain",
    "tier": "account__tier",
    "owner": person_name("account__owner"),
    "stage": "stage",
    "source": "source",
    "amount": "amount",
    "created_at": "created_at",
    "closed_at": "closed_at",
    "close_date": "close_date",
    "crm_id": "external_id",
}


def _opportunity_list(user, query: QueryDict, account: int | None) -> ExportSpec:
    flt = OpportunityListFilterSet.for_page(query, opportunities_visible_to(user))
    opportunities = flt.qs
    if flt.credit is None:
        return ExportSpec("opportunities.csv", OPPORTUNITY_LIST_COLUMNS, opportunities)
    columns = {**OPPORTUNITY_LIST_COLUMNS, "credited": "credited"}
    return ExportSpec("opportunities.csv", columns, opportunities, convert=_credit_in_cents)


def _credit_in_cents(row: tuple) -> tuple:
    # Credit is stored to 1/10000 of a cent; money reads in cents, like the amount beside it.
    value = row[-1]
    cents = None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return row[:-1] + (cents,)


def register() -> None:
    register_export(
        "opportunity_list", _opportunity_list, what="opportunities", back="accounts:opportunities"
    )
