"""The stricter SMART rules at their boundaries (DOMAIN.md "Goals (SMART)"): Timely needs an end
after today, Attainable refuses a target that is no improvement and warns beyond the best equal
period on record, measured by ``goal_record`` from the stored data."""

import datetime as dt

import pandas as pd
import pytest

from goals.choices import RATE_METRICS, GoalMetric
from goals.progress import GoalData, Scope
from goals.record import Record, equal_periods, goal_record
from goals.smart import RISING_METRICS, smart_check

TODAY = dt.date(2026, 12, 2)
NEXT_Q1 = (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
GOOD = {
    "name": "Tier 1 pipeline",
    "metric": "pipeline_created",
    "target": 400_000.0,
    "has_owner": True,
    "tiers": (1,),
    "playbook": None,
    "scope_owner": None,
    "start": NEXT_Q1[0],
    "end": NEXT_Q1[1],
    "baseline": 200_000.0,
    "pace_limit": 3.0,
    "today": TODAY,
}


def check(rule: str, **changes):
    return next(c for c in smart_check(**{**GOOD, **changes}) if c.rule == rule)


# --- Timely ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "level"),
    [
        (dt.date(2025, 1, 1), dt.date(2025, 3, 31), "error"),  # the issue's Jan-Mar 2025
        (TODAY - dt.timedelta(days=60), TODAY, "error"),  # ends today: nothing left to do
        (TODAY - dt.timedelta(days=60), TODAY + dt.timedelta(days=1), "ok"),  # running
        (TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=2), "ok"),
        (TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=1), "error"),  # start = end
    ],
)
def test_timely_needs_a_start_before_an_end_after_today(start, end, level):
    result = check("timely", start=start, end=end)

    assert result.level == level
    if level == "error":
        assert result.field == "end_date"


def test_a_past_period_is_called_a_report_not_a_goal():
    result = check("timely", start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))

    assert "ended on Mar 31, 2025" in result.message
    assert "a report, not a goal" in result.message


def test_a_stored_goal_is_not_checked_against_today():
    ended = {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 3, 31)}

    assert check("timely", **ended, today=None).level == "ok"


# --- Attainable: no improvement is an error -------------------------------------------------


def test_every_catalogue_metric_should_rise():
    assert set(GoalMetric.values) == RISING_METRICS


@pytest.mark.parametrize("metric", sorted(GoalMetric.values))
@pytest.mark.parametrize(
    ("target_share", "level"), [(0.5, "error"), (1.0, "error"), (1.01, "ok"), (1.5, "ok")]
)
def test_a_target_at_or_below_the_baseline_is_refused_for_every_metric(metric, target_share, level):
    baseline = 0.4 if metric in RATE_METRICS else 100.0
    target = baseline * target_share

    result = check("attainable", metric=metric, baseline=baseline, target=target)

    assert result.level == level
    if level == "error":
        assert result.field == "target"
        assert "no improvement on the baseline" in result.message


def test_the_issues_win_rate_of_35_against_70_says_why():
    result = check("attainable", metric="win_rate", target=0.35, baseline=0.70)

    assert (result.level, result.field) == ("error", "target")
    assert "A target of 35.0% is no improvement on the baseline, 70.0% in Q4 2026" in (
        result.message
    )


def test_a_rate_without_a_baseline_is_not_refused():
    assert check("attainable", metric="win_rate", target=0.35, baseline=None).level == "warning"


# --- Attainable: beyond the pace or the record warns ------------------------------------------


def record(best: float, periods: int = 4) -> Record:
    return Record(200_000.0, best, dt.date(2026, 4, 1), dt.date(2026, 6, 30), periods)


@pytest.mark.parametrize(
    ("target", "level"),
    [(300_000.0, "ok"), (300_000.01, "warning")],  # equal to the best is attainable
)
def test_more_than_the_best_equal_period_on_record_warns(target, level):
    result = check("attainable", target=target, record=record(300_000.0))

    assert result.level == level
    if level == "warning":
        assert result.strong
        assert result.field == "target"
        assert "the best equal period on record ($300,000 in Q2 2026, the best of 4" in (
            result.message
        )


def test_the_issues_500m_pipeline_target_warns_with_both_numbers():
    result = check(
        "attainable", target=500_000_000.0, baseline=90_000.0, record=record(120_000.0, 1)
    )

    assert (result.level, result.strong) == ("warning", True)
    assert "more than the 3x that is attainable" in result.message
    assert "4,166.7x the best equal period on record" in result.message
    assert "the only one the data cover" in result.message


@pytest.mark.parametrize(("pace", "level"), [(3.0, "ok"), (3.01, "warning")])
def test_the_pace_limit_is_exclusive(pace, level):
    # A rate compares directly: target / baseline.
    result = check("attainable", metric="win_rate", baseline=0.25, target=0.25 * pace)

    assert result.level == level


# --- The record -------------------------------------------------------------------------------


def test_equal_periods_step_back_by_whole_months_or_days():
    assert equal_periods(dt.date(2026, 7, 1), dt.date(2026, 9, 30), 3) == [
        (dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        (dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
    ]
    assert equal_periods(dt.date(2026, 7, 11), dt.date(2026, 7, 20), 2) == [
        (dt.date(2026, 7, 1), dt.date(2026, 7, 10)),
        (dt.date(2026, 6, 21), dt.date(2026, 6, 30)),
    ]


def deals(*rows) -> GoalData:
    """(account_id, amount, created day) per deal."""
    frame = pd.DataFrame(rows, columns=["account_id", "amount", "created_at"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return GoalData(
        accounts=pd.DataFrame({"account_id": [1, 2], "tier": [1.0, 2.0], "owner_id": [1.0, 1.0]}),
        opportunities=frame.assign(stage="qualification", closed_at=pd.NaT),
    )


def test_the_record_is_the_best_period_the_data_cover_for_the_scope():
    data = deals(
        (1, 50_000, "2026-05-10"),  # Q2: the baseline of a Q3 goal
        (1, 80_000, "2026-02-10"),  # Q1
        (1, 70_000, "2025-11-10"),  # Q4 2025, before the data start below
        (2, 900_000, "2026-02-11"),  # tier 2: outside the scope
    )

    found = goal_record(
        data,
        metric="pipeline_created",
        scope=Scope(tiers=(1,)),
        start=dt.date(2026, 7, 1),
        end=dt.date(2026, 9, 30),
        data_start=dt.date(2025, 10, 15),  # Q4 2025 is only partly covered
        count=8,
    )

    assert found == Record(
        baseline=50_000.0,
        best=80_000.0,
        best_start=dt.date(2026, 1, 1),
        best_end=dt.date(2026, 3, 31),
        periods=2,
    )


def test_no_data_means_no_record_but_still_a_baseline():
    found = goal_record(
        deals(),
        metric="pipeline_created",
        scope=Scope(tiers=(1,)),
        start=dt.date(2026, 7, 1),
        end=dt.date(2026, 9, 30),
        data_start=None,
        count=8,
    )

    assert (found.baseline, found.best, found.periods) == (0.0, None, 0)
