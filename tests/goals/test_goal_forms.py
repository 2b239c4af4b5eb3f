"""The SMART rules (DOMAIN.md "Goals (SMART)") as the check and the goal form apply them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from goals.forms import GoalForm, MilestoneFormSet
from goals.models import Goal
from goals.smart import TASK_EXPLANATION, is_task_like, smart_check
from tests.factories import GoalFactory, PlaybookFactory

Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
# The form checks that a goal ends after today: its goals are set for next year's first quarter.
NEXT_Q1 = (dt.date(timezone.now().year + 1, 1, 1), dt.date(timezone.now().year + 1, 3, 31))
GOOD = {
    "name": "Tier 1 pipeline in Q1",
    "metric": "pipeline_created",
    "target": 400_000.0,
    "has_owner": True,
    "tiers": (1,),
    "playbook": None,
    "scope_owner": None,
    "start": Q1[0],
    "end": Q1[1],
    "baseline": 200_000.0,
    "pace_limit": 3.0,
    "today": dt.date(2025, 12, 1),
}


def levels(**changes) -> dict:
    return {c.rule: c.level for c in smart_check(**{**GOOD, **changes})}


def check(rule: str, **changes):
    return next(c for c in smart_check(**{**GOOD, **changes}) if c.rule == rule)


def test_a_well_formed_goal_passes_every_rule():
    assert levels() == dict.fromkeys(
        ["specific", "measurable", "attainable", "relevant", "timely"], "ok"
    )


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"metric": None}, "metric", "choose a metric"),
        ({"tiers": ()}, "scope_tiers", "choose tiers, a playbook or a rep's accounts"),
        ({"has_owner": False}, "owner", "Name the owner"),
    ],
)
def test_specific_needs_a_metric_a_scope_and_an_owner(changes, field, words):
    result = check("specific", **changes)

    assert (result.level, result.field) == ("error", field)
    assert words in result.message


@pytest.mark.parametrize(
    "name", ["Write three blog posts", "Launch the webinar series", "Host 4 roundtables"]
)
def test_task_like_goals_are_refused_with_the_difference_explained(name):
    result = check("measurable", name=name)

    assert (result.level, result.field) == ("error", "name")
    assert "reads like a task" in result.message
    assert TASK_EXPLANATION in result.message


@pytest.mark.parametrize(
    "name", ["Create $2M pipeline from tier 1", "Win 10 strategic accounts", "Q3 meetings"]
)
def test_outcome_names_are_not_tasks(name):
    assert not is_task_like(name)


def test_a_metric_outside_the_catalogue_is_refused_as_a_task():
    result = check("measurable", metric="blog_posts_written")

    assert result.level == "error"
    assert "“blog_posts_written” is not an outcome" in result.message
    assert TASK_EXPLANATION in result.message


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"target": None}, "Enter a numeric target"),
        ({"target": 0.0}, "above zero"),
        ({"metric": "win_rate", "target": 1.2, "baseline": 0.3}, "at most 100%"),
    ],
)
def test_measurable_needs_a_numeric_target(changes, words):
    result = check("measurable", **changes)

    assert result.level == "error"
    assert words in result.message


def test_attainable_warns_with_the_number_above_three_times_the_baseline_pace():
    # Q1 has 90 days, the previous period (Q4) 92: (400k / 90) / (100k / 92) = 4.09x.
    result = check("attainable", baseline=100_000.0)

    assert result.level == "warning"
    assert "4.1x the baseline pace ($100,000 in Q4 2025)" in result.message
    assert "more than the 3x that is attainable" in result.message


def test_attainable_passes_at_two_times_and_compares_rates_directly():
    # (400k / 90) / (200k / 92) = 2.04x; a rate: 0.45 / 0.3 = 1.5x.
    assert "2.0x the baseline pace" in check("attainable").message
    rate = check("attainable", metric="win_rate", target=0.45, baseline=0.3)
    assert rate.level == "ok"
    assert "1.5x the baseline pace (30.0%" in rate.message


def test_attainable_warns_when_there_is_no_baseline():
    result = check("attainable", baseline=0.0)

    assert result.level == "warning"
    assert "Nothing to compare with" in result.message


def test_relevant_warns_without_a_playbook_or_tier_scope():
    result = check("relevant", tiers=(), scope_owner="Alice")

    assert result.level == "warning"
    assert levels(tiers=(), scope_owner="Alice")["specific"] == "ok"
    assert check("relevant", tiers=(), playbook="Tier 1 expansion").level == "ok"


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (None, Q1[1], "Set a start and an end date"),
        (Q1[1], Q1[0], "end date must be after the start date"),
        (Q1[0], Q1[0], "end date must be after the start date"),
    ],
)
def test_timely_needs_a_start_before_the_end(start, end, words):
    result = check("timely", start=start, end=end)

    assert result.level == "error"
    assert words in result.message


NEXT = {"start_date": NEXT_Q1[0], "end_date": NEXT_Q1[1]}


# --- The form -------------------------------------------------------------------------------------


def form_data(user, **changes) -> dict:
    data = {
        "name": "Tier 1 pipeline in Q1",
        "team": "sales",
        "owner": user.pk,
        "metric": "pipeline_created",
        "scope_tiers": ["1"],
        "start_date": NEXT_Q1[0].isoformat(),
        "end_date": NEXT_Q1[1].isoformat(),
        "target": "400000",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_accepts_a_smart_goal(diana):
    form = GoalForm(form_data(diana), instance=Goal(), user=diana)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["scope_tiers"] == [1]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Write three blog posts"}, "name"),
        ({"scope_tiers": []}, "scope_tiers"),
        ({"owner": None}, "owner"),
        ({"end_date": (NEXT_Q1[0] - dt.timedelta(days=1)).isoformat()}, "end_date"),
        ({"target": "0"}, "target"),
        ({"metric": "blog_posts"}, "metric"),
    ],
)
def test_the_form_refuses_what_breaks_a_smart_rule(diana, changes, field):
    form = GoalForm(form_data(diana, **changes), instance=Goal(), user=diana)

    assert not form.is_valid()
    assert field in form.errors


def test_a_rate_is_typed_as_a_percentage_and_stored_as_a_fraction(diana):
    form = GoalForm(form_data(diana, metric="win_rate", target="35"), instance=Goal(), user=diana)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["target"] == Decimal("0.35")


def test_a_marketer_may_only_set_marketing_goals(maria):
    assert GoalForm(form_data(maria, team="marketing"), instance=Goal(), user=maria).is_valid()
    sales = GoalForm(form_data(maria, team="sales"), instance=Goal(), user=maria)
    assert "team" in sales.errors


def test_a_playbook_scope_is_specific_and_relevant(diana):
    playbook = PlaybookFactory()

    form = GoalForm(
        form_data(diana, scope_tiers=[], scope_playbook=playbook.pk), instance=Goal(), user=diana
    )

    assert form.is_valid(), form.errors


def milestones(rows, goal_data) -> MilestoneFormSet:
    data = {"milestones-TOTAL_FORMS": str(len(rows)), "milestones-INITIAL_FORMS": "0"}
    for i, (day, value) in enumerate(rows):
        data[f"milestones-{i}-date"] = day
        data[f"milestones-{i}-value"] = value
    formset = MilestoneFormSet(data, prefix="milestones")
    formset.goal_data = goal_data
    return formset


GOAL_DATA = {
    "metric": "pipeline_created",
    "start_date": Q1[0],
    "end_date": Q1[1],
    "target": Decimal(400_000),
}


def test_milestones_inside_the_period_are_kept_in_stored_units():
    formset = milestones([("2026-02-28", "250000"), ("2026-01-31", "100000")], GOAL_DATA)

    assert formset.is_valid(), formset.non_form_errors()
    assert sorted(formset.milestones()) == [
        (dt.date(2026, 1, 31), Decimal(100_000)),
        (dt.date(2026, 2, 28), Decimal(250_000)),
    ]
    rates = milestones([("2026-01-31", "30")], {**GOAL_DATA, "metric": "win_rate"})
    assert rates.is_valid()
    assert rates.milestones() == [(dt.date(2026, 1, 31), Decimal("0.3"))]


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([("2026-04-02", "1")], "outside the period"),
        ([("2026-01-31", "200000"), ("2026-02-28", "100000")], "cannot go down"),
        ([("2026-01-31", "500000")], "above the target"),
        ([("2026-01-31", "1"), ("2026-01-31", "2")], "share a date"),
    ],
)
def test_milestones_that_make_no_sense_are_refused(rows, words):
    formset = milestones(rows, GOAL_DATA)

    assert not formset.is_valid()
    assert words in " ".join(formset.non_form_errors())


def test_parts_must_not_add_up_to_more_than_the_parent(diana):
    parent = GoalFactory(owner=diana, team="sales", scope_tiers=[1, 2], target=400_000, **NEXT)
    GoalFactory(owner=diana, team="sales", parent=parent, scope_tiers=[1], target=300_000, **NEXT)

    too_much = GoalForm(
        form_data(diana, scope_tiers=["2"], target="150000"),
        instance=Goal(parent=parent),
        user=diana,
        parent=parent,
    )
    fits = GoalForm(
        form_data(diana, scope_tiers=["2"], target="100000"),
        instance=Goal(parent=parent),
        user=diana,
        parent=parent,
    )

    assert not too_much.is_valid()
    assert "add up to $450,000, more than the parent's $400,000" in too_much.errors["target"][0]
    assert fits.is_valid(), fits.errors


def test_a_part_keeps_the_parents_metric_period_and_scope(diana):
    parent = GoalFactory(owner=diana, team="sales", scope_tiers=[1], target=400_000, **NEXT)

    form = GoalForm(
        form_data(
            diana,
            metric="revenue_won",
            scope_tiers=["2"],
            end_date=(NEXT_Q1[1] + dt.timedelta(days=30)).isoformat(),
        ),
        instance=Goal(parent=parent),
        user=diana,
        parent=parent,
    )

    assert not form.is_valid()
    assert {"metric", "scope_tiers", "end_date"} <= set(form.errors)


def test_a_parent_cannot_drop_below_what_its_parts_add_up_to(diana):
    parent = GoalFactory(owner=diana, team="sales", scope_tiers=[1, 2], target=400_000, **NEXT)
    GoalFactory(owner=diana, team="sales", parent=parent, scope_tiers=[1], target=300_000, **NEXT)

    form = GoalForm(
        form_data(diana, scope_tiers=["1", "2"], target="250000"), instance=parent, user=diana
    )

    assert not form.is_valid()
    assert "Its parts add up to $300,000" in form.errors["target"][0]
