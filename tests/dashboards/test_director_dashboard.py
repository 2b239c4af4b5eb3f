"""The director's ROI dashboard: its figures equal independent totals over the same seeded data."""

import csv
import io
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from abm.lib.channels import Channel
from abm.models import User
from accounts.models import Opportunity
from demo.seeding import seed_demo
from goals.models import Goal
from metrics.engine.runner import recompute_all
from metrics.models import AttributionCredit, AttributionModel, BudgetLine
from playbooks.models import Activity

URL = reverse("dashboards:director")


@pytest.fixture
def seeded(db):
    seed_demo(accounts=90, seed=11, today=timezone.now().date())
    recompute_all(now=timezone.now())
    return User.objects.get(username="director")


def _span(filters):
    start = datetime.combine(filters.first_day, time(), tzinfo=UTC)
    return start, datetime.combine(filters.last_day, time(), tzinfo=UTC) + timedelta(days=1)


def _credits(kind: str, start, end, *, model: str) -> pd.DataFrame:
    """Credits of deals converted in [start, end), straight from the credit table."""
    dates = "created_at" if kind == "pipeline" else "closed_at"
    ids = Opportunity.objects.filter(**{f"{dates}__gte": start, f"{dates}__lt": end}).values("pk")
    rows = AttributionCredit.objects.filter(model=model, kind=kind, opportunity_id__in=ids)
    return pd.DataFrame.from_records(
        list(rows.values("channel", "credit")), columns=["channel", "credit"]
    ).astype({"credit": float})


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def _dollars(text: str) -> float:
    """A money cell as the page shows it ("$1,235", "−$40", "—") as a number of dollars."""
    if text == "—":
        return 0.0
    sign = -1 if text.startswith("−") else 1
    return sign * float(text.lstrip("−").lstrip("$").replace(",", ""))


def test_tiles_equal_independent_totals(client, seeded):
    client.force_login(seeded)

    response = client.get(URL, {"model": "linear"})

    tiles = {t["key"]: t["value"] for t in response.context["tiles"]}
    start, end = _span(response.context["filters"])
    pipeline = _credits("pipeline", start, end, model="linear")["credit"].sum()
    revenue = _credits("revenue", start, end, model="linear")["credit"].sum()
    activity_cost = Activity.objects.filter(occurred_at__gte=start, occurred_at__lt=end).aggregate(
        s=Sum("cost")
    )["s"]
    budget = BudgetLine.objects.filter(date__gte=start.date(), date__lt=end.date()).aggregate(
        s=Sum("amount")
    )["s"]
    spend = float(activity_cost or 0) + float(budget or 0)
    assert min(pipeline, revenue, spend) > 0
    assert tiles["pipeline"] == pytest.approx(pipeline, rel=1e-9)
    assert tiles["revenue"] == pytest.approx(revenue, rel=1e-9)
    assert tiles["spend"] == pytest.approx(spend, rel=1e-9)
    assert tiles["roi"] == pytest.approx((revenue - spend) / spend, rel=1e-9)


def test_win_rate_lift_equals_counts_of_deals_created_in_the_period(client, seeded):
    client.force_login(seeded)

    response = client.get(URL)

    start, end = _span(response.context["filters"])
    deals = Opportunity.objects.filter(created_at__gte=start, created_at__lt=end)

    def win_rate(rows):
        won = rows.filter(stage="closed_won").count()
        return won / (won + rows.filter(stage="closed_lost").count())

    expected = win_rate(deals.filter(account__tier__isnull=False)) / win_rate(
        deals.filter(account__tier__isnull=True)
    )
    tiles = {t["key"]: t["value"] for t in response.context["tiles"]}
    assert tiles["lift"] == pytest.approx(expected - 1, rel=1e-9)


@pytest.mark.parametrize("model", AttributionModel.values)
def test_every_models_channel_totals_equal_the_credit_table(client, seeded, model):
    client.force_login(seeded)

    response = client.get(URL, {"export": "models_side_by_side"})

    rows = _csv(response)
    start, end = _span(client.get(URL).context["filters"])
    expected = _credits("pipeline", start, end, model=model).groupby("channel")["credit"].sum()
    label = AttributionModel(model).label
    shown = {row["Channel"]: _dollars(row[label]) for row in rows}
    expected = {Channel(c).label: credit for c, credit in expected.items()}
    assert expected
    # A channel this model gives nothing shows as $0 beside the models that credit it; the
    # export shows whole dollars, as the page does.
    assert shown == pytest.approx({c: expected.get(c, 0.0) for c in shown}, abs=0.5)
    assert set(expected) <= set(shown)


def test_channel_table_follows_the_model_selector(client, seeded):
    client.force_login(seeded)

    first = _csv(client.get(URL, {"model": "first_touch", "export": "by_channel"}))
    last = _csv(client.get(URL, {"model": "last_touch", "export": "by_channel"}))

    start, end = _span(client.get(URL).context["filters"])
    for rows, model in ((first, "first_touch"), (last, "last_touch")):
        pipeline = [_dollars(r["Attributed pipeline"]) for r in rows]
        expected = _credits("pipeline", start, end, model=model)["credit"].sum()
        assert sum(pipeline) == pytest.approx(expected, abs=0.5 * len(rows))
    assert first != last


def test_tier_filter_narrows_the_tiles(client, seeded):
    client.force_login(seeded)

    everything = client.get(URL).context["tiles"]
    tier_one = client.get(URL, {"tier": "1"}).context["tiles"]

    start, end = _span(client.get(URL).context["filters"])
    ids = Opportunity.objects.filter(
        created_at__gte=start, created_at__lt=end, account__tier=1
    ).values("pk")
    expected = AttributionCredit.objects.filter(
        model="w_shaped", kind="pipeline", opportunity_id__in=ids
    ).aggregate(s=Sum("credit"))["s"]
    assert tier_one[0]["value"] == pytest.approx(float(expected), rel=1e-9)
    assert tier_one[0]["value"] < everything[0]["value"]


@pytest.mark.parametrize(
    "name",
    [
        "by_channel",
        "by_playbook",
        "models_side_by_side",
        "target_vs_non_target",
        "funnel",
        "follow_up",
        "sourced_vs_influenced",
        "holdout_lift",
    ],
)
def test_every_table_exports_csv(client, seeded, name):
    client.force_login(seeded)

    response = client.get(URL, {"export": name, "tier": "targets"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"roi-{name}.csv" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows, f"{name} exported no rows"
    assert all("nan" not in value.lower() for row in rows for value in row.values())


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
    with django_assert_max_num_queries(26):
        response = client.get(URL, {"tier": "targets"})
    assert response.status_code == 200
    assert response.context["has_data"]
    # ...the second reuses them: the page's own queries (session, user, runs) and the goals.
    with django_assert_max_num_queries(13):
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


def test_follow_up_points_drill_down_to_that_months_leads(client, seeded):
    client.force_login(seeded)

    response = client.get(URL, {"preset": "last_6_months"})

    rows = [r for r in response.context["t"]["follow_up"].rows if r["handed_off"]]
    assert rows
    figure = response.context["charts"]["follow_up"]
    for row in rows:
        index = response.context["t"]["follow_up"].rows.index(row)
        assert figure["data"][1]["customdata"][index] == row["url"]
        assert "follow_up=on_time" in figure["data"][0]["customdata"][index]
        listed = client.get(row["url"]).context["totals"].count
        assert listed == row["handed_off"], row["month"]


def test_changes_show_only_against_a_previous_period_the_data_cover(client, seeded):
    """The demo's year of data does not cover the 12 months before the last 12; 3 months do."""
    client.force_login(seeded)
    first_activity = Activity.objects.order_by("occurred_at").values_list("occurred_at", flat=True)
    first_deal = Opportunity.objects.order_by("created_at").values_list("created_at", flat=True)
    data_start = min(first_activity[0], first_deal[0]).date()

    seen = set()
    for preset in ("last_12_months", "last_3_months"):
        response = client.get(URL, {"preset": preset})
        previous = response.context["filters"].previous
        covered = data_start <= previous.first_day
        seen.add(covered)
        tiles = response.context["tiles"]
        texts = [t.get("no_comparable_period", False) for t in tiles]
        assert texts == [not covered] * len(tiles), (preset, data_start, previous.first_day)
        if covered:
            assert any(t["change"] is not None for t in tiles)
        else:
            assert all(t["change"] is None for t in tiles)
            assert b"no comparable period" in response.content
    assert seen == {True, False}  # a year of data: 3 months have a previous period, 12 do not
