"""The stricter SMART rules on the goal form, its live check and the goal page: the examples of
issue #14 fail (or warn) with the reason beside the field it concerns."""

import datetime as dt
import re
from decimal import Decimal

from django.urls import reverse

from goals.models import Goal
from tests.factories import GoalFactory
from tests.goals.goal_books import END, START, TODAY, playbook_book, win_rate_book


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
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(html: str, field: str) -> str:
    """The text of the error list the form renders beside ``field``."""
    found = re.search(rf'<ul class="field-error" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert found, f"no error list beside {field}"
    return re.sub(r"<[^>]+>", " ", found.group(1))


def test_a_goal_for_a_past_quarter_fails_timely_beside_the_end_date(client, diana):
    client.force_login(diana)

    response = client.post(
        reverse("goals:goal_create"),
        post_data(diana, start_date="2025-01-01", end_date="2025-03-31"),
    )

    assert response.status_code == 200
    reason = field_errors(response.content.decode(), "end_date")
    assert "Timely: The period ended on Mar 31, 2025" in reason
    assert "a report, not a goal" in reason
    assert not Goal.objects.exists()


def test_a_win_rate_below_the_baseline_fails_attainable_beside_the_target(client, diana):
    win_rate_book()
    client.force_login(diana)

    response = client.post(
        reverse("goals:goal_create"), post_data(diana, metric="win_rate", target="35")
    )

    assert response.status_code == 200
    reason = field_errors(response.content.decode(), "target")
    assert "Attainable: A target of 35.0% is no improvement on the baseline, 70.0%" in reason
    assert not Goal.objects.exists()


def test_a_win_rate_above_the_baseline_is_saved(client, diana):
    win_rate_book()
    client.force_login(diana)

    response = client.post(
        reverse("goals:goal_create"), post_data(diana, metric="win_rate", target="75")
    )

    assert response.status_code == 302
    assert Goal.objects.get().baseline == Decimal("0.7")


def test_500m_on_an_eight_account_playbook_is_saved_with_the_warning_shown(client, diana):
    playbook = playbook_book()
    client.force_login(diana)

    response = client.post(
        reverse("goals:goal_create"),
        post_data(diana, scope_tiers=[], scope_playbook=playbook.pk, target="500000000"),
        follow=True,
    )

    html = response.content.decode()
    assert Goal.objects.get().target == 500_000_000
    assert "Attainable: The target, $500,000,000," in html
    # the best of the two equal periods the data cover, the playbook's accounts only
    assert "4,166.7x the best equal period on record ($120,000" in html


def check(client, **params):
    return client.get(reverse("goals:goal_check"), params)


def base_params(owner, **changes) -> dict:
    params = {
        "name": "Pipeline",
        "metric": "pipeline_created",
        "target": "200000",
        "owner": owner.pk,
        "scope_tiers": ["1"],
        "start_date": START.isoformat(),
        "end_date": END.isoformat(),
    }
    return {**params, **changes}


def attainable(body: dict) -> dict:
    return next(c for c in body["checks"] if c["rule"] == "attainable")


def test_the_live_check_names_the_field_and_the_record(client, diana):
    playbook = playbook_book()
    client.force_login(diana)

    body = check(
        client,
        **base_params(diana, scope_tiers=[], scope_playbook=playbook.pk, target="500000000"),
    ).json()

    result = attainable(body)
    assert (result["level"], result["field"], result["strong"]) == ("warning", "target", True)
    assert body["baseline"] == 90_000
    assert body["best_on_record"]["display"] == "$120,000"
    assert body["best_on_record"]["periods"] == 2


def test_the_live_check_refuses_a_target_below_the_baseline(client, diana):
    win_rate_book()
    client.force_login(diana)

    body = check(client, **base_params(diana, metric="win_rate", target="35")).json()

    assert (attainable(body)["level"], attainable(body)["field"]) == ("error", "target")
    assert body["errors"] == 1


def test_the_live_check_of_a_past_quarter_fails_timely(client, diana):
    client.force_login(diana)

    body = check(client, **base_params(diana, start_date="2025-01-01", end_date="2025-03-31"))

    timely = next(c for c in body.json()["checks"] if c["rule"] == "timely")
    assert (timely["level"], timely["field"]) == ("error", "end_date")


def test_an_ended_goal_can_still_be_renamed(client, diana):
    ended = GoalFactory(
        owner=diana,
        team="sales",
        scope_tiers=[1],
        start_date=TODAY - dt.timedelta(days=120),
        end_date=TODAY - dt.timedelta(days=31),
        target=200_000,
    )
    client.force_login(diana)
    data = post_data(
        diana,
        name="Renamed",
        start_date=ended.start_date.isoformat(),
        end_date=ended.end_date.isoformat(),
    )

    response = client.post(reverse("goals:goal_edit", args=[ended.pk]), data)
    moved = client.post(
        reverse("goals:goal_edit", args=[ended.pk]),
        {**data, "end_date": (ended.end_date + dt.timedelta(days=1)).isoformat()},
    )

    assert response.status_code == 302
    assert Goal.objects.get().name == "Renamed"
    assert "Timely: The period ended" in field_errors(moved.content.decode(), "end_date")
    kept = check(
        client,
        **base_params(
            diana,
            goal=ended.pk,
            start_date=ended.start_date.isoformat(),
            end_date=ended.end_date.isoformat(),
        ),
    ).json()
    assert next(c for c in kept["checks"] if c["rule"] == "timely")["level"] == "ok"
