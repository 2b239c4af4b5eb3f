"""Goal pages: who may set and change goals, the live SMART check, the detail and the list."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from goals.models import Goal
from tests.factories import AccountFactory, GoalFactory, OpportunityFactory, PlaybookFactory

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=30)
END = START + dt.timedelta(days=89)  # 90 days; the previous period is the 90 days before


def days_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


@pytest.fixture
def book(alice, bob):
    acme = AccountFactory(tier=1, owner=alice)
    globex = AccountFactory(tier=1, owner=bob)
    OpportunityFactory(account=acme, amount=Decimal(60_000), created_at=days_ago(60))  # before
    OpportunityFactory(account=globex, amount=Decimal(40_000), created_at=days_ago(70))  # before
    OpportunityFactory(account=acme, amount=Decimal(90_000), created_at=days_ago(10))  # now
    return {"acme": acme, "globex": globex}


def post_data(owner, **changes) -> dict:
    data = {
        "name": "Tier 1 pipeline",
        "team": "sales",
        "owner": owner.pk,
        "metric": "pipeline_created",
        "scope_tiers": ["1"],
        "start_date": START.isoformat(),
        "end_date": END.isoformat(),
        "target": "200000",
        "milestones-TOTAL_FORMS": "1",
        "milestones-INITIAL_FORMS": "0",
        "milestones-0-date": (START + dt.timedelta(days=44)).isoformat(),
        "milestones-0-value": "80000",
    }
    data.update(changes)
    return data


def test_a_director_creates_a_goal_with_its_baseline_milestones_and_progress(client, diana, book):
    client.force_login(diana)

    response = client.post(reverse("goals:goal_create"), post_data(diana))

    goal = Goal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("goals:goal_detail", args=[goal.pk])
    assert goal.baseline == Decimal(100_000)  # 60k + 40k in the 90 days before
    assert goal.created_by == diana
    assert [(m.value, m.date) for m in goal.milestones.all()] == [
        (Decimal(80_000), START + dt.timedelta(days=44))
    ]
    assert goal.current_value == Decimal(90_000)
    assert goal.status in {"on_track", "at_risk", "off_track"}
    assert goal.computed_at is not None


def test_a_form_with_errors_says_which_rule_fails(client, diana, book):
    client.force_login(diana)

    response = client.post(
        reverse("goals:goal_create"), post_data(diana, name="Write three blog posts")
    )

    assert response.status_code == 200
    assert "reads like a task" in response.content.decode()
    assert not Goal.objects.exists()


def test_a_rep_may_not_set_goals(client, alice):
    client.force_login(alice)

    assert client.get(reverse("goals:goal_create")).status_code == 403
    assert client.post(reverse("goals:goal_create"), post_data(alice)).status_code == 403


def test_a_rep_cannot_edit_a_directors_goal(client, alice, diana):
    # Set on alice's accounts, so she sees it; it is still the director's to change.
    goal = GoalFactory(owner=diana, team="sales", scope_owner=alice, scope_tiers=[1])
    client.force_login(alice)

    assert client.get(reverse("goals:goal_detail", args=[goal.pk])).status_code == 200
    assert client.get(reverse("goals:goal_edit", args=[goal.pk])).status_code == 403
    response = client.post(reverse("goals:goal_edit", args=[goal.pk]), post_data(alice))
    assert response.status_code == 403
    assert client.post(reverse("goals:goal_delete", args=[goal.pk])).status_code == 404
    goal.refresh_from_db()
    assert goal.name.startswith("Goal ")


def test_a_rep_gets_404_for_a_goal_not_on_their_accounts(client, alice, bob, diana):
    goal = GoalFactory(owner=diana, team="sales", scope_owner=bob, scope_tiers=[1])
    client.force_login(alice)

    assert client.get(reverse("goals:goal_detail", args=[goal.pk])).status_code == 404
    assert client.get(reverse("goals:goal_edit", args=[goal.pk])).status_code == 404


def test_a_marketer_changes_marketing_goals_only(client, maria, diana):
    marketing = GoalFactory(owner=maria, team="marketing", scope_tiers=[1])
    sales = GoalFactory(owner=diana, team="sales", scope_tiers=[1])
    client.force_login(maria)

    assert client.get(reverse("goals:goal_edit", args=[marketing.pk])).status_code == 200
    assert client.get(reverse("goals:goal_edit", args=[sales.pk])).status_code == 403


def test_editing_keeps_a_rate_in_percent_and_replaces_milestones(client, diana, book):
    goal = GoalFactory(
        owner=diana, team="sales", metric="win_rate", target=Decimal("0.35"), scope_tiers=[1]
    )
    client.force_login(diana)

    page = client.get(reverse("goals:goal_edit", args=[goal.pk])).content.decode()
    response = client.post(
        reverse("goals:goal_edit", args=[goal.pk]),
        post_data(
            diana,
            metric="win_rate",
            target="40",
            **{"milestones-0-value": "30"},
        ),
    )

    assert 'value="35.0000"' in page
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.target == Decimal("0.4")
    assert [m.value for m in goal.milestones.all()] == [Decimal("0.3")]


def test_a_director_deletes_a_goal(client, diana):
    goal = GoalFactory(owner=diana, team="sales", scope_tiers=[1])
    client.force_login(diana)

    assert client.get(reverse("goals:goal_delete", args=[goal.pk])).status_code == 200
    response = client.post(reverse("goals:goal_delete", args=[goal.pk]))

    assert response.status_code == 302
    assert not Goal.objects.exists()


def test_breaking_down_a_goal_starts_from_the_parent_and_checks_the_sum(client, diana, book):
    parent = GoalFactory(
        owner=diana,
        team="sales",
        scope_tiers=[1, 2],
        target=300_000,
        start_date=START,
        end_date=END,
    )
    client.force_login(diana)
    url = reverse("goals:goal_create_part", args=[parent.pk])

    form = client.get(url).context["form"]
    client.post(url, post_data(diana, name="Tier 1 part", target="200000"))
    client.post(url, post_data(diana, name="Tier 2 part", scope_tiers=["2"], target="100000"))
    detail = client.get(reverse("goals:goal_detail", args=[parent.pk])).content.decode()

    assert form.initial["metric"] == "pipeline_created"
    assert form.initial["scope_tiers"] == [1, 2]
    assert sorted(parent.children.values_list("name", flat=True)) == ["Tier 1 part", "Tier 2 part"]
    assert "The parts add up to the goal's target." in detail
    assert "Parts add up to $300,000 of $300,000" in detail


PERIOD = {"start_date": START, "end_date": END}


def test_children_measuring_something_else_are_not_summed_as_parts(client, diana, book):
    parent = GoalFactory(
        owner=diana, team="sales", metric="revenue_won", target=2_000_000, **PERIOD
    )
    GoalFactory(
        name="Deals needed",
        owner=diana,
        team="sales",
        parent=parent,
        metric="opportunities_created",
        target=45,
        **PERIOD,
    )
    client.force_login(diana)

    detail = client.get(reverse("goals:goal_detail", args=[parent.pk])).content.decode()

    assert 'data-testid="parts-total"' not in detail
    assert "more than the goal's target" not in detail
    assert "Deals needed" in detail  # the child is still listed
    assert "measure other outcomes" in detail
    assert "is a rate or an average" not in detail


def test_the_detail_shows_progress_and_the_burn_up_chart(client, diana, book):
    client.force_login(diana)
    client.post(reverse("goals:goal_create"), post_data(diana))
    goal = Goal.objects.get()

    response = client.get(reverse("goals:goal_detail", args=[goal.pk]))

    html = response.content.decode()
    assert 'id="goal-burnup-data"' in html
    assert "vendor/plotly/plotly.min.js" in html
    names = [trace["name"] for trace in response.context["figure"]["data"]]
    assert names == ["Expected", "Target", "Actual", "Milestones"]
    assert "$90,000" in html  # current
    assert "$100,000" in html  # baseline


def test_the_list_groups_by_team_and_period_in_three_queries(
    client, diana, alice, django_assert_max_num_queries
):
    for i in range(6):
        GoalFactory(owner=alice, team=("sales", "marketing")[i % 2], scope_tiers=[1])
    client.force_login(diana)

    with django_assert_max_num_queries(3):
        response = client.get(reverse("goals:goals"))

    groups = response.context["groups"]
    assert [g["team"] for g in groups] == ["Marketing", "Sales"]
    assert groups[0]["periods"][0]["label"] == "Q1 2026"
    assert "New goal" in response.content.decode()


def test_the_empty_list_says_what_to_do(client, diana, alice):
    client.force_login(diana)
    director = client.get(reverse("goals:goals")).content.decode()
    client.force_login(alice)
    rep = client.get(reverse("goals:goals")).content.decode()

    assert "Create the first goal" in director
    assert "Your director sets them" in rep


# --- The live check -------------------------------------------------------------------------------


def check(client, **params):
    return client.get(reverse("goals:goal_check"), params)


def test_the_check_returns_the_baseline_and_every_rule(client, diana, book):
    client.force_login(diana)

    response = check(
        client,
        name="Tier 1 pipeline",
        metric="pipeline_created",
        target="200000",
        owner=diana.pk,
        scope_tiers=["1"],
        start_date=START.isoformat(),
        end_date=END.isoformat(),
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["baseline"], body["baseline_display"]) == (100_000, "$100,000")
    assert [c["level"] for c in body["checks"]] == ["ok"] * 5
    assert body["smart"] is True
    assert "2.0x the baseline pace" in body["checks"][2]["message"]


def test_the_check_counts_only_a_reps_own_accounts(client, alice, book):
    client.force_login(alice)

    body = check(
        client,
        metric="pipeline_created",
        scope_tiers=["1"],
        start_date=START.isoformat(),
        end_date=END.isoformat(),
    ).json()

    assert body["baseline"] == 60_000  # acme's deal, not globex's


def test_the_check_of_an_empty_form_lists_what_is_missing(client, diana):
    client.force_login(diana)

    body = check(client).json()

    assert body["smart"] is False
    assert body["baseline"] is None
    assert {c["rule"]: c["level"] for c in body["checks"]}["timely"] == "error"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"start_date": "31/01/2026"}, "start_date must be a date as YYYY-MM-DD"),
        ({"target": "lots"}, "target must be a number"),
        ({"target": "1e400"}, "target must be a finite number"),
        ({"scope_tiers": ["4"]}, "scope_tiers must be 1, 2 or 3"),
        ({"scope_playbook": "abc"}, "scope_playbook must be an id"),
        ({"scope_playbook": "999999"}, "scope_playbook 999999 does not exist"),
        ({"owner": "999999"}, "owner 999999 does not exist"),
    ],
)
def test_malformed_check_parameters_are_a_400_naming_them(client, diana, params, words):
    client.force_login(diana)

    response = check(client, **params)

    assert response.status_code == 400
    assert words in response.json()["error"]


def test_the_check_refuses_task_metrics(client, diana):
    client.force_login(diana)

    body = check(client, metric="blog_posts", target="3").json()

    measurable = body["checks"][1]
    assert measurable["level"] == "error"
    assert "is not an outcome" in measurable["message"]


def test_the_check_needs_a_login(client, db):
    response = check(client)

    assert response.status_code == 302


def test_a_playbook_page_links_to_its_goal(client, diana):
    goal = GoalFactory(owner=diana, team="sales", scope_tiers=[1], status="off_track")
    playbook = PlaybookFactory(goal=goal)
    client.force_login(diana)

    html = client.get(reverse("playbooks:detail", args=[playbook.pk])).content.decode()

    assert reverse("goals:goal_detail", args=[goal.pk]) in html
    assert "chip-off_track" in html


def test_the_goal_page_lists_the_playbooks_working_towards_it(client, diana):
    goal = GoalFactory(owner=diana, team="sales", scope_tiers=[1])
    PlaybookFactory(goal=goal, name="Tier 1 expansion")
    client.force_login(diana)

    html = client.get(reverse("goals:goal_detail", args=[goal.pk])).content.decode()

    assert "Tier 1 expansion" in html


def test_the_check_json_is_plain_json(client, diana):
    client.force_login(diana)

    response = check(client, metric="win_rate", target="35")

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["unit"] == "rate"
