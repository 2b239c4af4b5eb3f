"""The reverse-funnel planner's pure computation (issue #18).

Expected figures are worked out by hand in the comments from the definitions in the README's
"Metrics" (planner): conversion = reached both stages / reached the first; lag = median days;
deal size = average won amount; needed counts = the target divided back through the rates.
"""

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.engine.compute.planning import (
    PLAN_STAGES,
    STEPS,
    Assumptions,
    ChannelCost,
    PlanInputError,
    assumptions_from,
    estimate_rates,
    forecast,
    plan_backwards,
    plan_forwards,
    rates_for_scope,
)

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2026-01-01")


def journeys(rows: list[tuple]) -> pd.DataFrame:
    """rows: (tier, furthest stage index, days from targeted to each later stage, won amount)."""
    data = []
    for i, (tier, furthest, offsets, amount) in enumerate(rows, start=1):
        row = {"account_id": i, "tier": tier, "playbook_id": np.nan, "won_amount": amount}
        for k, stage in enumerate(PLAN_STAGES):
            row[f"{stage}_at"] = T0 + offsets[k] * DAY if k <= furthest else pd.NaT
        data.append(row)
    frame = pd.DataFrame(data)
    for stage in PLAN_STAGES:
        frame[f"{stage}_at"] = frame[f"{stage}_at"].astype("datetime64[ns]")
    return frame


# Ten tier-1 accounts: all targeted, 6 engaged (after 2, 4, 6, 8, 10, 12 days), 3 mqa, 2 with an
# opportunity, 1 won for 1,000.
TEN = journeys(
    [(1, 4, (0, 2, 3, 4, 5), 1000.0), (1, 3, (0, 4, 5, 6, 0), 0.0), (1, 2, (0, 6, 9, 0, 0), 0.0)]
    + [(1, 1, (0, d, 0, 0, 0), 0.0) for d in (8, 10, 12)]
    + [(1, 0, (0, 0, 0, 0, 0), 0.0)] * 4
)


def test_it_measures_conversion_lag_and_deal_size_by_hand():
    rates = estimate_rates(TEN, min_accounts=1, draws=200)[None]
    # 6/10 engaged, 3/6 mqa, 2/3 opportunity, 1/2 won
    assert rates.conversion["targeted->engaged"].value == pytest.approx(0.6)
    assert rates.conversion["engaged->mqa"].value == pytest.approx(0.5)
    assert rates.conversion["mqa->opportunity"].value == pytest.approx(2 / 3)
    assert rates.conversion["opportunity->won"].value == pytest.approx(0.5)
    assert [rates.conversion[s].accounts for s in STEPS] == [10, 6, 3, 2]
    # lags targeted->engaged 2,4,6,8,10,12 -> median 7; engaged->mqa 1,1,3 -> 1
    assert rates.lag_days["targeted->engaged"].value == pytest.approx(7)
    assert rates.lag_days["engaged->mqa"].value == pytest.approx(1)
    assert rates.lag_days["engaged->mqa"].accounts == 3
    assert rates.deal_size.value == pytest.approx(1000)
    assert rates.deal_size.accounts == 1
    est = rates.conversion["targeted->engaged"]
    assert est.low < est.value < est.high
    assert not est.fallback


def test_a_thin_tier_falls_back_to_the_all_tier_figure_and_says_so():
    # 10 tier-1 accounts as above plus 40 tier-3 accounts, 20 of them engaged.
    frame = pd.concat(
        [
            TEN,
            journeys(
                [(3, 1, (0, 1, 0, 0, 0), 0.0)] * 20 + [(3, 0, (0, 0, 0, 0, 0), 0.0)] * 20
            ).assign(account_id=range(11, 51)),
        ],
        ignore_index=True,
    )
    by_tier = estimate_rates(frame, min_accounts=30, draws=100)
    tier1 = by_tier[1].conversion["targeted->engaged"]
    assert tier1.fallback
    assert tier1.value == pytest.approx(26 / 50)  # the all-tier rate: (6 + 20) / 50
    assert tier1.accounts == 50
    tier3 = by_tier[3].conversion["targeted->engaged"]
    assert not tier3.fallback
    assert tier3.value == pytest.approx(0.5)
    assert tier3.accounts == 40
    # the same through a scope of tier 1 alone
    scoped = rates_for_scope(frame, tiers=(1,), min_accounts=30, draws=100)
    assert scoped.conversion["targeted->engaged"].fallback
    assert scoped.conversion["targeted->engaged"].value == pytest.approx(0.52)


ASSUMED = Assumptions(
    conversion={
        "targeted->engaged": 0.25,
        "engaged->mqa": 0.4,
        "mqa->opportunity": 0.5,
        "opportunity->won": 0.5,
    },
    lag_days={
        "targeted->engaged": 0.0,
        "engaged->mqa": 0.0,
        "mqa->opportunity": 0.0,
        "opportunity->won": 31.0,
    },
    deal_size=10_000.0,
    channel_mix={"email": 0.5, "event": 0.5},
)
COSTS = [
    # cost per opportunity 300, return 2 per dollar
    ChannelCost("email", spend=3000, engaged=30, mqa=15, opportunities=10, won_revenue=6000),
    # cost per opportunity 1,000, return 5 per dollar
    ChannelCost("event", spend=10000, engaged=20, mqa=10, opportunities=10, won_revenue=50000),
    ChannelCost("display", spend=500, engaged=0, mqa=0, opportunities=0, won_revenue=0),
]
POOL = {"targeted": 350, "engaged": 120, "mqa": 30, "opportunity": 25, "won": 400}
JAN_FEB = [date(2027, 1, 1), date(2027, 2, 1)]


def test_it_plans_a_revenue_target_backwards_by_hand():
    plan = plan_backwards(
        target=100_000,
        kind="revenue",
        months=JAN_FEB,
        assumptions=ASSUMED,
        costs=COSTS,
        pool=POOL,
    )
    # won 100,000 / 10,000 = 10; opportunities 10 / .5 = 20; mqa 40; engaged 100; targeted 400
    assert {s: plan.needed[s].value for s in PLAN_STAGES} == pytest.approx(
        {"targeted": 400, "engaged": 100, "mqa": 40, "opportunity": 20, "won": 10}
    )
    # 20 opportunities, half by email at 300 (3,000), half by event at 1,000 (10,000); event
    # returns 5 per dollar against email's 2, so it comes first.
    assert [(b.channel, b.amount.value) for b in plan.budget] == [
        ("event", pytest.approx(10_000)),
        ("email", pytest.approx(3_000)),
    ]
    assert plan.total_budget.value == pytest.approx(13_000)
    # gap: 400 - 350 = 50 targets; 100 - 120 < 0; 40 - 30 = 10 mqa; 20 - 25 < 0; 10 - 400 < 0
    assert plan.gap == {"targeted": 50, "engaged": 0, "mqa": 10, "opportunity": 0, "won": 0}
    # without rates every range is the point
    assert plan.needed["won"].low == plan.needed["won"].high == pytest.approx(10)


def test_it_spreads_the_plan_over_months_shifted_back_by_the_lags():
    plan = plan_backwards(
        target=100_000,
        kind="revenue",
        months=JAN_FEB,
        assumptions=ASSUMED,
        costs=COSTS,
        pool=POOL,
    )
    # 5 won in January and 5 in February. Their opportunities come 31 days earlier: January's
    # (Jan 1 - Feb 1) from Dec 1 - Jan 1, February's (Feb 1 - Mar 1) from Jan 1 - Jan 29. The
    # earlier stages have no lag, so they land in the same months as the opportunities.
    months = {m.month: m.counts for m in plan.by_month}
    assert list(months) == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert months[date(2026, 12, 1)] == pytest.approx(
        {"targeted": 200, "engaged": 50, "mqa": 20, "opportunity": 10, "won": 0}
    )
    assert months[date(2027, 1, 1)] == pytest.approx(
        {"targeted": 200, "engaged": 50, "mqa": 20, "opportunity": 10, "won": 5}
    )
    assert months[date(2027, 2, 1)] == pytest.approx(
        {"targeted": 0, "engaged": 0, "mqa": 0, "opportunity": 0, "won": 5}
    )


def test_a_pipeline_plan_splits_a_month_by_the_lag_days():
    lags = dict.fromkeys(STEPS, 0.0) | {"mqa->opportunity": 10.0}
    assumed = Assumptions(ASSUMED.conversion, lags, 1000.0, {"email": 1.0})
    plan = plan_backwards(
        target=31_000,
        kind="pipeline",
        months=[date(2027, 1, 1)],
        assumptions=assumed,
        costs=COSTS,
        pool=POOL,
    )
    # 31,000 / 1,000 = 31 opportunities over January; they win 31 x .5 = 15.5; 62 mqa needed
    # 10 days earlier (Dec 22 - Jan 22): 10/31 of them (20) in December, 42 in January.
    assert plan.needed["opportunity"].value == pytest.approx(31)
    assert plan.needed["won"].value == pytest.approx(15.5)
    months = {m.month: m.counts for m in plan.by_month}
    assert months[date(2026, 12, 1)]["mqa"] == pytest.approx(20)
    assert months[date(2027, 1, 1)]["mqa"] == pytest.approx(42)
    assert months[date(2027, 1, 1)]["opportunity"] == pytest.approx(31)
    # all 31 opportunities by email at 300 each
    assert plan.total_budget.value == pytest.approx(9300)


def test_the_plan_ranges_come_from_the_rates_draws():
    rates = estimate_rates(TEN, min_accounts=1, draws=300, seed=3)[None]
    assumed = assumptions_from(rates, COSTS)
    plan = plan_backwards(
        target=10_000,
        kind="revenue",
        months=JAN_FEB,
        assumptions=assumed,
        costs=COSTS,
        pool=POOL,
        rates=rates,
    )
    targeted = plan.needed["targeted"]
    # won 10 / .5 = 20 opportunities / (2/3) = 30 mqa / .5 = 60 engaged / .6 = 100 targeted
    assert targeted.value == pytest.approx(100)
    assert targeted.low < targeted.value < targeted.high
    assert targeted.accounts == 1  # the deal size rests on one won account


def test_the_mix_follows_attributed_opportunities():
    rates = estimate_rates(TEN, min_accounts=1, draws=50)[None]
    assert assumptions_from(rates, COSTS).channel_mix == {"email": 0.5, "event": 0.5}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"conversion": dict(ASSUMED.conversion, **{"engaged->mqa": 0.0})}, "engaged->mqa"),
        ({"conversion": dict(ASSUMED.conversion, **{"engaged->mqa": math.nan})}, "by hand"),
        ({"deal_size": 0.0}, "deal size"),
        ({"channel_mix": {"email": 0.5, "display": 0.5}}, "display has no attributed"),
        ({"channel_mix": {"email": 0.5}}, "100 %"),
    ],
)
def test_it_refuses_assumptions_a_plan_cannot_rest_on(change, message):
    bad = Assumptions(**(ASSUMED.__dict__ | change))
    with pytest.raises(PlanInputError, match=message):
        plan_backwards(
            target=1000, kind="revenue", months=JAN_FEB, assumptions=bad, costs=COSTS, pool=POOL
        )


rate = st.floats(min_value=0.001, max_value=1.0)


@settings(max_examples=200, deadline=None)
@given(
    conv=st.tuples(rate, rate, rate, rate),
    deal=st.floats(min_value=1.0, max_value=1e6),
    target=st.floats(min_value=1.0, max_value=1e9),
    kind=st.sampled_from(["revenue", "pipeline"]),
)
def test_planning_backwards_then_forwards_returns_the_target(conv, deal, target, kind):
    assumed = Assumptions(dict(zip(STEPS, conv, strict=True)), dict.fromkeys(STEPS, 5.0), deal, {})
    plan = plan_backwards(
        target=target, kind=kind, months=JAN_FEB, assumptions=assumed, costs=[], pool={}
    )
    ahead = plan_forwards(accounts=plan.needed["targeted"].value, assumptions=assumed, kind=kind)
    assert ahead[kind] == pytest.approx(target, rel=1e-9)
    for stage in PLAN_STAGES:
        assert ahead[stage] == pytest.approx(plan.needed[stage].value, rel=1e-9)


def test_the_80_percent_intervals_cover_the_true_rates_about_80_percent_of_the_time():
    rng = np.random.default_rng(20261203)
    # engaged after an exponential lag of mean 10 days: median 10 ln 2
    true_rate, true_deal, true_lag, n = 0.3, 1000.0, 10 * math.log(2), 300
    covered_rate = covered_deal = covered_lag = 0
    runs = 200
    for run in range(runs):
        engaged = rng.random(n) < true_rate
        lag = pd.to_timedelta(rng.exponential(10, n), "D")
        won = engaged & (rng.random(n) < 0.5)
        frame = pd.DataFrame(
            {
                "account_id": np.arange(n),
                "tier": 1,
                "playbook_id": np.nan,
                "targeted_at": pd.Series([T0] * n, dtype="datetime64[ns]"),
                "engaged_at": pd.Series(T0 + lag).where(engaged).astype("datetime64[ns]"),
                "mqa_at": pd.Series(np.where(won, T0 + 2 * DAY, pd.NaT), dtype="datetime64[ns]"),
                "opportunity_at": pd.Series(
                    np.where(won, T0 + 3 * DAY, pd.NaT), dtype="datetime64[ns]"
                ),
                "won_at": pd.Series(np.where(won, T0 + 4 * DAY, pd.NaT), dtype="datetime64[ns]"),
                "won_amount": np.where(won, rng.normal(true_deal, 300, n), 0.0),
            }
        )
        rates = estimate_rates(frame, draws=400, seed=run)[None]
        est = rates.conversion["targeted->engaged"]
        covered_rate += est.low <= true_rate <= est.high
        covered_deal += rates.deal_size.low <= true_deal <= rates.deal_size.high
        lags = rates.lag_days["targeted->engaged"]
        covered_lag += lags.low <= true_lag <= lags.high
    assert 0.70 <= covered_rate / runs <= 0.90
    assert 0.70 <= covered_deal / runs <= 0.90
    assert 0.70 <= covered_lag / runs <= 0.90


def test_the_forecast_carries_the_run_rate_down_the_funnel():
    plan = plan_backwards(
        target=100_000,
        kind="revenue",
        months=JAN_FEB,
        assumptions=ASSUMED,
        costs=COSTS,
        pool=POOL,
    )
    ahead = forecast(
        actual_by_stage={"targeted": 300, "engaged": 30, "mqa": 10, "opportunity": 5, "won": 2},
        plan=plan,
        elapsed_share=0.5,
        rates_since=None,
    )
    # engaged 30 / .5 = 60; mqa 10 + (60 - 30) x .4 = 22; opportunity 5 + (22 - 10) x .5 = 11;
    # won 2 + (11 - 5) x .5 = 5; revenue 5 x 10,000
    assert ahead["engaged"].value == pytest.approx(60)
    assert ahead["mqa"].value == pytest.approx(22)
    assert ahead["opportunity"].value == pytest.approx(11)
    assert ahead["won"].value == pytest.approx(5)
    assert ahead["revenue"].value == pytest.approx(50_000)


def test_the_forecast_uses_the_rates_since_the_plan_with_their_range():
    plan = plan_backwards(
        target=100_000,
        kind="revenue",
        months=JAN_FEB,
        assumptions=ASSUMED,
        costs=COSTS,
        pool=POOL,
    )
    since = estimate_rates(TEN, min_accounts=1, draws=200)[None]
    ahead = forecast(
        actual_by_stage={"engaged": 30, "mqa": 10, "opportunity": 5, "won": 2},
        plan=plan,
        elapsed_share=0.5,
        rates_since=since,
    )
    # mqa 10 + (60 - 30) x .5 (engaged->mqa measured since: 3/6)
    assert ahead["mqa"].value == pytest.approx(25)
    assert ahead["mqa"].low < 25 < ahead["mqa"].high


def test_a_rate_counts_only_the_accounts_that_have_had_the_time_to_convert():
    # Opportunities 200 days before today: two won after 10 and 30 days, two not. Three opened
    # 5 days ago: one won after 2 days, two still open. Lags 2, 10, 30: 90th percentile 26
    # days (10 + .8 x 20), so the three recent ones have not had their cohort's time yet.
    old = [(1, 4, (0, 0, 0, 100, 100 + d), 1000.0) for d in (10, 30)]
    old += [(1, 3, (0, 0, 0, 100, 0), 0.0)] * 2
    recent = [(1, 4, (0, 0, 0, 295, 297), 1000.0)] + [(1, 3, (0, 0, 0, 295, 0), 0.0)] * 2
    frame = journeys(old + recent)
    today = T0 + 300 * DAY
    naive = estimate_rates(frame, min_accounts=1, draws=50)[None].conversion["opportunity->won"]
    assert (naive.value, naive.accounts) == (pytest.approx(3 / 7), 7)
    mature = estimate_rates(frame, min_accounts=1, draws=50, as_of=today)[None]
    won = mature.conversion["opportunity->won"]
    assert (won.value, won.accounts) == (pytest.approx(2 / 4), 4)
    # Earlier steps took no time: every account has had it.
    assert mature.conversion["mqa->opportunity"].accounts == 7
    # The lags still rest on every account that made the step.
    assert mature.lag_days["opportunity->won"].accounts == 3


def test_the_rates_since_a_plan_follow_the_cohorts_that_entered_a_step_since():
    # The plan started on day 50. Four deals opened on day 10, three of them won on day 60: won
    # since the plan, but not a cohort of it. Two opened on day 55, one won on day 58.
    before = [(1, 4, (0, 0, 0, 10, 60), 1000.0)] * 3 + [(1, 3, (0, 0, 0, 10, 0), 0.0)]
    since = [(1, 4, (0, 0, 0, 55, 58), 1000.0), (1, 3, (0, 0, 0, 55, 0), 0.0)]
    frame = journeys(before + since)
    rates = rates_for_scope(
        frame, tiers=(1,), min_accounts=1, draws=50, as_of=T0 + 400 * DAY, since=T0 + 50 * DAY
    )
    won = rates.conversion["opportunity->won"]
    assert (won.value, won.accounts) == (pytest.approx(1 / 2), 2)
    # Nobody reached mqa since the plan: no rate to measure yet.
    assert rates.conversion["mqa->opportunity"].accounts == 0
