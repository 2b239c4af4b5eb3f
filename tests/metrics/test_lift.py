"""Target vs non-target and holdout lift (DOMAIN.md "Lift and incrementality").

Expected numbers are worked out by hand in the comments, from the formulas of DOMAIN.md.
"""

import math

import numpy as np
import pandas as pd
import pytest

from metrics import lift

NAN = math.nan
START, END = pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-04-01", tz="UTC")


def ts(value: str | None) -> pd.Timestamp:
    return pd.Timestamp(value, tz="UTC") if value else pd.NaT


# Accounts 1 and 5 are tier 1 (1 engaged), 2 is tier 2, 3 and 4 are not targets.
ACCOUNTS = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4, 5],
        "tier": [1.0, 2.0, None, None, 1.0],
        "engaged": [True, False, False, True, False],
    }
)
OPPORTUNITIES = pd.DataFrame(
    [
        # account, amount, stage, created, closed
        (1, 10_000, "closed_won", "2026-01-01", "2026-01-31"),  # 30 days
        (1, 5_000, "closed_lost", "2026-01-05", "2026-02-01"),
        (2, 20_000, "closed_won", "2026-02-01", "2026-03-13"),  # 40 days
        (2, 8_000, "qualification", "2026-03-01", None),
        (3, 4_000, "closed_won", "2026-01-10", "2026-03-01"),  # 50 days
        (3, 6_000, "closed_lost", "2026-01-10", "2026-02-01"),
        (4, 3_000, "closed_lost", "2026-02-10", "2026-03-01"),
        (4, 2_000, "proposal", "2026-03-31 23:59", None),
        # Outside the period: created before it, and at its (exclusive) end.
        (1, 99_000, "closed_won", "2025-12-31 23:59", "2026-01-15"),
        (3, 99_000, "qualification", "2026-04-01", None),
    ],
    columns=["account_id", "amount", "stage", "created_at", "closed_at"],
)
OPPORTUNITIES["created_at"] = OPPORTUNITIES["created_at"].map(ts)
OPPORTUNITIES["closed_at"] = OPPORTUNITIES["closed_at"].map(ts)
OPPORTUNITIES["amount"] = OPPORTUNITIES["amount"].astype(float)


@pytest.fixture(scope="module")
def metrics():
    return lift.segment_metrics(OPPORTUNITIES, ACCOUNTS, start=START, end=END)


MEASURES = ["accounts", "opportunities", "pipeline", "won", "lost", "open", "revenue"]
RATIOS = ["win_rate", "average_deal_size", "cycle_days", "velocity", "revenue_per_account"]
EXPECTED = {
    # accounts, deals, pipeline, won, lost, open, revenue |
    # win rate, average deal, cycle days, velocity = open * win rate * deal / cycle, revenue/account
    "target": (
        (3, 4, 43_000, 2, 1, 1, 30_000),
        # 2/3; 30000/2; (30+40)/2; 1 * 2/3 * 15000 / 35; 30000 / 3
        (2 / 3, 15_000, 35, 285.7142857142857, 10_000),
    ),
    "non_target": (
        (2, 4, 15_000, 1, 2, 1, 4_000),
        # 1/3; 4000; 50; 1 * 1/3 * 4000 / 50; 4000 / 2
        (1 / 3, 4_000, 50, 26.666666666666668, 2_000),
    ),
    "tier_1": ((2, 2, 15_000, 1, 1, 0, 10_000), (0.5, 10_000, 30, 0, 5_000)),
    "tier_2": ((1, 2, 28_000, 1, 0, 1, 20_000), (1, 20_000, 40, 500, 20_000)),
    # No tier-3 account: nothing to divide by.
    "tier_3": ((0, 0, 0, 0, 0, 0, 0), (NAN, NAN, NAN, NAN, NAN)),
    # Within targets only: account 4 is engaged but not a target.
    "engaged": ((1, 2, 15_000, 1, 1, 0, 10_000), (0.5, 10_000, 30, 0, 10_000)),
    "not_engaged": ((2, 2, 28_000, 1, 0, 1, 20_000), (1, 20_000, 40, 500, 10_000)),
}


@pytest.mark.parametrize("segment", EXPECTED)
def test_segment_metrics(metrics, segment):
    sums, ratios = EXPECTED[segment]
    assert tuple(metrics.loc[segment, MEASURES]) == pytest.approx(sums)
    assert tuple(metrics.loc[segment, RATIOS]) == pytest.approx(ratios, nan_ok=True)


LIFTS = {
    # treatment / control - 1
    "target_vs_non_target": {
        "win_rate": (2 / 3) / (1 / 3) - 1,  # 1.0
        "average_deal_size": 15_000 / 4_000 - 1,  # 2.75
        "cycle_days": 35 / 50 - 1,  # -0.3
        "velocity": 285.7142857142857 / 26.666666666666668 - 1,  # 9.714...
        "revenue_per_account": 10_000 / 2_000 - 1,  # 4
    },
    "tier_2_vs_non_target": {
        "win_rate": 1 / (1 / 3) - 1,
        "average_deal_size": 4.0,
        "cycle_days": -0.2,
        "velocity": 500 / 26.666666666666668 - 1,
        "revenue_per_account": 9.0,
    },
    # No tier-3 account at all: undefined, not -100 %.
    "tier_3_vs_non_target": {"win_rate": NAN, "revenue_per_account": NAN, "pipeline": -1.0},
    # Control 0 lost deals: undefined; equal revenue per account: 0.
    "engaged_vs_not_engaged": {"lost": NAN, "win_rate": -0.5, "revenue_per_account": 0.0},
}


@pytest.mark.parametrize("comparison", LIFTS)
def test_lifts(metrics, comparison):
    table = lift.lifts(metrics)
    for measure, expected in LIFTS[comparison].items():
        assert table.loc[comparison, measure] == pytest.approx(expected, nan_ok=True), measure


@pytest.mark.parametrize(
    ("treatment", "control", "expected"),
    [(3.0, 2.0, 0.5), (1.0, 4.0, -0.75), (0.0, 2.0, -1.0), (5.0, 0.0, NAN), (5.0, NAN, NAN)],
)
def test_lift_of_two_numbers(treatment, control, expected):
    assert lift.lift(treatment, control) == pytest.approx(expected, nan_ok=True)


def test_velocity_is_undefined_when_deals_close_the_instant_they_open():
    deals = pd.DataFrame(
        {
            "account_id": [1],
            "amount": [1000.0],
            "stage": ["closed_won"],
            "created_at": [ts("2026-01-02")],
            "closed_at": [ts("2026-01-02")],
        }
    )
    table = lift.segment_metrics(deals, ACCOUNTS, start=START, end=END)
    assert table.loc["target", "cycle_days"] == 0
    assert math.isnan(table.loc["target", "velocity"])


# --- Holdout -------------------------------------------------------------------------------

ENROLLED_AT = ts("2026-01-01")
NOW = ts("2026-06-30")


def enrolments(playbook_id: int, enrolled: int, holdout: int, first_account: int = 1):
    statuses = (["active", "completed", "exited"] * enrolled)[:enrolled] + ["holdout"] * holdout
    return pd.DataFrame(
        {
            "account_id": np.arange(first_account, first_account + len(statuses)),
            "playbook_id": playbook_id,
            "status": statuses,
            "enrolled_at": ENROLLED_AT,
        }
    )


def deals_for(account_ids, amount=1000.0, created="2026-02-01"):
    return pd.DataFrame(
        {"account_id": list(account_ids), "amount": amount, "created_at": ts(created)}
    )


@pytest.fixture
def holdout_case():
    """Playbook 1: 40 enrolled, 10 with a deal after enrolment; 30 holdout, 3 with one."""
    enrols = enrolments(1, enrolled=40, holdout=30)
    deals = pd.concat(
        [
            deals_for(range(1, 11)),  # enrolled accounts 1-10
            deals_for(range(41, 44)),  # holdout accounts 41-43
            # Not counted: before enrolment, after now, and an account in no playbook.
            deals_for([20], created="2025-12-31"),
            deals_for([21], created="2026-07-01"),
            deals_for([999]),
        ],
        ignore_index=True,
    )
    return enrols, deals


def test_holdout_opportunity_rate_with_z_interval_and_p_value(holdout_case):
    row = lift.holdout_lift(*holdout_case, now=NOW, min_group=30).iloc[0]
    assert (row["enrolled_accounts"], row["holdout_accounts"], row["enough_data"]) == (40, 30, True)
    # p1 = 10/40 = .25, p2 = 3/30 = .1, diff .15;
    # se = sqrt(.25 * .75 / 40 + .1 * .9 / 30) = .08767839; CI = .15 -/+ 1.959964 * se;
    # pooled 13/70: se0 = .09392, z = 1.597062, p = erfc(z / sqrt 2) = .110252.
    assert row["rate_enrolled"] == pytest.approx(0.25)
    assert row["rate_holdout"] == pytest.approx(0.1)
    assert row["rate_diff"] == pytest.approx(0.15)
    assert row["rate_ci_low"] == pytest.approx(-0.0218464858, abs=1e-9)
    assert row["rate_ci_high"] == pytest.approx(0.3218464858, abs=1e-9)
    assert row["rate_p"] == pytest.approx(0.1102518698, abs=1e-9)


def test_holdout_pipeline_per_account_with_a_reproducible_bootstrap(holdout_case):
    first = lift.holdout_lift(*holdout_case, now=NOW, min_group=30).iloc[0]
    again = lift.holdout_lift(*holdout_case, now=NOW, min_group=30).iloc[0]
    # 10 * 1000 / 40 = 250 per enrolled account; 3 * 1000 / 30 = 100 per holdout account.
    assert first["pipeline_enrolled"] == pytest.approx(250)
    assert first["pipeline_holdout"] == pytest.approx(100)
    assert first["pipeline_diff"] == pytest.approx(150)
    assert first["pipeline_ci_low"] < 150 < first["pipeline_ci_high"]
    assert 0 < first["pipeline_p"] <= 1
    assert first.equals(again)


def test_a_remembered_bootstrap_is_the_one_its_groups_give(holdout_case):
    """The finish re-tests every playbook on each run; a result is reused only for the same
    groups, seed and resamples, and is the one a fresh generator gives."""
    enrols, deals = holdout_case
    lift._BOOTSTRAPS.clear()

    def fresh(seed: int) -> tuple:
        result = lift.bootstrap_difference(
            np.array([1000.0] * 10 + [0.0] * 30),
            np.array([1000.0] * 3 + [0.0] * 27),
            rng=np.random.default_rng([seed, 1]),
            resamples=2000,
        )
        return result["ci_low"], result["ci_high"], result["p"]

    def interval(row) -> tuple:
        return row["pipeline_ci_low"], row["pipeline_ci_high"], row["pipeline_p"]

    first = lift.holdout_lift(enrols, deals, now=NOW, min_group=30, seed=7).iloc[0]
    assert interval(first) == fresh(7)
    # One more enrolled account with a deal: its groups differ, so it is computed anew.
    more = pd.concat([deals, deals_for([11])], ignore_index=True)
    moved = lift.holdout_lift(enrols, more, now=NOW, min_group=30, seed=7).iloc[0]
    assert moved["pipeline_diff"] == pytest.approx(11 * 1000 / 40 - 100)
    assert moved["pipeline_ci_low"] != first["pipeline_ci_low"]
    # Another seed is another bootstrap; the same arguments again, the one remembered.
    other = lift.holdout_lift(enrols, deals, now=NOW, min_group=30, seed=8).iloc[0]
    assert interval(other) == fresh(8) != fresh(7)
    assert len(lift._BOOTSTRAPS) == 3
    assert interval(lift.holdout_lift(enrols, deals, now=NOW, min_group=30, seed=7).iloc[0]) == (
        fresh(7)
    )
    assert len(lift._BOOTSTRAPS) == 3


def test_identical_groups_have_no_difference_and_p_one():
    x = np.zeros(50)
    result = lift.bootstrap_difference(x, x.copy(), rng=np.random.default_rng(1), resamples=500)
    assert (result["diff"], result["ci_low"], result["ci_high"], result["p"]) == (0, 0, 0, 1)


def test_a_large_separation_has_the_smallest_bootstrap_p():
    resamples = 400
    result = lift.bootstrap_difference(
        np.full(40, 1000.0) + np.arange(40),
        np.arange(40, dtype=float),
        rng=np.random.default_rng(1),
        resamples=resamples,
    )
    assert result["diff"] == pytest.approx(1000)
    assert result["p"] == pytest.approx(1 / (resamples + 1))


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "expected_p"),
    [
        (0, 40, 0, 40, 1.0),  # no variance at all: nothing to test
        (40, 40, 40, 40, 1.0),
        # p1 = p2 = .5: z = 0, p = 1.
        (20, 40, 15, 30, 1.0),
    ],
)
def test_two_proportion_edge_cases(x1, n1, x2, n2, expected_p):
    assert lift.two_proportions(x1, n1, x2, n2)["p"] == pytest.approx(expected_p)


def test_below_the_minimum_group_it_says_not_enough_data():
    enrols = enrolments(2, enrolled=40, holdout=29)
    row = lift.holdout_lift(enrols, deals_for(range(1, 5)), now=NOW, min_group=30).iloc[0]
    assert not row["enough_data"]
    # 4 / 40 enrolled accounts had a deal, no holdout account did: the groups' rates stay,
    # their difference (a bare point estimate) does not.
    assert (row["rate_enrolled"], row["rate_holdout"]) == (pytest.approx(0.1), 0)
    for column in (
        "rate_diff",
        "rate_ci_low",
        "rate_ci_high",
        "rate_p",
        "pipeline_diff",
        "pipeline_ci_low",
        "pipeline_p",
    ):
        assert math.isnan(row[column]), column


def test_every_playbook_gets_its_own_row():
    enrols = pd.concat(
        [enrolments(3, 30, 30), enrolments(1, 30, 30, first_account=100)], ignore_index=True
    )
    table = lift.holdout_lift(enrols, deals_for([1]), now=NOW)
    assert table["playbook_id"].tolist() == [1, 3]
    assert table["rate_enrolled"].tolist() == pytest.approx([0, 1 / 30])
