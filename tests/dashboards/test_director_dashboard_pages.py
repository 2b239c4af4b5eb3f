"""The director's dashboard as a page: bad filters and exports, who may open it, the empty
state, flat query counts and goal progress (its figures: test_director_dashboard.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from abm.models import User
from demo.seeding import seed_demo
from goals.models import Goal
from metrics.engine.runner import recompute_all

URL = reverse("dashboards:director")


def test_an_unknown_export_is_a_clear_400(client, diana):
    client.force_login(diana)

    response = client.get(URL, {"export": "passwords"})

    assert response.status_code == 400
    assert "no table “passwords”" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"tier": "9"},
        {"owner": "abc"},
        {"playbook": "'; drop table"},
        {"model": "magic"},
        {"preset": "custom", "start": "2026-13", "end": "x"},
        {"preset": "custom", "start": "2026-05", "end": "2026-01"},
    ],
)
def test_bad_filters_are_ignored_with_a_message(client, diana, params):
    client.force_login(diana)

    response = client.get(URL, params)

    assert response.status_code == 200
    assert response.context["filters"].problems
    assert "was ignored" in response.content.decode() or "instead" in response.content.decode()


def test_reps_cannot_open_the_director_dashboard(client, alice):
    client.force_login(alice)

    assert client.get(URL).status_code == 403
    assert client.get(URL, {"export": "by_channel"}).status_code == 403


def test_dashboard_home_opens_the_dashboard_of_the_role(client, alice, maria, diana):
    for user, name in ((alice, "sales"), (maria, "marketer"), (diana, "director")):
        client.force_login(user)
        response = client.get(reverse("dashboards:dashboards"), {"tier": "1"})
        assert response.status_code == 302
        assert response["Location"] == reverse(f"dashboards:{name}") + "?tier=1"


def test_empty_dashboard_says_what_to_do(client, diana):
    client.force_login(diana)

    response = client.get(URL)

    assert response.status_code == 200
    assert b'data-testid="empty-dashboard"' in response.content
    assert b"Recompute now" in response.content


@pytest.mark.parametrize("accounts", [15, 60])
def test_query_count_does_not_grow_with_the_data(
    client, db, accounts, django_assert_max_num_queries
):
    seed_demo(accounts=accounts, seed=3, today=timezone.now().date())
    recompute_all(now=timezone.now())
    client.force_login(User.objects.get(username="director"))

    # The first look builds the figures (one more query stamps what they were built from)...
    # (+1 below for the saved plan that plan vs actual looks for: read fresh, like the goals.)
    with django_assert_max_num_queries(24):
        response = client.get(URL, {"tier": "targets"})
    assert response.status_code == 200
    assert response.context["has_data"]
    # ...the second reuses them: the page's own queries (session, user, runs) and the goals.
    with django_assert_max_num_queries(11):
        assert client.get(URL, {"tier": "targets"}).status_code == 200


def test_goal_progress_shows_the_goals_running_in_the_period(client, diana, alice):
    today = timezone.now().date()
    running = Goal.objects.create(
        name="Tier 1 pipeline",
        team="marketing",
        owner=diana,
        metric="pipeline_created",
        scope_tiers=[1],
        target=Decimal(200_000),
        current_value=Decimal(50_000),
        expected_value=Decimal(80_000),
        status="off_track",
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=60),
    )
    Goal.objects.create(
        name="Last decade's goal",
        team="sales",
        owner=diana,
        metric="revenue_won",
        target=Decimal(1),
        start_date=today.replace(year=today.year - 10),
        end_date=today.replace(year=today.year - 9),
    )
    client.force_login(diana)

    response = client.get(URL)

    assert [g["name"] for g in response.context["goals"]] == ["Tier 1 pipeline"]
    html = response.content.decode()
    assert reverse("goals:goal_detail", args=[running.pk]) in html
    assert "$50,000 of $200,000" in html
    assert "Off track" in html
