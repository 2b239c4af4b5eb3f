"""What the activity list's CSV export holds (registered with abm/exports.py in
ingestion/apps.py)."""

from __future__ import annotations

from django.http import QueryDict

from abm.exports import ExportSpec, register_export
from abm.lib.csv_export import person_name
from playbooks.filtersets import ActivityFilterSet
from playbooks.visibility import activities_visible_to

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


def _activity_list(user, query: QueryDict, account: int | None) -> ExportSpec:
    activities = ActivityFilterSet.for_page(query, activities_visible_to(user)).qs
    return ExportSpec("activities.csv", ACTIVITY_LIST_COLUMNS, activities)


def register() -> None:
    register_export("activity_list", _activity_list, what="activities", back="ingestion:activities")
