"""The planner pages: who may open them, the plan as you type, inline errors, saving."""

import html
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account
from goals.models import Goal, Plan
from goals.plan_forms import next_quarters
from goals.plan_views import _tiering_url
from metrics.planning_api import PlanSerializer
from tests.goals.test_plans import _save

URL = reverse("plans:plans")


@pytest.fixture
def seeded(db):
    call_command("seed_demo", "--accounts", "60", "--seed", "5", stdout=io.StringIO())


def _query():
    from django.utils import timezone

    start, end = next_quarters(timezone.localdate())
    return {
        "target": "2000000",
        "kind": "revenue",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "tiers": ["1", "2"],
        "model": "linear",
    }


@pytest.mark.django_db
def test_the_planner_starts_empty_and_says_what_to_do(client, diana):
    client.force_login(diana)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Start with a target" in response.content
    assert b"No saved plans yet" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"target": "0"}, "The target must be above $0."),
        ({"target": "lots"}, "Enter a number."),
        ({"end": "2020-01-01"}, "The end date must be after the start date."),
        ({"tiers": ["7"]}, "Select a valid choice."),
    ],
)
def test_bad_input_is_an_inline_error_not_a_500(client, diana, change, message):
    client.force_login(diana)
    response = client.get(URL, {**_query(), **change}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert message in response.content.decode()


@pytest.mark.django_db
def test_a_marketer_reads_plans_but_cannot_save(client, maria, diana):
    plan = _save(diana)
    client.force_login(maria)
    assert client.get(reverse("plans:plan_detail", args=[plan.pk])).status_code == 200
    response = client.post(reverse("plans:plan_save"), {**_query(), "name": "Mine"})
    assert response.status_code == 403
    assert Plan.objects.count() == 1


@pytest.mark.django_db
def test_a_rep_cannot_save_a_plan(client, alice):
    client.force_login(alice)
    response = client.post(reverse("plans:plan_save"), {**_query(), "name": "Mine"})
    assert response.status_code == 404
    assert not Plan.objects.exists()


@pytest.mark.django_db
def test_the_saved_plans_list_shows_date_and_assumptions(client, diana):
    _save(diana)
    client.force_login(diana)
    page = client.get(URL).content.decode()
    assert "Two quarters from tiers 1-2" in page
    assert "Target → engaged 40.0%" in page
    assert "deal $500,000" in page


def test_a_director_plans_as_they_type_and_saves(client, diana, seeded):
    client.force_login(diana)
    response = client.get(URL, _query(), headers={"HX-Request": "true"})
    assert response.status_code == 200, response.content.decode()[:2000]
    page = response.content.decode()
    assert 'data-testid="plan-waterfall"' in page
    assert 'name="conv_0"' in page
    response = client.post(reverse("plans:plan_save"), {**_query(), "name": "H1 tiers 1-2"})
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert plan.result["needed"]["won"]["value"] > 0
    # Saved as the API shows a plan: its step names and fields, the measured rates included.
    assert set(plan.assumptions["conversion"]) == {
        "targeted_engaged",
        "engaged_mqa",
        "mqa_opportunity",
        "opportunity_won",
    }
    assert set(plan.result) == set(PlanSerializer().fields)

    # The CSV the planner offers is the API's for the same fields, and the saved plan's too.
    link = re.search(r'href="([^"]*)" data-testid="plan-export"', page).group(1)
    assert "csrfmiddlewaretoken" not in link
    shown = _csv(client.get(html.unescape(link)))
    body = {**_query(), "tiers": [1, 2], "target": 2_000_000}
    api = APIClient()
    api.force_authenticate(diana)
    assert shown == _csv(api.post("/api/plans/export/", body, format="json"))
    assert shown[1] == 'Target,revenue won,"$2,000,000",,,,'
    assert _csv(client.get(reverse("plans:saved_plan_export", args=[plan.pk]))) == shown


def _csv(response) -> list[str]:
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode("utf-8-sig").splitlines()


@pytest.mark.django_db
def test_an_export_of_fields_that_do_not_hold_goes_back_to_the_planner(client, diana, alice):
    client.force_login(diana)
    response = client.get(reverse("plans:plan_export"), {**_query(), "target": "0"})
    assert response.status_code == 302
    assert response["Location"].startswith(URL)
    assert "The target must be above $0." in client.get(response["Location"]).content.decode()
    plan = _save(diana)
    client.force_login(alice)
    assert client.get(reverse("plans:saved_plan_export", args=[plan.pk])).status_code == 404
    assert client.get(reverse("plans:plan_export"), _query()).status_code == 404


@pytest.mark.django_db
def test_without_history_the_rates_can_be_typed_by_hand(client, diana):
    client.force_login(diana)
    response = client.get(URL, _query(), headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "set it by hand" in page
    assert "Too little history to measure: type it." in page
    basis = re.search(r'name="basis" value="([^"]*)"', page).group(1)
    typed = {**{f"conv_{i}": "50" for i in range(4)}, **{f"lag_{i}": "30" for i in range(4)}}
    response = client.get(
        URL,
        {**_query(), **typed, "deal_size": "100000", "basis": basis},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    # 2,000,000 / 100,000 = 20 won; / 0.5 = 40 opportunities, 80 mqa, 160 engaged, 320 targets.
    assert response.status_code == 200, page[:3000]
    for stage, value in [("won", "20"), ("opportunity", "40"), ("targeted", "320")]:
        assert re.search(rf'need-{stage}-value">{value}<', page), stage


@pytest.mark.django_db
def test_add_accounts_like_these_opens_the_tiering_assistant_on_the_scope(diana):
    for name, tier, industry in [("A", 1, "Software"), ("B", 2, "Software"), ("C", 3, "Retail")]:
        Account.objects.create(
            name=name, domain=f"{name.lower()}.com", tier=tier, industry=industry, country="DE"
        )
    Account.objects.create(name="D", domain="d.com", tier=3, industry="Retail", country="FR")
    assert _tiering_url(diana, [1, 2]) == "/accounts/tiering/?industry=Software&country=DE"
    assert _tiering_url(diana, [3]) == "/accounts/tiering/?industry=Retail&country=DE"


@pytest.mark.django_db
def test_a_director_makes_the_goals_from_the_plan_page(client, diana, bob, maria):
    plan = _save(diana)
    client.force_login(diana)
    page = client.get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
    assert "Create goals" in page
    owners = {"parent": diana.pk, "opportunity": bob.pk, "mqa": maria.pk, "engaged": maria.pk}
    response = client.post(reverse("plans:plan_goals", args=[plan.pk]), owners)
    plan.refresh_from_db()
    assert response.status_code == 302
    assert response.url == reverse("goals:goal_detail", args=[plan.goal_id])
    assert plan.goal.children.get(metric="opportunity_accounts").owner == bob
    # Made once: the page no longer offers it and a second post is refused in words.
    assert (
        "Create goals"
        not in client.get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
    )
    again = client.post(reverse("plans:plan_goals", args=[plan.pk]), owners)
    assert again.status_code == 422
    assert "already made" in again.content.decode()


@pytest.mark.django_db
def test_making_goals_without_an_owner_is_an_inline_error(client, diana):
    plan = _save(diana)
    client.force_login(diana)
    response = client.post(reverse("plans:plan_goals", args=[plan.pk]), {"parent": diana.pk})
    assert response.status_code == 422
    assert "Choose who is accountable for this goal." in response.content.decode()
    assert not Goal.objects.exists()
