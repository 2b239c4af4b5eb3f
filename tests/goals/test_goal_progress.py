"""Goal progress (DOMAIN.md "Goals (SMART)"): every catalogue metric, its baseline, expected-by-now
and status, worked out by hand. Time is frozen by passing ``now`` to the services.

The book: Q1 2026 (Jan 1 - Mar 31, 90 days), now = Feb 15 00:00 UTC, exactly half way (45 days).
The previous equal period is Q4 2025 (whole months: Oct 1 - Dec 31). Scope: tier 1 = A1 + A2
(and A4-A6, which have only journey stage changes).
"""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from accounts.models import OpportunityStage
from goals import progress as gp
from goals.choices import GoalMetric
from goals.loading import goal_summary_rows, load_goal_data
from goals.models import Goal, GoalMilestone
from goals.progress import goal_summaries
from goals.tracking import goal_series, update_goal_progress
from metrics.models import JourneyStageChange
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    LeadFactory,
    OpportunityFactory,
)

Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
NOW = dt.datetime(2026, 2, 15, tzinfo=dt.UTC)
SHARES = {"on_track_share": 0.9, "at_risk_share": 0.7}


def at(text: str) -> dt.datetime:
    return pd.Timestamp(text, tz="UTC").to_pydatetime()


def deal(account, amount, created, stage=OpportunityStage.QUALIFICATION, closed=None):
    return OpportunityFactory(
        account=account,
        amount=Decimal(amount),
        created_at=at(created),
        stage=stage,
        closed_at=at(closed) if closed else None,
    )


@pytest.fixture
def book(alice, bob):
    a1 = AccountFactory(tier=1, owner=alice)
    a2 = AccountFactory(tier=1, owner=bob)
    a3 = AccountFactory(tier=2, owner=alice)  # out of a tier-1 scope
    won, lost = OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST
    # This period.
    deal(a1, 100_000, "2026-01-10", won, "2026-02-01")
    deal(a2, 50_000, "2026-01-20", lost, "2026-02-05")
    deal(a1, 30_000, "2026-02-10")
    deal(a3, 999_000, "2026-01-15", won, "2026-01-30")
    deal(a1, 40_000, "2026-02-20")  # after now
    # The previous period.
    deal(a2, 80_000, "2025-11-01", won, "2025-12-15")
    deal(a1, 20_000, "2025-12-01", lost, "2025-12-20")
    for account, when in [
        (a1, "2026-01-05"),
        (a2, "2026-02-14 16:00"),
        (a1, "2026-02-16"),  # after now
        (a3, "2026-01-07"),
        (a1, "2025-11-11"),  # previous period
    ]:
        ActivityFactory(account=account, kind="meeting", channel="event", occurred_at=at(when))
    ActivityFactory(account=a1, kind="email_click", occurred_at=at("2026-01-08"))  # no meeting
    for account, when in [
        (a1, "2026-01-25"),
        (a2, "2025-12-10"),  # a2 first became mqa last period ...
        (a2, "2026-02-01"),  # ... so this return to mqa does not count again
        (a3, "2026-01-30"),
    ]:
        JourneyStageChange.objects.create(account=account, to_stage="mqa", changed_at=at(when))
    # Engaged and mqa count an account once, when it first reached the stage or passed it by
    # reaching a later one (a deal created = opportunity). a1 and a2 had deals in Q4 2025, so
    # they passed both stages then; their later changes to mqa do not count again.
    a4 = AccountFactory(tier=1, owner=bob)  # engaged Jan 12, mqa Feb 14: both now
    a5 = AccountFactory(tier=1, owner=bob)  # straight to opportunity Jan 5: passes both now
    a6 = AccountFactory(tier=1, owner=bob)  # engaged Dec 20 (Q4); mqa Feb 20, after now
    a7 = AccountFactory(tier=2, owner=bob)  # engaged now, out of a tier-1 scope
    for account, stage, when in [
        (a4, "engaged", "2026-01-12"),
        (a4, "mqa", "2026-02-14 16:00"),
        (a5, "opportunity", "2026-01-05"),
        (a6, "engaged", "2025-12-20"),
        (a6, "mqa", "2026-02-20"),
        (a7, "engaged", "2026-01-20"),
    ]:
        JourneyStageChange.objects.create(account=account, to_stage=stage, changed_at=at(when))
    for account, handed, followed in [
        (a1, "2026-01-05 10:00", "2026-01-06 10:00"),  # 24 h: on time
        (a2, "2026-01-10 00:00", "2026-01-14 00:00"),  # 96 h: late
        (a2, "2026-02-01 00:00", None),  # 14 days and nothing: a miss
        (a1, "2026-02-14 12:00", None),  # 12 h ago: still waiting, left out
        (a1, "2025-11-01 00:00", "2025-11-02 00:00"),  # previous period, on time
    ]:
        LeadFactory(
            account=account,
            handed_off_at=at(handed),
            first_follow_up_at=at(followed) if followed else None,
        )
    return {"a1": a1, "a2": a2, "a3": a3}


# metric: (current as of now, baseline over Q4 2025), tier 1 only.
EXPECTED = {
    GoalMetric.PIPELINE_CREATED: (180_000, 100_000),  # 100k + 50k + 30k; 80k + 20k
    GoalMetric.REVENUE_WON: (100_000, 80_000),
    GoalMetric.OPPORTUNITIES_CREATED: (3, 2),
    # Accounts, once: a5 now (its stage change); a1 and a2 reached it with their Q4 deals, so
    # their three deals this quarter add nothing.
    GoalMetric.OPPORTUNITY_ACCOUNTS: (1, 2),
    GoalMetric.MQA_ACCOUNTS: (2, 2),  # a4, a5; a1 and a2 by their Q4 deals
    GoalMetric.ENGAGED_ACCOUNTS: (2, 3),  # a4, a5; a1, a2 (deals) and a6
    GoalMetric.WIN_RATE: (0.5, 0.5),  # closed in the period: 1 won, 1 lost; same before
    GoalMetric.AVERAGE_DEAL_SIZE: (100_000, 80_000),  # won amount / won deals
    GoalMetric.FOLLOW_UP_RATE: (1 / 3, 1.0),  # 1 on time of 3 decided; 1 of 1
    GoalMetric.MEETINGS_HELD: (2, 1),
}


@pytest.fixture
def data(book):
    return load_goal_data(since=dt.date(2025, 10, 1), until=NOW)


@pytest.mark.parametrize("metric", list(EXPECTED))
def test_each_metric_is_measured_over_the_scope_and_period_up_to_now(data, metric):
    accounts = gp.scope_accounts(data, gp.Scope(tiers=(1,)))

    current = gp.metric_value(
        data, metric=metric, accounts=accounts, start=Q1[0], end=Q1[1], as_of=NOW
    )

    assert current == pytest.approx(EXPECTED[metric][0])


@pytest.mark.parametrize("metric", list(EXPECTED))
def test_the_baseline_is_the_previous_equal_period(data, metric):
    baseline = gp.baseline_value(
        data, metric=metric, scope=gp.Scope(tiers=(1,)), start=Q1[0], end=Q1[1]
    )

    assert baseline == pytest.approx(EXPECTED[metric][1])


@pytest.mark.parametrize(
    ("metric", "target", "expected"),
    [
        # Sums start at 0: half the period, half the target.
        (GoalMetric.PIPELINE_CREATED, 400_000, 200_000),
        (GoalMetric.MEETINGS_HELD, 10, 5),
        # Rates and averages start at the baseline: 0.5 + (0.7 - 0.5) / 2.
        (GoalMetric.WIN_RATE, 0.7, 0.6),
        (GoalMetric.FOLLOW_UP_RATE, 0.9, 0.95),  # 1.0 + (0.9 - 1.0) / 2
        (GoalMetric.AVERAGE_DEAL_SIZE, 120_000, 100_000),  # 80k + 40k / 2
    ],
)
def test_recompute_stores_current_expected_and_status(book, metric, target, expected):
    goal = Goal.objects.create(
        name="Q1",
        team="marketing",
        owner=book["a1"].owner,
        metric=metric,
        scope_tiers=[1],
        target=target,
        baseline=EXPECTED[metric][1],
        start_date=Q1[0],
        end_date=Q1[1],
    )

    update_goal_progress(now=NOW)

    goal.refresh_from_db()
    assert float(goal.current_value) == pytest.approx(EXPECTED[metric][0], abs=1e-4)
    assert float(goal.expected_value) == pytest.approx(expected)
    assert goal.computed_at == NOW
    # 180k / 200k = 0.9 on track; 2 / 5 = 0.4 off; 0.5 / 0.6 = 0.83 at risk; 0.333 / 0.95 off;
    # 100k / 100k on track.
    assert (
        goal.status
        == {
            GoalMetric.PIPELINE_CREATED: "on_track",
            GoalMetric.MEETINGS_HELD: "off_track",
            GoalMetric.WIN_RATE: "at_risk",
            GoalMetric.FOLLOW_UP_RATE: "off_track",
            GoalMetric.AVERAGE_DEAL_SIZE: "on_track",
        }[metric]
    )


def test_a_playbook_scope_counts_enrolled_accounts_but_not_the_holdout(book, data):
    from tests.factories import EnrolmentFactory, PlaybookFactory

    playbook = PlaybookFactory()
    EnrolmentFactory(account=book["a1"], playbook=playbook, status="active")
    EnrolmentFactory(account=book["a2"], playbook=playbook, status="holdout")
    data = load_goal_data(since=Q1[0], until=NOW)

    accounts = gp.scope_accounts(data, gp.Scope(playbook_id=playbook.pk))
    pipeline = gp.metric_value(
        data, metric="pipeline_created", accounts=accounts, start=Q1[0], end=Q1[1], as_of=NOW
    )

    assert list(accounts) == [book["a1"].pk]
    assert pipeline == 130_000  # a1's 100k + 30k; a2's 50k is the holdout's


def test_an_owner_scope_counts_only_that_reps_accounts(book, data, alice):
    accounts = gp.scope_accounts(data, gp.Scope(tiers=(1, 2), owner_id=alice.pk))

    assert sorted(accounts) == sorted([book["a1"].pk, book["a3"].pk])


def test_milestones_bend_the_expected_line():
    # Points: Jan 1 0, end of Jan 31 (Feb 1 00:00) 100k, end of Feb 28 (Mar 1) 250k, Apr 1 400k.
    # Feb 15 00:00 is 14 of Feb's 28 days: 100k + 150k * 14 / 28 = 175k.
    expected = gp.expected_value(
        metric="pipeline_created",
        baseline=None,
        target=400_000,
        start=Q1[0],
        end=Q1[1],
        milestones=[(dt.date(2026, 1, 31), 100_000), (dt.date(2026, 2, 28), 250_000)],
        as_of=NOW,
    )

    assert expected == pytest.approx(175_000)


def test_a_rate_without_baseline_expects_its_target_or_first_milestone():
    common = {"metric": "win_rate", "baseline": None, "target": 0.4, "start": Q1[0], "end": Q1[1]}

    assert gp.expected_value(**common, as_of=NOW) == pytest.approx(0.4)
    # From 0.3 at the start (the first milestone) to 0.3 by end of Jan 31, then to 0.4 on Apr 1:
    # Feb 15 is 14 of the 59 days from Feb 1 to Apr 1: 0.3 + 0.1 * 14 / 59.
    with_milestone = gp.expected_value(
        **common, milestones=[(dt.date(2026, 1, 31), 0.3)], as_of=NOW
    )
    assert with_milestone == pytest.approx(0.3 + 0.1 * 14 / 59)


@pytest.mark.parametrize(
    ("current", "status"),
    [
        (100, "on_track"),
        (90, "on_track"),  # exactly 90 % of expected
        (89.99, "at_risk"),
        (70, "at_risk"),  # exactly 70 %
        (69.99, "off_track"),
        (0, "off_track"),
        (400, "achieved"),  # a sum at its target before the end is decided
    ],
)
def test_status_thresholds(current, status):
    assert (
        gp.goal_status(
            metric="pipeline_created",
            current=current,
            expected=100,
            target=400,
            start=Q1[0],
            end=Q1[1],
            as_of=NOW,
            **SHARES,
        )
        == status
    )


@pytest.mark.parametrize(
    ("metric", "current", "as_of", "status"),
    [
        ("win_rate", 0.5, NOW, "on_track"),  # a rate at its target can still fall: not achieved
        ("win_rate", None, NOW, ""),  # nothing decided yet
        ("win_rate", None, "2026-04-01", "missed"),
        ("pipeline_created", 399, "2026-04-01", "missed"),  # ended: Apr 1 00:00
        ("pipeline_created", 400, "2026-04-01", "achieved"),
        ("win_rate", 0.5, "2026-04-01", "achieved"),
        ("pipeline_created", 0, "2025-12-31", ""),  # not started
    ],
)
def test_status_before_during_and_after_the_period(metric, current, as_of, status):
    target = 0.5 if metric == "win_rate" else 400
    as_of = NOW if as_of is NOW else pd.Timestamp(as_of, tz="UTC")

    assert (
        gp.goal_status(
            metric=metric,
            current=current,
            expected=0.45 if metric == "win_rate" else 200,
            target=target,
            start=Q1[0],
            end=Q1[1],
            as_of=as_of,
            **SHARES,
        )
        == status
    )


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        ("2026-04-01", "2026-06-30", ("2026-01-01", "2026-03-31")),  # a quarter: the one before
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28")),  # a month
        ("2026-01-01", "2026-12-31", ("2025-01-01", "2025-12-31")),  # a year
        ("2026-01-10", "2026-01-19", ("2025-12-31", "2026-01-09")),  # 10 days: the 10 before
    ],
)
def test_previous_period(start, end, previous):
    day = dt.date.fromisoformat

    assert gp.previous_period(day(start), day(end)) == (day(previous[0]), day(previous[1]))


def test_the_series_is_the_running_total_at_the_end_of_each_day(book):
    goal = Goal.objects.create(
        name="Pipeline",
        team="sales",
        owner=book["a1"].owner,
        metric="pipeline_created",
        scope_tiers=[1],
        target=400_000,
        start_date=Q1[0],
        end_date=Q1[1],
    )

    series = goal_series(goal=goal, now=NOW).set_index("date")["value"]

    assert len(series) == 46  # Jan 1 .. Feb 15
    assert series[dt.date(2026, 1, 9)] == 0
    assert series[dt.date(2026, 1, 10)] == 100_000
    assert series[dt.date(2026, 1, 20)] == 150_000
    assert series[dt.date(2026, 2, 15)] == 180_000


def test_goal_summaries_give_the_dashboard_formatted_progress(book):
    goal = Goal.objects.create(
        name="Pipeline",
        team="sales",
        owner=book["a1"].owner,
        metric="pipeline_created",
        scope_tiers=[1],
        target=400_000,
        start_date=Q1[0],
        end_date=Q1[1],
    )
    GoalMilestone.objects.create(goal=goal, date=dt.date(2026, 1, 31), value=100_000)
    update_goal_progress(now=NOW)

    [summary] = goal_summaries(goal_summary_rows(Goal.objects.select_related("owner")))

    assert summary["current_display"] == "$180,000"
    # Milestone: 0 -> 100k by Feb 1, then 300k over Feb 1 .. Apr 1 (59 days): 14 days in.
    assert summary["expected"] == pytest.approx(100_000 + 300_000 * 14 / 59, abs=1e-3)
    assert summary["percent_of_target"] == 45  # 180k / 400k
    assert summary["status"] == "on_track"  # 180k / 171.2k
    assert summary["unit"] == "money"


def test_a_stage_reached_before_the_loaded_days_is_not_reached_again_in_them(book):
    # a1 changed to mqa on Jan 25, but it passed mqa with its deal of Dec 1: loading from Jan 1
    # on must not make Jan 25 its first time.
    data = load_goal_data(since=Q1[0], until=NOW)
    accounts = gp.scope_accounts(data, gp.Scope(tiers=(1,)))

    mqa = gp.metric_value(
        data, metric="mqa_accounts", accounts=accounts, start=Q1[0], end=Q1[1], as_of=NOW
    )

    assert mqa == 2  # a4 and a5
    assert book["a1"].pk not in set(data.reached["account_id"])
