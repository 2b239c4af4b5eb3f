"""The columns of the account, contact and opportunity CSV exports (accounts/export_specs.py)."""

from abm.lib.csv_export import person_name

ACCOUNT_COLUMNS = {
    # header: values_list lookup
    "id": "id",
    "name": "name",
    "domain": "domain",
    "industry": "industry",
    "employees": "employees",
    "annual_revenue": "annual_revenue",
    "country": "country",
    "tier": "tier",
    "owner": person_name("owner"),
    "owner_email": "owner__email",
    "journey_stage": "stage",
    "fit_score": "fit_score",
    "engagement_score": "engagement_score",
    "priority": "priority",
    "spike": "spike",
    "crm_id": "external_id",
}
CONTACT_COLUMNS = {
    "id": "id",
    "account_id": "account_id",
    "account": "account__name",
    "account_domain": "account__domain",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "title": "title",
    "seniority": "seniority",
    "buying_role": "buying_role",
    "crm_id": "external_id",
}
OPPORTUNITY_COLUMNS = {
    "id": "id",
    "account_id": "account_id",
    "account": "account__name",
    "account_domain": "account__domain",
    "name": "name",
    "amount": "amount",
    "stage": "stage",
    "source": "source",
    "created_at": "created_at",
    "close_date": "close_date",
    "closed_at": "closed_at",
    "crm_id": "external_id",
}
