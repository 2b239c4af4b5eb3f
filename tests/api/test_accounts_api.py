"""The account-side API: accounts, contacts, opportunities with stage history, leads."""

import datetime as dt

import pytest

from abm.tokens import token_create
from accounts.models import Account, Contact, Lead, Opportunity, OwnershipChange
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice, bob):
    acme = AccountFactory(name="Acme Robotics", domain="acme.com", owner=alice, tier=1)
    globex = AccountFactory(name="Globex Systems", domain="globex.com", owner=bob, tier=2)
    return {"acme": acme, "globex": globex}


def _api(client, user):
    _, raw = token_create(user=user, name="test")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def _patch(client, url, body):
    return client.patch(url, body, content_type="application/json")


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_a_rep_lists_only_their_own_accounts(client, alice, book):
    response = _api(client, alice).get("/api/accounts/")

    assert response.status_code == 200
    assert [a["name"] for a in response.json()["results"]] == ["Acme Robotics"]


def test_another_reps_account_is_a_404_in_the_error_shape(client, alice, book):
    response = _api(client, alice).get(f"/api/accounts/{book['globex'].pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_rep_cannot_reassign_their_account(client, alice, bob, book):
    response = _patch(_api(client, alice), f"/api/accounts/{book['acme'].pk}/", {"owner": bob.pk})

    assert response.status_code == 400
    assert "cannot reassign" in response.json()["error"]["fields"]["owner"][0]
    assert Account.objects.get(pk=book["acme"].pk).owner == alice


def test_a_rep_edits_their_accounts_details_but_not_the_tier(client, alice, book):
    api = _api(client, alice)

    renamed = _patch(api, f"/api/accounts/{book['acme'].pk}/", {"industry": "Robotics"})
    tiered = _patch(api, f"/api/accounts/{book['acme'].pk}/", {"tier": 3})

    assert renamed.status_code == 200
    assert renamed.json()["industry"] == "Robotics"
    assert tiered.status_code == 400
    assert Account.objects.get(pk=book["acme"].pk).tier == 1


def test_a_marketer_reassigns_with_history_and_sets_the_tier(client, maria, bob, book):
    response = _patch(
        _api(client, maria), f"/api/accounts/{book['acme'].pk}/", {"owner": bob.pk, "tier": 2}
    )

    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["tier"]) == (bob.pk, 2)
    change = OwnershipChange.objects.get(account=book["acme"])
    assert (change.new_owner, change.changed_by) == (bob, maria)


def test_accounts_may_only_be_owned_by_sales_reps(client, maria, diana, book):
    response = _patch(_api(client, maria), f"/api/accounts/{book['acme'].pk}/", {"owner": diana.pk})

    assert response.status_code == 400
    assert "owner" in response.json()["error"]["fields"]


def test_directors_reassign_but_do_not_edit(client, diana, bob, book):
    api = _api(client, diana)

    moved = _patch(api, f"/api/accounts/{book['acme'].pk}/", {"owner": bob.pk})
    renamed = _patch(api, f"/api/accounts/{book['acme'].pk}/", {"name": "Nope"})
    created = _post(api, "/api/accounts/", {"name": "New", "domain": "new.com"})

    assert moved.status_code == 200
    assert renamed.status_code == 400
    assert created.status_code == 403


def test_created_domains_are_stored_the_way_imports_store_them(client, maria, book):
    api = _api(client, maria)

    created = _post(
        api, "/api/accounts/", {"name": "Initech", "domain": "https://www.Initech.com/x"}
    )
    again = _post(api, "/api/accounts/", {"name": "Initech 2", "domain": "initech.com"})
    junk = _post(api, "/api/accounts/", {"name": "Junk", "domain": "not a domain"})

    assert created.status_code == 201
    assert created.json()["domain"] == "initech.com"
    assert again.status_code == 400
    assert "domain" in again.json()["error"]["fields"]
    assert junk.status_code == 400


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("tier=1", ["Acme Robotics"]),
        ("target=true", ["Acme Robotics", "Globex Systems"]),
        ("q=glob", ["Globex Systems"]),
        ("ordering=-name", ["Globex Systems", "Acme Robotics"]),
    ],
)
def test_account_filters_and_ordering(client, maria, book, query, names):
    response = _api(client, maria).get(f"/api/accounts/?{query}")

    assert [a["name"] for a in response.json()["results"]] == names


@pytest.mark.parametrize("query", ["tier=abc", "updated_since=yesterday", "stage=sleepy"])
def test_bad_filter_values_are_400s_naming_the_parameter(client, maria, book, query):
    response = _api(client, maria).get(f"/api/accounts/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["error"]["fields"]


def test_writes_pointing_at_an_invisible_account_are_400s(client, alice, book):
    api = _api(client, alice)

    contact = _post(
        api,
        "/api/contacts/",
        {"account": book["globex"].pk, "first_name": "Eve", "email": "eve@globex.com"},
    )
    deal = _post(
        api, "/api/opportunities/", {"account": book["globex"].pk, "name": "X", "amount": "10"}
    )

    assert contact.status_code == 400
    assert deal.status_code == 400
    message = f"There is no account {book['globex'].pk} that you can see."
    assert contact.json()["error"]["fields"]["account"] == [message]
    assert not Contact.objects.exists()
    assert not Opportunity.objects.exists()


def test_a_duplicate_contact_email_is_a_400_not_a_500(client, alice, book):
    ContactFactory(account=book["acme"], email="ada@acme.com")

    response = _post(
        _api(client, alice),
        "/api/contacts/",
        {"account": book["acme"].pk, "first_name": "Ada", "email": "ada@acme.com"},
    )

    assert response.status_code == 400


def test_opportunity_stage_changes_are_recorded_and_closing_sets_closed_at(client, alice, book):
    api = _api(client, alice)
    created = _post(
        api, "/api/opportunities/", {"account": book["acme"].pk, "name": "Pilot", "amount": "5000"}
    )
    url = f"/api/opportunities/{created.json()['id']}/"

    won = _patch(api, url, {"stage": "closed_won"})

    body = won.json()
    assert [(c["from_stage"], c["to_stage"]) for c in body["stage_history"]] == [
        ("", "qualification"),
        ("qualification", "closed_won"),
    ]
    assert body["closed_at"] is not None


def test_negative_amounts_are_refused_by_the_constraint_check(client, alice, book):
    response = _post(
        _api(client, alice),
        "/api/opportunities/",
        {"account": book["acme"].pk, "name": "Bad", "amount": "-5"},
    )

    assert response.status_code == 400


def test_leads_contact_must_work_at_the_leads_account(client, maria, book):
    ada = ContactFactory(account=book["acme"])

    response = _post(
        _api(client, maria),
        "/api/leads/",
        {
            "account": book["globex"].pk,
            "contact": ada.pk,
            "source_channel": "webinar",
            "handed_off_at": "2026-11-01T10:00:00Z",
        },
    )

    assert response.status_code == 400
    assert "works at another account" in response.json()["error"]["fields"]["contact"][0]
    assert not Lead.objects.exists()


def test_a_reps_lead_and_opportunity_lists_hold_only_their_accounts(client, alice, book):
    LeadFactory(account=book["acme"])
    LeadFactory(account=book["globex"])
    OpportunityFactory(account=book["acme"])
    OpportunityFactory(account=book["globex"])
    api = _api(client, alice)

    for path in ("/api/leads/", "/api/opportunities/", "/api/contacts/"):
        rows = api.get(path).json()["results"]
        assert {row["account"] for row in rows} <= {book["acme"].pk}, path


def test_session_writes_need_the_csrf_token(alice, book):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.patch(
        f"/api/accounts/{book['acme'].pk}/", {"industry": "X"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_unchanged_responses_revalidate_with_an_etag(client, maria, book):
    api = _api(client, maria)
    first = api.get(f"/api/accounts/{book['acme'].pk}/")

    again = api.get(f"/api/accounts/{book['acme'].pk}/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first["ETag"]
    assert again.status_code == 304


def test_page_size_is_capped(client, maria, book):
    response = _api(client, maria).get("/api/accounts/?page_size=100000")

    assert response.status_code == 200
    assert response.json()["count"] == 2


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/api/accounts/", lambda owner, i: AccountFactory(owner=owner)),
        ("/api/contacts/", lambda owner, i: ContactFactory(account__owner=owner)),
        ("/api/opportunities/", lambda owner, i: _deal_with_history(owner)),
        ("/api/leads/", lambda owner, i: LeadFactory(account__owner=owner)),
    ],
)
def test_list_query_counts_do_not_grow(client, alice, path, make, django_assert_max_num_queries):
    api = _api(client, alice)
    for i in range(3):
        make(alice, i)
    with django_assert_max_num_queries(8):
        few = api.get(path)
    for i in range(30):
        make(alice, i)
    with django_assert_max_num_queries(8):
        many = api.get(path)

    assert len(few.json()["results"]) == 3
    assert len(many.json()["results"]) == 33


def _deal_with_history(owner):
    from accounts.models import OpportunityStageChange

    deal = OpportunityFactory(account__owner=owner)
    OpportunityStageChange.objects.create(
        opportunity=deal, from_stage="", to_stage=deal.stage, changed_at=dt.datetime.now(dt.UTC)
    )
    return deal


@pytest.mark.parametrize(
    "value",
    ["0864-04-29T13:20:25.548+23:16", "2026-01-01T00:00:00-15:30", "0001-01-01T00:00:00+01:00"],
)
def test_date_time_filters_take_any_iso_offset_without_a_server_error(client, maria, book, value):
    response = _api(client, maria).get("/api/opportunities/", {"closed_before": value})

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "closed_before" in response.json()["error"]["fields"]


def test_creating_an_account_with_an_owner_answers_with_the_stored_owner(client, maria, alice):
    # The answer is what was stored: a client must not read "owner": null for an owned account.
    response = _api(client, maria).post(
        "/api/accounts/",
        {"name": "Initech", "domain": "initech.com", "owner": alice.pk},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    stored = Account.objects.get(domain="initech.com")
    assert stored.owner == alice
    assert response.json()["owner"] == alice.pk
    assert _api(client, maria).get(f"/api/accounts/{stored.pk}/").json() == response.json()
