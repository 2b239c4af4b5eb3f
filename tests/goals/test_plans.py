"""Saved plans (issue #18): who sees and saves them, and the goals a plan turns into."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from goals.choices import GoalMetric
from goals.models import Goal, Plan
from goals.plan_display import budget_rows, month_rows
from goals.plan_goals import PlanGoalsError, plan_create_goals, plan_goal_specs
from goals.plans import plan_save, plans_visible_to
from goals.smart import ERROR
from goals.views import _stored_checks
from metrics.planning_output import plan_from_json


def _estimate(value):
    return {
        "value": value,
        "low": value * 0.8,
        "high": value * 1.2,
        "accounts": 40,
        "fallback": False,
    }


def snapshot_for(start: dt.date) -> dict:
    """A plan for 4 won deals of $500k in two quarters from ``start`` (a month's first day):
    counts by month, one month before the period (the lags push engagement back)."""
    months = [(start.replace(day=1) - dt.timedelta(days=1)).replace(day=1)]
    for _ in range(6):
        last = months[-1]
        months.append((last + dt.timedelta(days=32)).replace(day=1))
    by_month = [
        {"engaged": 10, "mqa": 0, "opportunity": 0, "won": 0},
        {"engaged": 10, "mqa": 8, "opportunity": 0, "won": 0},
        {"engaged": 5, "mqa": 6, "opportunity": 4.5, "won": 0},
        {"engaged": 0, "mqa": 2, "opportunity": 3, "won": 1},
        {"engaged": 0, "mqa": 0, "opportunity": 0.5, "won": 1},
        {"engaged": 0, "mqa": 0, "opportunity": 0, "won": 1},
        {"engaged": 0, "mqa": 0, "opportunity": 0, "won": 1},
    ]
    return {
        "target": 2_000_000.0,
        "kind": "revenue",
        "needed": {
            "targeted": _estimate(60.0),
            "engaged": _estimate(25.0),
            "mqa": _estimate(16.0),
            "opportunity": _estimate(8.0),
            "won": _estimate(4.0),
        },
        "by_month": [
            {"month": m.isoformat(), "targeted": 0, **counts}
            for m, counts in zip(months, by_month, strict=True)
        ],
        "budget": [],
        "total_budget": _estimate(100_000.0),
        "gap": {"targeted": 0, "engaged": 0, "mqa": 0, "opportunity": 0, "won": 0},
        "assumptions": {
            "conversion": {
                "targeted_engaged": 0.4,
                "engaged_mqa": 0.64,
                "mqa_opportunity": 0.5,
                "opportunity_won": 0.5,
            },
            "lag_days": {},
            "deal_size": 500_000.0,
            "channel_mix": {"email": 1.0},
        },
    }


def _period():
    today = timezone.localdate()
    start = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    end = start
    for _ in range(6):
        end = (end + dt.timedelta(days=32)).replace(day=1)
    return start, end - dt.timedelta(days=1)


def test_goal_specs_spread_the_plan_over_the_months_by_hand():
    start, end = dt.date(2027, 1, 1), dt.date(2027, 6, 30)
    specs = plan_goal_specs(
        snapshot_for(start),
        name="H1",
        kind="revenue",
        target=Decimal(2_000_000),
        start=start,
        end=end,
    )
    by_role = {spec.role: spec for spec in specs}
    assert [s.role for s in specs] == ["parent", "opportunity", "mqa", "engaged"]
    parent = by_role["parent"]
    assert parent.metric == GoalMetric.REVENUE_WON
    assert parent.target == Decimal(2_000_000)
    # won 0, 0, 1, 1, 1 in Jan..May (of 4): 0, 0, 500k, 1M, 1.5M; June is the target itself.
    assert parent.milestones == [
        (dt.date(2027, 1, 31), Decimal("0.00")),
        (dt.date(2027, 2, 28), Decimal("0.00")),
        (dt.date(2027, 3, 31), Decimal("500000.00")),
        (dt.date(2027, 4, 30), Decimal("1000000.00")),
        (dt.date(2027, 5, 31), Decimal("1500000.00")),
    ]
    # December's 10 engaged are due in January: 10+10, +5, then flat at 25.
    engaged = by_role["engaged"]
    assert engaged.target == 25
    assert [v for _, v in engaged.milestones] == [20, 25, 25, 25, 25]
    # Opportunities 4.5, 3, 0.5 running: 4.5 -> 5 (rounded up), 7.5 -> 8, 8.
    opportunity = by_role["opportunity"]
    assert opportunity.target == 8
    assert [v for _, v in opportunity.milestones] == [0, 5, 8, 8, 8]
    assert [v for _, v in by_role["mqa"].milestones] == [8, 14, 16, 16, 16]


def test_pipeline_plans_make_a_pipeline_goal_paced_by_opportunities():
    start, end = dt.date(2027, 1, 1), dt.date(2027, 6, 30)
    parent = plan_goal_specs(
        snapshot_for(start),
        name="H1",
        kind="pipeline",
        target=Decimal(4_000_000),
        start=start,
        end=end,
    )[0]
    assert parent.metric == GoalMetric.PIPELINE_CREATED
    # Opportunities 0, 4.5, 3, 0.5, 0 of 8: 0, 2.25M, 3.75M, 4M, 4M.
    assert [v for _, v in parent.milestones] == [
        Decimal("0.00"),
        Decimal("2250000.00"),
        Decimal("3750000.00"),
        Decimal("4000000.00"),
        Decimal("4000000.00"),
    ]


def _save(by, **extra):
    start, end = _period()
    fields = {
        "name": "Two quarters from tiers 1-2",
        "target": Decimal(2_000_000),
        "kind": "revenue",
        "start": start,
        "end": end,
        "tiers": [2, 1],
        "playbook": None,
        "model": "linear",
        "result": snapshot_for(start),
    }
    return plan_save(by=by, **{**fields, **extra})


@pytest.mark.django_db
def test_a_director_saves_a_plan_with_its_assumptions(diana):
    plan = _save(diana)
    plan.refresh_from_db()
    assert plan.created_by == diana
    assert plan.tiers == [1, 2]
    assert plan.assumptions["deal_size"] == 500_000.0
    assert plan.result["needed"]["won"]["value"] == 4.0
    assert plan.created_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "maria"])
def test_reps_and_marketers_cannot_save_plans(who, request):
    with pytest.raises(PermissionDenied):
        _save(request.getfixturevalue(who))
    assert not Plan.objects.exists()


@pytest.mark.django_db
def test_reps_see_no_plan_and_marketers_read_them(alice, maria, diana):
    plan = _save(diana)
    assert list(plans_visible_to(alice)) == []
    assert list(plans_visible_to(maria)) == [plan]


@pytest.mark.django_db
def test_a_rep_gets_404_for_a_plan_and_cannot_post_one(client, alice, diana):
    plan = _save(diana)
    client.force_login(alice)
    assert client.get(reverse("plans:plan_detail", args=[plan.pk])).status_code == 404
    assert client.get(reverse("plans:plans")).status_code == 404
    response = client.post(reverse("plans:plan_goals", args=[plan.pk]), {})
    assert response.status_code == 404
    assert not Goal.objects.exists()


@pytest.mark.django_db
def test_goals_from_a_plan_pass_smart_and_add_up(diana, maria, bob):
    plan = _save(diana)
    owners = {"parent": diana, "opportunity": bob, "mqa": maria, "engaged": maria}
    parent = plan_create_goals(plan=plan, owners=owners, by=diana)
    plan.refresh_from_db()
    assert plan.goal == parent
    children = {g.metric: g for g in parent.children.all()}
    assert set(children) == {"opportunity_accounts", "mqa_accounts", "engaged_accounts"}
    assert children["engaged_accounts"].target == 25
    assert children["opportunity_accounts"].owner == bob
    assert [m.value for m in children["mqa_accounts"].milestones.all()] == [8, 14, 16, 16, 16]
    assert parent.milestones.count() == 5
    assert parent.scope_tiers == [1, 2]
    for goal in [parent, *children.values()]:
        assert all(c.level != ERROR for c in _stored_checks(goal)), goal.name


@pytest.mark.django_db
def test_goals_are_made_once_from_a_plan(diana):
    plan = _save(diana)
    owners = dict.fromkeys(["parent", "opportunity", "mqa", "engaged"], diana)
    plan_create_goals(plan=plan, owners=owners, by=diana)
    with pytest.raises(PlanGoalsError, match="already made"):
        plan_create_goals(plan=plan, owners=owners, by=diana)
    assert Goal.objects.count() == 4


@pytest.mark.django_db
def test_a_marketer_cannot_make_sales_goals_from_a_plan(diana, maria):
    plan = _save(diana)
    with pytest.raises(PermissionDenied):
        plan_create_goals(
            plan=plan,
            owners=dict.fromkeys(["parent", "opportunity", "mqa", "engaged"], maria),
            by=maria,
        )
    assert not Goal.objects.exists()


@pytest.mark.django_db
def test_a_plan_whose_goals_fail_smart_makes_none_and_says_why(diana):
    start, end = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
    plan = _save(diana, start=start, end=end, result=snapshot_for(start))
    owners = dict.fromkeys(["parent", "opportunity", "mqa", "engaged"], diana)
    with pytest.raises(PlanGoalsError) as refused:
        plan_create_goals(plan=plan, owners=owners, by=diana)
    assert len(refused.value.messages) == 4
    assert "Timely: The period ended on Jun 30, 2024" in refused.value.messages[0]
    assert not Goal.objects.exists()


def test_a_budget_line_of_a_channel_with_no_recorded_spend_says_so():
    line = {"low": 0.0, "high": 0.0, "accounts": 0, "fallback": False}
    rows = budget_rows(
        {
            "budget": [
                {
                    "channel": "event",
                    "amount": {**line, "value": 900.0, "high": 990.0},
                    "cost_per_opportunity": 450.0,
                    "return_per_dollar": 2.5,
                },
                {
                    "channel": "email",
                    "amount": {**line, "value": 0.0},
                    "cost_per_opportunity": 0.0,
                    "return_per_dollar": None,
                },
            ]
        }
    )

    assert [row["cost_per_opportunity"] for row in rows] == ["$450", "no spend recorded"]


@pytest.mark.django_db
def test_plans_saved_in_the_first_format_read_as_the_api_shows_them(diana):
    # Saved before migration 0004: steps as "a->b", each month's counts under "counts".
    start, end = _period()
    old = snapshot_for(start)
    old["by_month"] = [
        {"month": row["month"], "counts": {k: v for k, v in row.items() if k != "month"}}
        for row in old["by_month"]
    ]
    old["assumptions"]["conversion"] = {
        key.replace("_", "->", 1): value for key, value in old["assumptions"]["conversion"].items()
    }
    plan = _save(diana, result=old)
    migration = importlib.import_module("goals.migrations.0004_plan_result_in_the_api_format")
    migration.to_api_format(django_apps, None)
    plan.refresh_from_db()
    assert plan.result == snapshot_for(start)
    assert plan.assumptions == snapshot_for(start)["assumptions"]
    assert plan_from_json(plan.result).by_month[1].counts["engaged"] == 10


def test_the_months_show_whole_accounts_adding_up_to_the_goals_milestones():
    start = dt.date(2027, 1, 1)
    rows = month_rows(snapshot_for(start), start)
    assert [row["label"] for row in rows][:2] == ["Dec 2026", "Jan 2027"]
    assert rows[0]["before"]
    assert not rows[1]["before"]
    # Stages: targeted, engaged, mqa, opportunity, won. Opportunities 4.5, 3, 0.5 run to 4.5,
    # 7.5, 8: rounded up 5, 8, 8, so the months show 5, 3, 0 (the goal's milestones 5, 8, 8).
    assert [row["cells"] for row in rows] == [
        ["0", "10", "0", "0", "0"],
        ["0", "10", "8", "0", "0"],
        ["0", "5", "6", "5", "0"],
        ["0", "0", "2", "3", "1"],
        ["0", "0", "0", "0", "1"],
        ["0", "0", "0", "0", "1"],
        ["0", "0", "0", "0", "1"],
    ]
