"""What each CSV export holds, built from a user and the page's filters.

The request (a small export, streamed at once) and the worker (a large one, written to a file)
build the same spec from the same inputs, so both produce the same bytes. Every queryset starts
from a scoping function of */visibility.py, recomputed for the user who asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet
from django.http import QueryDict

from accounts.exporting import (
    ACCOUNT_COLUMNS,
    CONTACT_COLUMNS,
    OPPORTUNITY_COLUMNS,
    person_name,
)
from accounts.filtering import accounts_filtered
from accounts.lead_filtering import filter_leads, lead_filter
from accounts.opportunity_filtering import credit_filter, filter_opportunities, opportunity_filter
from accounts.visibility import (
    accounts_visible_to,
    contacts_visible_to,
    leads_visible_to,
    opportunities_visible_to,
)
from ingestion.activity_filtering import activity_filter, filter_activities
from playbooks.visibility import activities_visible_to

CHUNK = 2_000
CENT = Decimal("0.01")

# header -> values_list lookup
ACTIVITY_LIST_COLUMNS = {
    "id": "id",
    "occurred_at": "occurred_at",
    "account_id": "account_id",
    "account": "account__name",
    "account_domain": "account__domain",
    "tier": "account__tier",
    "owner": person_name("account__owner"),
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
# "credited" is added when a credit filter is on.
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
LEAD_LIST_COLUMNS = {
    "id": "id",
    "handed_off_at": "handed_off_at",
    "first_follow_up_at": "first_follow_up_at",
    "status": "status",
    "source_channel": "source_channel",
    "account_id": "account_id",
    "account": "account__name",
    "tier": "account__tier",
    "owner": person_name("account__owner"),
    "contact_email": "contact__email",
    "external_id": "external_id",
}


@dataclass(frozen=True)
class ExportSpec:
    filename: str
    columns: dict[str, object]  # header -> values_list lookup or expression
    queryset: QuerySet
    convert: Callable[[tuple], tuple] | None = None

    @property
    def header(self) -> list[str]:
        return list(self.columns)

    def rows(self) -> Iterator[tuple]:
        rows = self.queryset.values_list(*self.columns.values()).iterator(chunk_size=CHUNK)
        return map(self.convert, rows) if self.convert else rows

    def count(self) -> int:
        return self.queryset.count()

    def exceeds(self, limit: int) -> bool:
        """More than `limit` rows, without counting them all (the database stops at limit + 1)."""
        return self.queryset.order_by().values("pk")[limit : limit + 1].exists()


def _accounts(user, query: QueryDict, account: int | None) -> ExportSpec:
    _, accounts, _ = accounts_filtered(user, query)
    return ExportSpec("accounts.csv", ACCOUNT_COLUMNS, accounts)


def _contacts(user, query: QueryDict, account: int | None) -> ExportSpec:
    contacts = contacts_visible_to(user)
    if account is None:
        _, accounts, _ = accounts_filtered(user, query)
        contacts = contacts.filter(account__in=accounts.order_by().values("pk"))
        filename = "contacts.csv"
    else:
        contacts = contacts.filter(account_id=account)
        filename = _account_filename(user, account, "contacts")
    contacts = contacts.order_by("account__name", "account_id", "last_name", "first_name", "id")
    return ExportSpec(filename, CONTACT_COLUMNS, contacts)


def _opportunities(user, query: QueryDict, account: int | None) -> ExportSpec:
    opportunities = opportunities_visible_to(user)
    if account is None:
        _, accounts, _ = accounts_filtered(user, query)
        opportunities = opportunities.filter(account__in=accounts.order_by().values("pk"))
        filename = "opportunities.csv"
    else:
        opportunities = opportunities.filter(account_id=account)
        filename = _account_filename(user, account, "opportunities")
    opportunities = opportunities.order_by("account__name", "account_id", "-created_at", "id")
    return ExportSpec(filename, OPPORTUNITY_COLUMNS, opportunities)


def _activity_list(user, query: QueryDict, account: int | None) -> ExportSpec:
    activities = filter_activities(activities_visible_to(user), activity_filter(query))
    return ExportSpec("activities.csv", ACTIVITY_LIST_COLUMNS, activities)


def _opportunity_list(user, query: QueryDict, account: int | None) -> ExportSpec:
    flt = opportunity_filter(query)
    opportunities = filter_opportunities(opportunities_visible_to(user), flt)
    if credit_filter(flt) is None:
        return ExportSpec("opportunities.csv", OPPORTUNITY_LIST_COLUMNS, opportunities)
    columns = {**OPPORTUNITY_LIST_COLUMNS, "credited": "credited"}
    return ExportSpec("opportunities.csv", columns, opportunities, convert=_credit_in_cents)


def _lead_list(user, query: QueryDict, account: int | None) -> ExportSpec:
    leads = filter_leads(leads_visible_to(user), lead_filter(query))
    return ExportSpec("leads.csv", LEAD_LIST_COLUMNS, leads)


# export name -> builder(user, query, account pk); the name is what an export job stores.
EXPORTS: dict[str, Callable[[object, QueryDict, int | None], ExportSpec]] = {
    "accounts": _accounts,
    "contacts": _contacts,
    "opportunities": _opportunities,
    "activity_list": _activity_list,
    "opportunity_list": _opportunity_list,
    "lead_list": _lead_list,
}


def export_spec(name: str, *, user, query: QueryDict, account: int | None = None) -> ExportSpec:
    return EXPORTS[name](user, query, account)


def _credit_in_cents(row: tuple) -> tuple:
    # Credit is stored to 1/10000 of a cent; money reads in cents, like the amount beside it.
    value = row[-1]
    cents = None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return row[:-1] + (cents,)


def _account_filename(user, account: int, what: str) -> str:
    domain = accounts_visible_to(user).filter(pk=account).values_list("domain", flat=True).first()
    # Domains are lower-case already; anything else is dropped so the header stays well-formed.
    return f"{re.sub(r'[^a-z0-9.-]+', '-', domain or '').strip('-.') or account}-{what}.csv"
