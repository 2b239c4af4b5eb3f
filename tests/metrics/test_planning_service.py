"""The planner's loader and service (issue #18): the history a plan rests on, scoped to what the
user may see. Expected figures are worked by hand from the book in planning_book.py."""

import datetime as dt
import json

import pandas as pd
import pytest

from metrics.engine.compute.planning import ChannelCost
from metrics.planning import preview_plan
from metrics.planning_inputs import load_channel_costs, load_journeys, pool_counts
from metrics.planning_output import plan_from_json, plan_json
from tests.factories import AccountFactory, EnrolmentFactory, PlaybookFactory
from tests.metrics.planning_book import _history, make_book


@pytest.fixture
def book(db, alice, bob):
    return make_book(alice, bob)


def test_the_journeys_count_a_skipped_stage_as_passed_and_sum_won_deals(book, diana):
    frame = load_journeys(diana).set_index("account_id")
    a1 = frame.loc[book["a1"].pk]
    # engaged skipped: passed on the day it became mqa
    assert a1["engaged_at"] == pd.Timestamp("2026-01-11 12:00")
    assert a1["opportunity_at"] == pd.Timestamp("2026-01-21 12:00")
    assert a1["won_at"] == pd.Timestamp("2026-02-20 12:00")
    assert a1["won_amount"] == 40000
    b1 = frame.loc[book["b1"].pk]
    assert b1["opportunity_at"] == pd.Timestamp("2026-01-04 12:00")  # from its deal
    assert pd.isna(b1["won_at"])
    assert b1["won_amount"] == 0


def test_a_target_whose_history_starts_at_aware_was_targeted_then(db, diana):
    # It answered before its first evaluation as a target: aware, then engaged three weeks later.
    # Targeted is passed at aware, so targeted -> engaged takes 21 days, not 0.
    account = AccountFactory(tier=2, stage="engaged")
    _history(account, ("aware", "2026-03-01"), ("engaged", "2026-03-22"))
    row = load_journeys(diana).set_index("account_id").loc[account.pk]
    assert row["targeted_at"] == pd.Timestamp("2026-03-01 12:00")
    assert row["engaged_at"] == pd.Timestamp("2026-03-22 12:00")


def test_a_rep_plans_on_their_own_accounts_only(book, alice):
    frame = load_journeys(alice)
    assert set(frame["account_id"]) == {book["a1"].pk, book["a2"].pk}
    costs = load_channel_costs(
        alice, tiers=(1, 2, 3), playbook=None, model="w_shaped", since=dt.date(2025, 12, 1)
    )
    # Bob's display spend and engaged account are not hers; an event with no spend has no cost.
    assert costs == [
        ChannelCost("email", 3000.0, 0.5, 0.0, 1.0, 40000.0),
        ChannelCost("event", 0.0, 0.5, 0.0, 0.0, 0.0),
    ]
    assert costs[0].cost_per_engaged == 6000.0
    assert costs[1].cost_per_engaged == 0.0


def test_the_pool_counts_targets_that_have_not_yet_passed_each_stage(book, diana):
    # A1 customer, A2 engaged, B1 opportunity
    assert pool_counts(diana, tiers=(1,), playbook=None) == {
        "targeted": 0,  # none is still short of engaged
        "engaged": 1,  # A2 has not yet become mqa
        "mqa": 1,
        "opportunity": 2,  # A2 and B1 have not passed opportunity
        "won": 2,
    }


def test_a_playbook_scope_counts_its_enrolled_accounts(book, diana):
    playbook = PlaybookFactory()
    EnrolmentFactory(account=book["a2"], playbook=playbook)
    assert pool_counts(diana, tiers=(1,), playbook=playbook)["engaged"] == 1
    frame = load_journeys(diana, playbook=playbook)
    assert frame["playbook_id"].eq(playbook.pk).sum() == 1


def test_the_service_builds_the_same_plan(book, diana):
    plan = preview_plan(
        user=diana,
        target=100000,
        kind="revenue",
        start=dt.date(2027, 1, 1),
        end=dt.date(2027, 3, 31),
        tiers=(1,),
        model="w_shaped",
        overrides={
            "conversion": dict.fromkeys(
                ["targeted->engaged", "engaged->mqa", "mqa->opportunity", "opportunity->won"], 0.5
            ),
            "deal_size": 10000,
        },
    ).plan
    assert plan.needed["targeted"].value == pytest.approx(160)
    assert plan.total_budget.value == pytest.approx(60000)  # the measured mix: all email


def test_a_plan_snapshot_reads_back_as_the_same_plan(book, diana):
    preview = preview_plan(
        user=diana,
        target=100000,
        kind="pipeline",
        start=dt.date(2027, 1, 1),
        end=dt.date(2027, 3, 31),
        tiers=(1, 2),
        model="w_shaped",
        overrides={"conversion": {"targeted->engaged": 0.5}, "deal_size": 10000},
    )
    assert plan_from_json(json.loads(json.dumps(plan_json(preview)))) == preview.plan
