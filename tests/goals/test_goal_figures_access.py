"""A goal's measured figures reach only who may see every account it counts (README "Goals"):
a rep owning a tier-wide goal reads its target, not all reps' pipeline; the live check names only
the people the caller works with."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from goals.models import Goal
from goals.notifications import notify_goal_owners
from goals.visibility import goal_visible, goals_visible_to
from tests.factories import AccountFactory, OpportunityFactory, PlaybookFactory

pytestmark = pytest.mark.django_db

START = timezone.localdate() - dt.timedelta(days=30)
END = START + dt.timedelta(days=89)
# The whole tier's pipeline: 90k of alice's plus 2,686,400 of bob's, whom alice may not see.
THEIRS = Decimal("2686400")


@pytest.fixture
def goals(alice, bob, diana):
    mine = AccountFactory(tier=1, owner=alice)
    theirs = AccountFactory(tier=1, owner=bob)
    now = timezone.now() - dt.timedelta(days=3)
    OpportunityFactory(account=mine, amount=Decimal(90_000), created_at=now)
    OpportunityFactory(account=theirs, amount=THEIRS, created_at=now)
    common = {
        "team": "sales",
        "metric": "pipeline_created",
        "target": Decimal(5_000_000),
        "start_date": START,
        "end_date": END,
        "baseline": Decimal(1_234_567),
        "current_value": THEIRS + 90_000,
        "expected_value": Decimal(1_700_000),
        "status": "on_track",
        "computed_at": timezone.now(),
    }
    return {
        "tier": Goal.objects.create(name="Tier 1 pipeline", owner=alice, scope_tiers=[1], **common),
        "bobs": Goal.objects.create(name="Bob's pipeline", owner=alice, scope_owner=bob, **common),
        "own": Goal.objects.create(
            name="My pipeline",
            owner=diana,
            scope_owner=alice,
            **{**common, "current_value": 90_000},
        ),
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


LEAKS = ("2,776,400", "2776400", "1,234,567", "1,700,000", "On track")


def _page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("which", ["tier", "bobs"])
def test_a_rep_reads_a_goal_over_accounts_beyond_theirs_without_its_figures(
    client, alice, goals, which
):
    goal = goals[which]
    detail = _page(client, alice, reverse("goals:goal_detail", args=[goal.pk]))
    listing = _page(client, alice, reverse("goals:goals"))

    for leak in LEAKS:
        assert leak not in detail
    assert 'data-testid="goal-figures-hidden"' in detail
    assert "goal-burnup-data" not in detail  # no chart of the sum
    assert "$5,000,000" in detail or "5,000,000" in detail  # the target stays
    assert "2,776,400" not in listing
    assert "2776400" not in listing
    assert "90,000" in listing  # her own goal's figure is hers to read


def test_a_hidden_goals_smart_check_does_not_weigh_what_the_rep_cannot_see(
    client, alice, diana, goals
):
    url = reverse("goals:goal_detail", args=[goals["tier"].pk])
    hidden = _page(client, alice, url)
    director = _page(client, diana, url)

    said = "Weighed against the baseline over accounts beyond yours"
    assert said in hidden
    assert said not in director
    assert "baseline" in director.split('id="smart-title"')[1]  # the director reads the real rule


def test_a_reps_own_scoped_goal_and_a_directors_view_keep_their_figures(
    client, alice, diana, goals
):
    own = _page(client, alice, reverse("goals:goal_detail", args=[goals["own"].pk]))
    director = _page(client, diana, reverse("goals:goal_detail", args=[goals["tier"].pk]))

    assert "90,000" in own
    assert "goal-figures-hidden" not in own
    assert "2,776,400" in director
    assert "goal-figures-hidden" not in director


def test_the_api_hides_the_figures_and_their_status_filter(alice, diana, goals):
    rows = {g["name"]: g for g in api(alice).get("/api/goals/").json()["results"]}
    on_track = api(alice).get("/api/goals/", {"status": "on_track"}).json()["results"]
    directors = {g["name"]: g for g in api(diana).get("/api/goals/").json()["results"]}

    for name in ("Tier 1 pipeline", "Bob's pipeline"):
        shown = rows[name]
        assert shown["figures_hidden"] is True
        assert shown["current_value"] is None
        assert shown["expected_value"] is None
        assert shown["baseline"] is None
        assert shown["status"] == ""
        assert shown["target"] == "5000000.0000"
    assert rows["My pipeline"]["figures_hidden"] is False
    assert Decimal(rows["My pipeline"]["current_value"]) == 90_000
    assert [g["name"] for g in on_track] == ["My pipeline"]
    assert Decimal(directors["Tier 1 pipeline"]["current_value"]) == THEIRS + 90_000


def test_a_playbook_page_shows_its_goal_as_the_reader_may_see_it(client, alice, goals):
    playbook = PlaybookFactory(goal=goals["tier"])

    page = _page(client, alice, reverse("playbooks:detail", args=[playbook.pk]))

    assert "Tier 1 pipeline" in page
    for leak in LEAKS:
        assert leak not in page


def test_no_at_risk_email_sums_accounts_its_owner_may_not_see(alice, goals):
    Goal.objects.filter(pk=goals["tier"].pk).update(status="at_risk")

    notify_goal_owners()

    assert not [m for m in mail.outbox if "2,776,400" in m.body or "Tier 1" in m.subject]


def test_the_live_check_looks_up_only_people_the_caller_works_with(client, alice, bob, maria):
    bob.first_name, bob.last_name = "Robert", "Secretname"
    bob.save()
    query = {"metric": "pipeline_created", "name": "Pipeline", "scope_owner": bob.pk}

    client.force_login(alice)
    as_rep = client.get(reverse("goals:goal_check"), {**query, "owner": alice.pk})
    as_self = client.get(
        reverse("goals:goal_check"), {**query, "owner": alice.pk, "scope_owner": alice.pk}
    )
    client.force_login(maria)
    as_marketer = client.get(reverse("goals:goal_check"), {**query, "owner": maria.pk})

    assert as_rep.status_code == 400
    assert "Secretname" not in as_rep.content.decode()
    assert as_self.status_code == 200
    assert as_marketer.status_code == 200
    assert "Secretname" in as_marketer.content.decode()


def test_the_rule_for_a_goal_read_through_a_relation_matches_the_scoping_function(
    alice, bob, maria, goals
):
    other = Goal.objects.create(
        name="Bob's own",
        owner=bob,
        team="sales",
        metric="pipeline_created",
        target=1,
        start_date=START,
        end_date=END,
    )
    for user in (alice, bob, maria):
        scoped = set(goals_visible_to(user).values_list("pk", flat=True))
        for goal in [*goals.values(), other]:
            assert goal_visible(goal, user) == (goal.pk in scoped)
