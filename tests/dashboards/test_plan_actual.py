"""Plan vs actual on the director dashboard (issue #18): actuals against the plan's milestones
to date, the first slipping stage and the forecast, figures by hand."""

import datetime as dt
import io
import math
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from abm.lib.formats import money
from accounts.models import Account, Opportunity
from dashboards.plan_actual import due_by, plan_figures, plan_vs_actual
from goals.plans import plan_save
from goals.progress import period_bounds
from metrics.planning import preview_plan
from metrics.planning_output import plan_json
from tests.goals.test_plans import _save, snapshot_for


def test_what_is_due_counts_past_months_and_today_pro_rata():
    start, end = dt.date(2027, 1, 1), dt.date(2027, 6, 30)
    result = snapshot_for(start)
    # Engaged: December's 10 are due in January with January's 10; February's 5 pro rata:
    # 20 + 5 * 14 / 28 = 22.5 by Feb 14.
    assert due_by(result, "engaged", start, end, dt.date(2027, 2, 14)) == pytest.approx(22.5)
    # Won: 1 in March, 1 in April; by Apr 10: 1 + 1 * 10 / 30.
    assert due_by(result, "won", start, end, dt.date(2027, 4, 10)) == pytest.approx(1 + 1 / 3)
    assert due_by(result, "won", start, end, dt.date(2026, 12, 31)) == 0


@pytest.fixture
def running_plan(diana, alice):
    now = timezone.now()
    today = now.date()
    start = today.replace(day=1) - dt.timedelta(days=1)
    start = start.replace(day=1)  # the first day of last month
    end = (start + dt.timedelta(days=200)).replace(day=1) - dt.timedelta(days=1)
    acme = Account.objects.create(name="Acme", domain="acme.com", tier=1, owner=alice)
    Opportunity.objects.create(
        account=acme,
        name="Acme deal",
        amount=Decimal(300_000),
        stage="closed_won",
        created_at=now - dt.timedelta(days=5),
        closed_at=now - dt.timedelta(days=1),
    )
    Account.objects.create(name="Beta", domain="beta.com", tier=3, owner=alice)
    return plan_save(
        by=diana,
        name="Running plan",
        target=Decimal(2_000_000),
        kind="revenue",
        start=start,
        end=end,
        tiers=[1, 2],
        playbook=None,
        model="linear",
        result=snapshot_for(start),
    )


@pytest.mark.django_db
def test_actuals_the_first_slipping_stage_and_the_forecast(diana, running_plan):
    shown = plan_vs_actual(diana, plan_id=None, now=timezone.now())
    assert shown["plan"] == running_plan
    rows = {row["stage"]: row for row in shown["rows"]}
    # One tier-1 opportunity created and won in the period: as the plan counts, Acme passed
    # engaged and mqa on the way (skipped stages are passed); Beta is tier 3, outside the plan.
    assert {stage: row["actual"] for stage, row in rows.items()} == {
        "engaged": "1",
        "mqa": "1",
        "opportunity": "1",
        "won": "1",
    }
    # The plan wanted 20 engaged accounts in its first month: engagement slips first.
    assert shown["slipping"]["stage"] == "engaged"
    assert shown["outcome"] == "$300,000"
    # Engaged at today's run rate: 1 / the share of the period elapsed. Two accounts cannot carry
    # a rate since the plan, so the plan's own convert the 1 / elapsed - 1 engaged accounts to
    # come: .64 to mqa, .5 to opportunity, .5 to won, at once (the plan assumes no lag); nothing
    # is in flight (Acme has won). Acme's $300,000 so far and the deals to come at $500,000.
    start, end = running_plan.start_date, running_plan.end_date
    elapsed = ((timezone.localdate() - start).days + 1) / ((end - start).days + 1)
    ends = 300_000 + (1 / elapsed - 1) * 0.64 * 0.5 * 0.5 * 500_000
    assert shown["forecast"]["value"] == money(ends)
    assert shown["forecast"]["short"] == (ends < 2_000_000)


@pytest.mark.django_db
def test_the_director_dashboard_shows_the_running_plan(client, diana, running_plan):
    client.force_login(diana)
    page = client.get(reverse("dashboards:director")).content.decode()
    assert 'data-testid="panel-plan_vs_actual"' in page
    assert "Running plan" in page
    assert "Slipping first" in page


@pytest.mark.django_db
def test_a_plan_not_running_today_shows_only_when_chosen(client, diana):
    future = _save(diana)
    client.force_login(diana)
    assert "panel-plan_vs_actual" not in client.get(reverse("dashboards:director")).content.decode()
    page = client.get(reverse("dashboards:director"), {"plan": future.pk}).content.decode()
    assert "panel-plan_vs_actual" in page
    assert "The period has not started" in page


@pytest.mark.django_db
def test_a_running_plan_on_seeded_data_forecasts_with_a_range(diana):
    call_command("seed_demo", "--accounts", "60", "--seed", "5", stdout=io.StringIO())
    today = timezone.localdate()
    start = (today - dt.timedelta(days=40)).replace(day=1)
    end = (today + dt.timedelta(days=120)).replace(day=1) - dt.timedelta(days=1)
    fields = {
        "target": Decimal(1_000_000),
        "kind": "revenue",
        "start": start,
        "end": end,
        "tiers": [1, 2],
        "playbook": None,
        "model": "linear",
    }
    computed = preview_plan(user=diana, **{**fields, "target": 1_000_000.0})
    plan = plan_save(by=diana, name="Now", result=plan_json(computed), **fields)
    shown = plan_vs_actual(diana, plan_id=str(plan.pk), now=timezone.now())
    assert [row["stage"] for row in shown["rows"]] == ["engaged", "mqa", "opportunity", "won"]
    money = [
        float(shown["forecast"][k].strip("$").replace(",", "")) for k in ("low", "value", "high")
    ]
    assert money[0] <= money[1] <= money[2]


@pytest.mark.django_db
def test_the_panel_is_kept_until_the_data_or_the_plans_change(
    diana, running_plan, django_assert_max_num_queries
):
    first = plan_vs_actual(diana, plan_id=None, now=timezone.now())
    # The plan chosen, the newest plan and the data's stamp: no journey is read again.
    with django_assert_max_num_queries(3):
        assert plan_vs_actual(diana, plan_id=None, now=timezone.now()) == first
    other = _save(diana, name="Another plan")
    shown = plan_vs_actual(diana, plan_id=None, now=timezone.now())
    assert (other.pk, "Another plan") in shown["others"]


@pytest.mark.django_db
def test_an_open_deal_counts_in_the_forecast_by_its_age(diana, alice, running_plan):
    # The plan wins a deal 30 days (median) after it opens; a tier-1 deal opened 2 days ago.
    running_plan.result["assumptions"]["lag_days"] = {"opportunity_won": 30.0}
    running_plan.save()
    now = timezone.now()
    gamma = Account.objects.create(name="Gamma", domain="gamma.com", tier=1, owner=alice)
    Opportunity.objects.create(
        account=gamma, name="Gamma deal", amount=Decimal(200_000), created_at=now - dt.timedelta(2)
    )
    shown = plan_figures(diana, running_plan, now)
    start, end = running_plan.start_date, running_plan.end_date
    elapsed = ((now.date() - start).days + 1) / ((end - start).days + 1)
    days_left = (period_bounds(start, end)[1] - now).total_seconds() / 86_400

    def f(x):  # the share of deals won within x days: halving every 30
        return 1 - 2 ** (-x / 30)

    # Acme and Gamma reached engaged, mqa and opportunity in the period (skipped stages passed);
    # the accounts to come convert at the plan's .64 and .5 at once (no lag for those steps).
    engaged = 2 / elapsed
    opportunities = 2 + (engaged - 2) * 0.64 * 0.5
    # Gamma's deal, 2 days old, is won in the days left with .5 (F(2 + R) - F(2)) / (1 - .5 F(2));
    # the deals still to come land in time with (1/R) int_0^R F.
    in_flight = 0.5 * (f(2 + days_left) - f(2)) / (1 - 0.5 * f(2))
    m = 30 / math.log(2)
    landing = 1 - m / days_left * (1 - math.exp(-days_left / m))
    won = 1 + in_flight + (opportunities - 2) * 0.5 * landing
    assert shown["forecast"]["value"] == money(300_000 + (won - 1) * 500_000)
