"""What the account, contact, opportunity and lead CSV exports hold, built from a user and the
page's filters (registered with abm/exports.py in accounts/apps.py)."""

from __future__ import annotations

import re

from django.http import QueryDict

from abm.exports import ExportSpec, register_export
from abm.lib.csv_export import person_name
from accounts.account_filters import accounts_filtered
from accounts.export_columns import ACCOUNT_COLUMNS, CONTACT_COLUMNS, OPPORTUNITY_COLUMNS
from accounts.filtersets import LeadFilterSet
from accounts.visibility import (
    accounts_visible_to,
    contacts_visible_to,
    leads_visible_to,
    opportunities_visible_to,
)

# header -> values_list lookup
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


def _lead_list(user, query: QueryDict, account: int | None) -> ExportSpec:
    leads = LeadFilterSet.for_page(query, leads_visible_to(user)).qs
    return ExportSpec("leads.csv", LEAD_LIST_COLUMNS, leads)


def register() -> None:
    register_export("accounts", _accounts, what="accounts", back="accounts:list")
    register_export("contacts", _contacts, what="contacts", back="accounts:list")
    register_export("opportunities", _opportunities, what="opportunities", back="accounts:list")
    register_export("lead_list", _lead_list, what="leads", back="accounts:leads")


def _account_filename(user, account: int, what: str) -> str:
    domain = accounts_visible_to(user).filter(pk=account).values_list("domain", flat=True).first()
    # Domains are lower-case already; anything else is dropped so the header stays well-formed.
    return f"{re.sub(r'[^a-z0-9.-]+', '-', domain or '').strip('-.') or account}-{what}.csv"
