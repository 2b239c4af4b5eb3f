"""/api/goals/: the goal page's SMART rules and permissions over the API, milestones nested."""

import datetime as dt
from decimal import Decimal

import pytest

from goals.models import Goal, GoalMilestone
from goals.smart import period_label
from tests.api.api_calls import error_of, ids
from tests.factories import GoalFactory
from tests.goals.goal_books import END, START, playbook_book, win_rate_book

URL = "/api/goals/"
# Goals must end after today (Timely): they are set for next year.
Y = dt.datetime.now(tz=dt.UTC).year + 1


def goal_body(owner, **fields) -> dict:
    return {
        "name": "$2M pipeline from tier 1 in Q1",
        "team": "marketing",
        "owner": owner.pk,
        "metric": "pipeline_created",
        "scope_tiers": [1],
        "target": "2000000",
        "start_date": f"{Y}-01-01",
        "end_date": f"{Y}-03-31",
        **fields,
    }


def test_a_director_sets_a_goal_with_milestones(api, diana):
    body = goal_body(
        diana,
        team="sales",
        milestones=[
            {"date": f"{Y}-02-28", "value": "1200000"},
            {"date": f"{Y}-01-31", "value": "500000"},
        ],
        current_value="99",  # read-only: the recompute writes it
    )

    response = api(diana).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    goal = Goal.objects.get(pk=response.json()["id"])
    assert (goal.team, goal.created_by, goal.target) == ("sales", diana, Decimal("2000000"))
    assert goal.status == ""  # measured at once, and blank until its period starts
    assert goal.computed_at is not None
    assert goal.current_value == Decimal("0")
    assert response.json()["milestones"] == [
        {"date": f"{Y}-01-31", "value": "500000.0000"},
        {"date": f"{Y}-02-28", "value": "1200000.0000"},
    ]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": "Write three blog posts"}, "name", "Measurable"),
        ({"scope_tiers": []}, "scope_tiers", "Specific"),
        ({"end_date": "2025-12-01"}, "end_date", "Timely"),
        ({"target": "0"}, "target", "above zero"),
        ({"metric": "win_rate", "target": "1.5"}, "target", "at most 100%"),
        # As a percentage, the page's unit, this fraction would not fit the form's digits.
        ({"metric": "win_rate", "target": "99999999999"}, "target", "at most 100%"),
        (
            {
                "metric": "follow_up_rate",
                "target": "0.5",
                "milestones": [{"date": f"{Y}-02-01", "value": "99999999999"}],
            },
            "milestones",
            "at most 100%",
        ),
        (
            {"milestones": [{"date": f"{Y}-01-{d:02}", "value": "1"} for d in range(1, 26)]},
            "milestones",
            "no more than 24",
        ),
        ({"metric": None}, "metric", "choose a metric"),
        ({"milestones": [{"date": f"{Y}-05-01", "value": "1"}]}, "milestones", "outside"),
        (
            {
                "milestones": [
                    {"date": f"{Y}-01-31", "value": "9"},
                    {"date": f"{Y}-02-28", "value": "1"},
                ]
            },
            "milestones",
            "cannot go down",
        ),
    ],
)
def test_a_goal_that_is_not_smart_is_a_400_naming_the_rule(api, diana, fields, field, words):
    body = {k: v for k, v in goal_body(diana, **fields).items() if v is not None}

    error = error_of(api(diana).post(URL, body, format="json"), 400)

    assert field in error["fields"], error
    assert any(words in message for message in error["fields"][field]), error
    assert not Goal.objects.exists()


def test_a_rate_is_a_fraction(api, diana):
    response = api(diana).post(
        URL,
        goal_body(
            diana,
            metric="win_rate",
            target="0.35",
            milestones=[{"date": f"{Y}-02-01", "value": "0.2"}],
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    goal = Goal.objects.get()
    assert goal.target == Decimal("0.35")
    assert list(goal.milestones.values_list("value", flat=True)) == [Decimal("0.2")]


def test_a_marketer_sets_marketing_goals_only(api, maria, diana):
    client = api(maria)
    sales_goal = GoalFactory(owner=diana, team="sales", scope_tiers=[1])

    refused = client.post(URL, goal_body(maria, team="sales"), format="json")
    editing = client.patch(f"{URL}{sales_goal.pk}/", {"name": "Mine now"}, format="json")
    created = client.post(URL, goal_body(maria), format="json")

    assert error_of(refused, 400)["fields"]["team"] == [
        "You may not set sales goals: directors and admins set any goal, marketers marketing goals."
    ]
    assert error_of(editing, 403)["code"] == "permission_denied"
    assert created.status_code == 201, created.content


def test_a_rep_reads_the_goals_that_cover_their_accounts(api, alice, bob, diana):
    mine = GoalFactory(owner=diana, scope_owner=alice, team="sales")
    theirs = GoalFactory(owner=diana, scope_owner=bob, team="sales")
    client = api(alice)

    assert ids(client.get(URL)) == [mine.pk]
    assert error_of(client.get(f"{URL}{theirs.pk}/"), 404)["code"] == "not_found"
    error_of(client.post(URL, goal_body(alice), format="json"), 403)
    error_of(client.delete(f"{URL}{mine.pk}/"), 403)


def test_a_patch_keeps_the_milestones_unless_sent(api, diana):
    client = api(diana)
    body = goal_body(diana, milestones=[{"date": f"{Y}-01-31", "value": "500000"}])
    pk = client.post(URL, body, format="json").json()["id"]

    renamed = client.patch(f"{URL}{pk}/", {"name": "$2.5M pipeline"}, format="json")
    cleared = client.patch(f"{URL}{pk}/", {"milestones": []}, format="json")

    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["milestones"] == [{"date": f"{Y}-01-31", "value": "500000.0000"}]
    assert cleared.json()["milestones"] == []
    assert Goal.objects.get().name == "$2.5M pipeline"


def test_a_part_fits_its_parent(api, diana):
    client = api(diana)
    parent = client.post(URL, goal_body(diana), format="json").json()["id"]

    too_big = client.post(URL, goal_body(diana, parent=parent, target="2500000"), format="json")
    other_metric = client.post(
        URL, goal_body(diana, parent=parent, metric="revenue_won"), format="json"
    )
    part = client.post(URL, goal_body(diana, parent=parent, target="500000"), format="json")

    assert "more than the parent" in error_of(too_big, 400)["fields"]["target"][0]
    assert "metric" in error_of(other_metric, 400)["fields"]
    assert part.status_code == 201, part.content
    assert Goal.objects.get(pk=part.json()["id"]).parent_id == parent
    cycle = client.patch(f"{URL}{parent}/", {"parent": part.json()["id"]}, format="json")
    assert "cannot be its parent" in error_of(cycle, 400)["fields"]["parent"][0]


def test_a_parent_you_may_not_see_is_a_400(api, diana):
    response = api(diana).post(URL, goal_body(diana, parent=999999), format="json")

    assert error_of(response, 400)["fields"] == {
        "parent": ["There is no goal 999999 that you can see."]
    }


def test_a_goal_is_deleted_with_its_parts(api, diana):
    parent = GoalFactory(owner=diana)
    GoalFactory(owner=diana, parent=parent)

    assert api(diana).delete(f"{URL}{parent.pk}/").status_code == 204
    assert not Goal.objects.exists()


def test_goal_filters(api, diana):
    q1 = GoalFactory(owner=diana, team="sales")
    q2 = GoalFactory(
        owner=diana, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 6, 30), parent=q1
    )
    client = api(diana)

    assert ids(client.get(URL, {"team": "sales"})) == [q1.pk]
    assert ids(client.get(URL, {"active_on": "2026-05-01"})) == [q2.pk]
    assert ids(client.get(URL, {"top_level": "true"})) == [q1.pk]
    assert ids(client.get(URL, {"parent": q1.pk})) == [q2.pk]
    assert "metric" in error_of(client.get(URL, {"metric": "happiness"}), 400)["fields"]
    assert "active_on" in error_of(client.get(URL, {"active_on": "soon"}), 400)["fields"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_goal_list_takes_flat_queries(api, diana, count, django_assert_max_num_queries):
    for goal in GoalFactory.create_batch(count, owner=diana):
        GoalMilestone.objects.create(goal=goal, date=dt.date(2026, 2, 1), value=1)
    client = api(diana)

    with django_assert_max_num_queries(3):
        response = client.get(URL, {"page_size": 100})

    assert len(ids(response)) == count
    assert all(len(row["milestones"]) == 1 for row in response.json()["results"])


# --- The stricter SMART rules of issue #14, as the form applies them -------------------------


def test_a_goal_for_a_past_quarter_is_a_400_on_the_end_date(api, diana):
    body = goal_body(diana, start_date="2025-01-01", end_date="2025-03-31")

    error = error_of(api(diana).post(URL, body, format="json"), 400)

    assert any("a report, not a goal" in m for m in error["fields"]["end_date"]), error


def test_a_win_rate_below_the_baseline_is_a_400_on_the_target(api, diana):
    win_rate_book()
    body = goal_body(
        diana,
        metric="win_rate",
        target="0.35",
        start_date=START.isoformat(),
        end_date=END.isoformat(),
    )

    error = error_of(api(diana).post(URL, body, format="json"), 400)

    assert error["fields"]["target"] == [
        "Attainable: A target of 35.0% is no improvement on the baseline, 70.0% in "
        f"{period_label(START - dt.timedelta(days=90), START - dt.timedelta(days=1))}: win rate "
        "should rise. Set a target above the baseline."
    ]
    assert not Goal.objects.exists()


def test_a_target_beyond_the_record_is_saved_with_its_warning_in_the_answer(api, diana):
    playbook = playbook_book()
    body = goal_body(
        diana,
        scope_tiers=[],
        scope_playbook=playbook.pk,
        target="500000000",
        start_date=START.isoformat(),
        end_date=END.isoformat(),
    )

    response = api(diana).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    (attainable,) = [w for w in response.json()["smart_warnings"] if w.startswith("Attainable")]
    assert "the best equal period on record ($120,000" in attainable
    read = api(diana).get(f"{URL}{response.json()['id']}/").json()
    assert read["smart_warnings"] == []


def test_a_goal_changed_to_a_rate_keeps_its_target_at_most_100_percent(api, diana):
    goal = GoalFactory(owner=diana, team="sales", scope_tiers=[1], target=Decimal("99999999999"))

    response = api(diana).patch(f"{URL}{goal.pk}/", {"metric": "win_rate"}, format="json")

    assert error_of(response, 400)["fields"]["target"] == [
        "Measurable: A rate can be at most 100%."
    ]
