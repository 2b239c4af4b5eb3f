"""One write path: each write through the API has the side effects of the same write made by the
page or the import (README "REST API"). Every test makes the change both ways, on two identical
records, and compares what was written beside the row: fit score and breakdown (against a fit
worked out by hand), ownership history and audit, stage history and closed_at, and the
recompute asked for (the queued Job itself, not a mock)."""

import datetime as dt
import io

import pytest
from django.urls import reverse

from abm.models import AuditEvent, Job, RunKind, RunStatus
from accounts.models import ICP, Account, Contact, Lead, Opportunity, OwnershipChange
from accounts.rescoring import icp_rescore
from ingestion.import_jobs import import_job_create, import_job_run
from tests.factories import AccountFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
CLOSED = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def icp(db):
    return ICP.objects.create(
        name="Core",
        is_active=True,
        industries=["Software"],
        industries_weight=1,
        employees_min=200,
        employees_max=1000,
        employees_weight=2,
        revenue_min=2000,
        revenue_weight=3,
        countries=["France"],
        countries_weight=2,
    )


# Software (1 of weight 1); 1 500 staff, half-way from 1 000 to 2 000 (0.5 of 2); revenue 1 500,
# half-way from 1 000 up to 2 000 (0.5 of 3); Germany is not France (0 of 2): 3.5 / 8 = 43.75 %.
ACME_FIT = 43.75
ACME_BREAKDOWN = [
    {"criterion": "industry", "weight": 1.0, "match": 1.0, "value": "Software"},
    {"criterion": "employees", "weight": 2.0, "match": 0.5, "value": 1500},
    {"criterion": "annual_revenue", "weight": 3.0, "match": 0.5, "value": 1500},
    {"criterion": "country", "weight": 2.0, "match": 0.0, "value": "Germany"},
]


def imported(by, kind: str, text: str) -> None:
    job = import_job_create(kind=kind, upload=io.BytesIO(text.encode()), name="x.csv", by=by)
    result = import_job_run(job=job, by=by).result
    assert result["rejected"] == 0, result


def recomputes_requested() -> list[str]:
    """The incremental runs queued so far, by reason; forgotten afterwards, for the next leg."""
    runs = Job.objects.filter(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED)
    reasons = [run.params["reason"] for run in runs]
    runs.delete()
    return reasons


def history(account: Account) -> list[tuple]:
    return list(
        OwnershipChange.objects.filter(account=account).values_list(
            "previous_owner_id", "new_owner_id", "changed_by_id"
        )
    )


def audit(account: Account) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(object_type="account", object_id=str(account.pk))
        .order_by("id")
        .values_list("action", "changes", "actor_id")
    )


# --- Accounts ---------------------------------------------------------------------------------


def test_a_created_account_is_fit_scored_and_owned_alike_by_import_and_api(api, maria, alice, icp):
    imported(
        maria,
        "accounts",
        "name,domain,industry,employees,annual_revenue,country,owner\n"
        "Acme,acme.com,Software,1500,1500,Germany,alice\n",
    )
    response = api(maria).post(
        "/api/accounts/",
        {
            "name": "Acme Two",
            "domain": "acme2.com",
            "industry": "Software",
            "employees": 1500,
            "annual_revenue": "1500.00",
            "country": "Germany",
            "owner": alice.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    # The answer is what was stored: the owner and the fit, not the serializer's first draft.
    assert (body["owner"], body["fit_score"]) == (alice.pk, ACME_FIT)
    for domain in ("acme.com", "acme2.com"):
        account = Account.objects.get(domain=domain)
        assert (account.fit_score, account.fit_breakdown) == (ACME_FIT, ACME_BREAKDOWN)
        assert account.owner == alice
        assert history(account) == [(None, alice.pk, maria.pk)]

    # The bulk re-score after an ICP edit reads the same fields the same way: nothing moves.
    icp_rescore()
    fits = Account.objects.values_list("fit_score", "fit_breakdown")
    assert list(fits) == [(ACME_FIT, ACME_BREAKDOWN)] * 2


def test_a_changed_fit_field_rescores_alike_by_import_and_api(api, maria, icp):
    same = {"industry": "Software", "employees": 50, "annual_revenue": None, "country": ""}
    by_import = AccountFactory(name="A", domain="a.com", external_id="A-1", **same)
    by_api = AccountFactory(name="B", domain="b.com", **same)

    imported(maria, "accounts", "external_id,employees,country\nA-1,1000,France\n")
    response = api(maria).patch(
        f"/api/accounts/{by_api.pk}/", {"employees": 1000, "country": "France"}, format="json"
    )

    # Software 1 of 1, 1 000 staff 1 of 2, no revenue 0 of 3, France 1 of 2: 5 / 8 = 62.5 %.
    assert response.json()["fit_score"] == 62.5
    for account in (by_import, by_api):
        account.refresh_from_db()
        assert account.fit_score == 62.5
        assert [part["match"] for part in account.fit_breakdown] == [1.0, 1.0, 0.0, 1.0]


def test_owner_and_tier_changes_are_recorded_alike_by_the_page_and_the_api(
    client, api, maria, alice, bob
):
    by_page = AccountFactory(name="Acme", owner=bob, tier=None)
    by_api = AccountFactory(name="Acme", owner=bob, tier=None)

    client.force_login(maria)
    client.post(reverse("accounts:assign", args=[by_page.pk]), {"owner": alice.pk})
    client.post(
        reverse("accounts:bulk"),
        {"action": "set_tier", "scope": "selected", "ids": [by_page.pk], "tier": "1"},
    )
    response = api(maria).patch(
        f"/api/accounts/{by_api.pk}/", {"owner": alice.pk, "tier": 1}, format="json"
    )

    assert (response.json()["owner"], response.json()["tier"]) == (alice.pk, 1)
    assert history(by_page) == history(by_api) == [(bob.pk, alice.pk, maria.pk)]
    assert (
        audit(by_page)
        == audit(by_api)
        == [
            ("account.owner_changed", {"owner": ["bob", "alice"]}, maria.pk),
            ("account.tier_changed", {"tier": [None, 1]}, maria.pk),
        ]
    )


# --- Opportunities ----------------------------------------------------------------------------

DEALS = "external_id,account_external_id,name,amount,stage,created_at{extra}\n"


def test_a_new_deal_starts_its_history_and_asks_for_a_recompute_alike(api, maria):
    AccountFactory(external_id="ACC-1", domain="acme.com")
    account = Account.objects.get(external_id="ACC-1")

    imported(
        maria,
        "opportunities",
        DEALS.format(extra="") + f"OPP-1,ACC-1,Pilot,5000,qualification,{AT.isoformat()}\n",
    )
    by_import = recomputes_requested()
    response = api(maria).post(
        "/api/opportunities/",
        {"account": account.pk, "name": "Pilot", "amount": "5000", "created_at": AT.isoformat()},
        format="json",
    )
    by_api = recomputes_requested()

    assert response.status_code == 201
    assert len(by_import) == len(by_api) == 1
    for deal in Opportunity.objects.all():
        changes = deal.stage_changes.values_list("from_stage", "to_stage", "changed_at")
        assert list(changes) == [("", "qualification", AT)]
        assert deal.closed_at is None


def test_closing_a_deal_writes_history_and_closed_at_and_asks_for_a_recompute_alike(api, maria):
    AccountFactory(external_id="ACC-1", domain="acme.com")
    rows = "".join(
        f"{key},ACC-1,Pilot,5000,negotiation,{AT.isoformat()}\n" for key in ("OPP-1", "OPP-2")
    )
    imported(maria, "opportunities", DEALS.format(extra="") + rows)
    recomputes_requested()

    imported(
        maria,
        "opportunities",
        DEALS.format(extra=",closed_at")
        + f"OPP-1,ACC-1,Pilot,5000,closed_won,{AT.isoformat()},{CLOSED.isoformat()}\n",
    )
    by_import = recomputes_requested()
    deal = Opportunity.objects.get(external_id="OPP-2")
    response = api(maria).patch(
        f"/api/opportunities/{deal.pk}/",
        {"stage": "closed_won", "closed_at": CLOSED.isoformat()},
        format="json",
    )
    by_api = recomputes_requested()

    assert response.status_code == 200
    assert len(by_import) == len(by_api) == 1
    for deal in Opportunity.objects.all():
        assert (deal.stage, deal.closed_at) == ("closed_won", CLOSED)
        changes = deal.stage_changes.values_list("from_stage", "to_stage", "changed_at")
        assert list(changes) == [
            ("", "negotiation", AT),
            ("negotiation", "closed_won", CLOSED),
        ]


def test_a_patch_that_changes_nothing_asks_for_nothing(api, maria):
    AccountFactory(external_id="ACC-1", domain="acme.com")
    imported(
        maria,
        "opportunities",
        DEALS.format(extra="") + f"OPP-1,ACC-1,Pilot,5000,qualification,{AT.isoformat()}\n",
    )
    recomputes_requested()
    deal = Opportunity.objects.get()

    api(maria).patch(f"/api/opportunities/{deal.pk}/", {"amount": "5000.00"}, format="json")

    assert recomputes_requested() == []
    assert deal.stage_changes.count() == 1


# --- Contacts, leads, and deletes -------------------------------------------------------------


def test_new_contacts_and_leads_ask_for_a_recompute_alike(api, maria):
    account = AccountFactory(external_id="ACC-1", domain="acme.com")
    client = api(maria)

    imported(
        maria,
        "contacts",
        "account_external_id,first_name,last_name,email\nACC-1,Ada,Ng,ada@acme.com\n",
    )
    contacts = (recomputes_requested(), None)
    client.post(
        "/api/contacts/",
        {"account": account.pk, "first_name": "Bo", "last_name": "Li", "email": "bo@acme.com"},
        format="json",
    )
    contacts = (contacts[0], recomputes_requested())
    imported(
        maria,
        "leads",
        "external_id,account_external_id,source_channel,handed_off_at\n"
        f"L-1,ACC-1,webinar,{AT.isoformat()}\n",
    )
    leads = (recomputes_requested(), None)
    client.post(
        "/api/leads/",
        {"account": account.pk, "source_channel": "webinar", "handed_off_at": AT.isoformat()},
        format="json",
    )
    leads = (leads[0], recomputes_requested())

    assert Contact.objects.count() == Lead.objects.count() == 2
    assert [len(reasons) for reasons in (*contacts, *leads)] == [1, 1, 1, 1]


@pytest.mark.parametrize("kind", ["contacts", "leads", "opportunities", "accounts"])
def test_api_deletes_ask_for_a_recompute(api, maria, kind):
    account = AccountFactory()
    record = {
        "contacts": lambda: ContactFactory(account=account),
        "leads": lambda: LeadFactory(account=account),
        "opportunities": lambda: Opportunity.objects.create(
            account=account, name="Pilot", amount=1, created_at=AT
        ),
        "accounts": lambda: account,
    }[kind]()

    response = api(maria).delete(f"/api/{kind}/{record.pk}/")

    assert response.status_code == 204
    assert not type(record).objects.filter(pk=record.pk).exists()
    assert len(recomputes_requested()) == 1
