"""A value taken by a row the caller may not see is refused without saying that the row exists
(README "Permissions"); a caller who may see the clashing row hears the specific reason."""

import pytest

from accounts.models import Account, Opportunity
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice, bob):
    mine = AccountFactory(domain="mine.com", owner=alice, external_id="crm-mine")
    theirs = AccountFactory(domain="theirs.com", owner=bob, external_id="crm-theirs")
    return {
        "mine": mine,
        "theirs": theirs,
        "my_deal": OpportunityFactory(account=mine, external_id="opp-mine"),
        "their_deal": OpportunityFactory(account=theirs, external_id="opp-theirs"),
        "my_other_deal": OpportunityFactory(account=mine, external_id="opp-mine-2"),
    }


@pytest.fixture
def api(api):
    """JSON bodies, as the API's clients send them."""

    def client_for(user):
        client = api(user)
        client.default_format = "json"
        return client

    return client_for


def _errors(response) -> str:
    return str(response.json()["error"])


def test_a_reps_clash_with_another_reps_domain_does_not_confirm_it(api, alice, book):
    taken = api(alice).patch(f"/api/accounts/{book['mine'].pk}/", {"domain": "theirs.com"})
    unknown = api(alice).patch(f"/api/accounts/{book['mine'].pk}/", {"domain": "nobody.com"})

    assert taken.status_code == 400
    assert taken.json()["error"]["fields"] == {"domain": ["This domain cannot be used."]}
    assert "exist" not in _errors(taken)
    assert unknown.status_code == 200  # the control: a free domain is taken as given
    assert Account.objects.get(pk=book["theirs"].pk).domain == "theirs.com"


def test_a_reps_clash_with_another_reps_external_ids_does_not_confirm_them(api, alice, book):
    account = api(alice).patch(f"/api/accounts/{book['mine'].pk}/", {"external_id": "crm-theirs"})
    deal = api(alice).patch(
        f"/api/opportunities/{book['my_deal'].pk}/", {"external_id": "opp-theirs"}
    )

    assert account.status_code == 400
    assert account.json()["error"]["fields"] == {
        "external_id": ["This external id cannot be used."]
    }
    assert deal.status_code == 400
    assert deal.json()["error"]["fields"] == {"external_id": ["This external id cannot be used."]}
    assert "exist" not in _errors(account) + _errors(deal)
    assert Opportunity.objects.get(pk=book["my_deal"].pk).external_id == "opp-mine"


def test_new_contacts_and_leads_clashing_with_unseen_ones_are_refused_the_same_way(
    api, alice, bob, book
):
    ContactFactory(account=book["theirs"], external_id="c-theirs")
    LeadFactory(account=book["theirs"], external_id="l-theirs")

    contact = api(alice).post(
        "/api/contacts/",
        {
            "account": book["mine"].pk,
            "first_name": "A",
            "last_name": "B",
            "email": "a@mine.com",
            "external_id": "c-theirs",
        },
    )
    lead = api(alice).patch(
        f"/api/leads/{LeadFactory(account=book['mine']).pk}/", {"external_id": "l-theirs"}
    )

    assert contact.status_code == 400, contact.json()
    assert contact.json()["error"]["fields"] == {
        "external_id": ["This external id cannot be used."]
    }
    assert lead.status_code == 400, lead.json()
    assert lead.json()["error"]["fields"] == {"external_id": ["This external id cannot be used."]}


def test_a_clash_the_caller_may_see_keeps_the_specific_message(api, alice, maria, book):
    own = api(alice).patch(
        f"/api/opportunities/{book['my_deal'].pk}/", {"external_id": "opp-mine-2"}
    )
    marketer = api(maria).patch(f"/api/accounts/{book['mine'].pk}/", {"domain": "theirs.com"})
    created = api(maria).post("/api/accounts/", {"name": "Dup", "domain": "theirs.com"})

    assert own.status_code == 400
    assert "already exists" in own.json()["error"]["fields"]["external_id"][0]
    assert marketer.status_code == 400
    assert "already exists" in marketer.json()["error"]["fields"]["domain"][0]
    assert "already exists" in created.json()["error"]["fields"]["domain"][0]
