"""CSV exports: the current filter, scoping, formula-injection escaping, streaming."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from tests.accounts.account_pages import account
from tests.factories import ContactFactory, LeadFactory, OpportunityFactory


def rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads UTF-8 only with the byte-order mark
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


@pytest.fixture
def plan(alice, bob):
    acme = account(alice, "Acme", industry="Software", tier=1, fit_score=80, engagement_score=10)
    bolt = account(bob, "Bolt", industry="Retail", tier=2)
    ContactFactory(account=acme, first_name="Ada", email="ada@acme.example")
    ContactFactory(account=bolt, first_name="Bo", email="bo@bolt.example")
    OpportunityFactory(account=acme, name="Acme deal")
    OpportunityFactory(account=bolt, name="Bolt deal")
    return {"acme": acme, "bolt": bolt}


def test_the_accounts_export_follows_the_current_filter_and_sort(client, maria, plan):
    account(None, "Aardvark", industry="Software", fit_score=10)
    client.force_login(maria)

    response = client.get(reverse("accounts:export"), {"industry": "Software", "sort": "-fit"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="accounts.csv"' in response["Content-Disposition"]
    exported = rows(response)
    assert [r["name"] for r in exported] == ["Acme", "Aardvark"]
    assert exported[0]["owner"] == "Alice"  # the full name, as the list shows it
    assert exported[0]["tier"] == "1"
    assert exported[0]["priority"] == "8.0"


def test_a_reps_exports_hold_only_their_accounts(client, alice, plan):
    client.force_login(alice)

    accounts = rows(client.get(reverse("accounts:export")))
    contacts = rows(client.get(reverse("accounts:export_contacts")))
    opportunities = rows(client.get(reverse("accounts:export_opportunities")))

    assert [r["name"] for r in accounts] == ["Acme"]
    assert [r["email"] for r in contacts] == ["ada@acme.example"]
    assert [r["name"] for r in opportunities] == ["Acme deal"]


def test_filtered_contact_and_opportunity_exports(client, maria, plan):
    client.force_login(maria)

    contacts = rows(client.get(reverse("accounts:export_contacts"), {"industry": "Retail"}))
    opportunities = rows(client.get(reverse("accounts:export_opportunities"), {"tier": "2"}))

    assert [r["account"] for r in contacts] == ["Bolt"]
    assert [r["name"] for r in opportunities] == ["Bolt deal"]


@pytest.mark.parametrize("route", ["accounts:contacts_csv", "accounts:opportunities_csv"])
def test_per_account_exports_are_scoped(client, alice, plan, route):
    client.force_login(alice)

    mine = client.get(reverse(route, args=[plan["acme"].pk]))
    theirs = client.get(reverse(route, args=[plan["bolt"].pk]))

    assert mine.status_code == 200
    assert "acme.example" in mine["Content-Disposition"]
    assert len(rows(mine)) == 1
    assert theirs.status_code == 404


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_cells_a_spreadsheet_would_run_are_escaped(client, maria, payload):
    target = account(None, "Formula", industry=payload)
    ContactFactory(account=target, title=payload)
    OpportunityFactory(account=target, name=payload)
    client.force_login(maria)

    accounts = rows(client.get(reverse("accounts:export")))
    contacts = rows(client.get(reverse("accounts:contacts_csv", args=[target.pk])))
    opportunities = rows(client.get(reverse("accounts:opportunities_csv", args=[target.pk])))

    assert accounts[0]["industry"] == "'" + payload
    assert contacts[0]["title"] == "'" + payload
    assert opportunities[0]["name"] == "'" + payload


def test_numbers_we_wrote_are_not_escaped(client, maria):
    account(None, "Plain", industry="Software", employees=250, fit_score=0)
    client.force_login(maria)

    exported = rows(client.get(reverse("accounts:export")))

    assert exported[0]["employees"] == "250"
    assert exported[0]["spike"] == "no"


def test_bad_filters_do_not_break_an_export(client, maria, plan):
    client.force_login(maria)

    response = client.get(reverse("accounts:export"), {"fit_min": "abc", "sort": "evil"})

    assert response.status_code == 200
    assert len(rows(response)) == 2


def test_exports_need_a_login(client, plan):
    response = client.get(reverse("accounts:export"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_large_export_streams_in_a_constant_number_of_queries(
    client, maria, django_assert_max_num_queries
):
    from accounts.models import Account

    Account.objects.bulk_create(
        Account(name=f"Company {i:05}", domain=f"c{i:05}.example") for i in range(3_000)
    )
    client.force_login(maria)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("accounts:export"))
        exported = rows(response)

    assert len(exported) == 3_000


def test_exports_name_owners_by_full_name_or_else_username(client, maria, alice, bob, plan):
    alice.last_name = "Archer"
    alice.save()
    bob.first_name = ""
    bob.save()
    LeadFactory(account=plan["acme"])
    client.force_login(maria)

    accounts = {r["name"]: r["owner"] for r in rows(client.get(reverse("accounts:export")))}
    leads = rows(client.get(reverse("accounts:leads_csv")))

    assert accounts == {"Acme": "Alice Archer", "Bolt": "bob"}
    assert [r["owner"] for r in leads] == ["Alice Archer"]
