"""The director's ROI dashboard: its figures equal independent totals over the same seeded data
(the page's other behaviour: test_director_dashboard_pages.py)."""

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pandas as pd
import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from abm.lib.channels import Channel
from abm.models import User
from accounts.models import Opportunity
from demo.seeding import flush_domain_data, seed_demo
from metrics.engine.runner import recompute_all
from metrics.models import AttributionCredit, AttributionModel, BudgetLine, credit_rows_of
from playbooks.models import Activity

URL = reverse("dashboards:director")


@pytest.fixture(scope="module")
def _seeded_year(django_db_setup, django_db_blocker):
    # Seeded and computed once for the module (every test here only reads), then flushed.
    with django_db_blocker.unblock():
        seed_demo(accounts=90, seed=11, today=timezone.now().date())
        recompute_all(now=timezone.now())
        yield User.objects.get(username="director").pk
        flush_domain_data()
        User.objects.all().delete()


@pytest.fixture
def seeded(db, _seeded_year):
    return User.objects.get(pk=_seeded_year)


def _span(filters):
    start = datetime.combine(filters.first_day, time(), tzinfo=UTC)
    return start, datetime.combine(filters.last_day, time(), tzinfo=UTC) + timedelta(days=1)


def _credits(kind: str, start, end, *, model: str) -> pd.DataFrame:
    """Credits of deals converted in [start, end), straight from the credit table."""
    dates = "created_at" if kind == "pipeline" else "closed_at"
    ids = Opportunity.objects.filter(**{f"{dates}__gte": start, f"{dates}__lt": end}).values("pk")
    rows = credit_rows_of(model).filter(kind=kind, opportunity_id__in=ids)
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


def test_follow_up_points_drill_down_to_that_months_leads(client, seeded):
    client.force_login(seeded)

    response = client.get(URL, {"preset": "last_6_months"})

    rows = [r for r in response.context["t"]["follow_up"].rows if r["handed_off"]]
    assert rows
    figure = response.context["charts"]["follow_up"]
    for row in rows:
        index = response.context["t"]["follow_up"].rows.index(row)
        assert figure["data"][1]["customdata"][index] == row["followed_url"]
        assert "follow_up=followed" in row["followed_url"]
        assert "follow_up=on_time" in figure["data"][0]["customdata"][index]
        listed = client.get(row["url"]).context["totals"].count
        assert listed == row["handed_off"], row["month"]
        # Both lines over the leads decided: none reads "followed up at all" under "within SLA".
        if row["due"]:
            assert row["followed_share"] >= row["rate"], row["month"]


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
