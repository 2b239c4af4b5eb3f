"""The period-end forecast of plan vs actual (issue #18): the accounts in flight and those still
to come, each converting when its lag lets it land in time. Hand-computed figures in the
comments; a simulated funnel checks the forecast against where the period really ended."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from metrics.engine.compute.planning import (
    Estimate,
    Pipeline,
    StageRates,
    forecast,
    pipeline_from_journeys,
    plan_backwards,
)
from tests.metrics.test_planning_compute import ASSUMED, COSTS, JAN_FEB, POOL

NOW = pd.Timestamp("2027-01-31")
STAGES = ("engaged", "mqa", "opportunity", "won")


def _plan(assumptions=ASSUMED):
    return plan_backwards(
        target=100_000,
        kind="revenue",
        months=JAN_FEB,
        assumptions=assumptions,
        costs=COSTS,
        pool=POOL,
    )


def test_deals_in_flight_and_deals_to_come_land_by_their_lags():
    # opportunity -> won: 5 deals won after 10 days, 5 after 30: F = 0 below 10 days, 1/2 up to
    # 30, then 1. Three open deals, 0, 15 and 40 days old, 20 days before the period ends.
    pipeline = Pipeline(
        waiting={"engaged->mqa": np.array([5.0]), "opportunity->won": np.array([0.0, 15, 40])},
        lags={"opportunity->won": np.array([10.0] * 5 + [30.0] * 5)},
        remaining_days=20,
    )
    ahead = forecast(
        actual_by_stage={"engaged": 30, "mqa": 10, "opportunity": 5, "won": 2, "revenue": 25_000},
        plan=_plan(),
        elapsed_share=0.5,
        rates_since=None,
        pipeline=pipeline,
    )
    # engaged 30 / .5 = 60. engaged -> mqa and mqa -> opportunity assume lag 0: whoever is still
    # waiting will not convert (the engaged account of 5 days adds 0), whoever comes converts at
    # once: mqa 10 + 30 x .4 = 22; opportunity 5 + 12 x .5 = 11.
    assert ahead["mqa"].value == pytest.approx(22)
    assert ahead["opportunity"].value == pytest.approx(11)
    # In flight: .5 x (F(20) - F(0)) / 1 = .25; .5 x (F(35) - F(15)) / (1 - .5 x .5) = 1/3;
    # the 40-day deal: F is 1 already, 0. To come: 11 - 5 = 6 deals x .5, landing in time
    # (1/20) x int_0^20 F = (5 x 10 + 5 x 0) / 10 / 20 = .25 of them: .75. Won 2 + 7/12 + .75.
    won = 2 + 0.25 + 1 / 3 + 0.75
    assert ahead["won"].value == pytest.approx(won)
    # Revenue: the 25,000 won so far and the deals still to win at the plan's 10,000.
    assert ahead["revenue"].value == pytest.approx(25_000 + (won - 2) * 10_000)


def test_the_median_lags_range_widens_the_forecasts_range():
    # The pipeline above; since the plan, opportunity -> won's median lag measured 20 days
    # (10 - 40): the low end stretches every lag x 2, the high end x 1/2. Rates as assumed.
    pipeline = Pipeline(
        waiting={"opportunity->won": np.array([0.0, 15, 40])},
        lags={"opportunity->won": np.array([10.0] * 5 + [30.0] * 5)},
        remaining_days=20,
    )
    since = StageRates(
        conversion={},
        lag_days={"opportunity->won": Estimate(20.0, 10.0, 40.0, 10)},
        deal_size=Estimate.exact(10_000),
    )
    ahead = forecast(
        actual_by_stage={"engaged": 30, "mqa": 10, "opportunity": 5, "won": 2},
        plan=_plan(),
        elapsed_share=0.5,
        rates_since=since,
        pipeline=pipeline,
    )
    won = ahead["won"]
    assert won.value == pytest.approx(2 + 0.25 + 1 / 3 + 0.75)  # as above
    # x 2 (lags 20, 60): in flight .5 x .5 / 1 + .5 x .5 / 1 + .5 x (1 - .5) / (1 - .25) = 5/6;
    # none of the 6 to come lands in 20 days.
    assert won.low == pytest.approx(2 + 5 / 6)
    # x 1/2 (lags 5, 15): in flight .5 x 1 = .5 (the others have passed every lag); to come
    # 6 x .5 x (15 x 5 + 5 x 5) / 10 / 20 = 1.5.
    assert won.high == pytest.approx(2 + 0.5 + 1.5)


def test_without_enough_measured_lags_the_assumed_median_stands_in():
    # 31 assumed days for opportunity -> won; 9 measured lags are too few (min 10).
    pipeline = Pipeline(
        waiting={"opportunity->won": np.array([31.0])},
        lags={"opportunity->won": np.array([1.0] * 9)},
        remaining_days=31,
    )
    ahead = forecast(
        actual_by_stage={"engaged": 10, "mqa": 4, "opportunity": 2, "won": 1},
        plan=_plan(),
        elapsed_share=1.0,  # nothing more to come: only the deal in flight
        rates_since=None,
        pipeline=pipeline,
    )
    # F(31) = 1/2, F(62) = 3/4: .5 x (3/4 - 1/2) / (1 - .5 x 1/2) = 1/6
    assert ahead["won"].value == pytest.approx(1 + 1 / 6)


def test_the_pipeline_is_read_off_the_journeys_as_they_stand():
    day = pd.Timedelta(days=1)
    frame = pd.DataFrame(
        {
            "targeted_at": [NOW - 90 * day] * 3,
            "engaged_at": [NOW - 60 * day, NOW - 30 * day, NOW - 5 * day],
            "mqa_at": [NOW - 50 * day, NOW + day, pd.NaT],  # the second's is after now
            "opportunity_at": [pd.NaT] * 3,
            "won_at": [pd.NaT] * 3,
        }
    )
    pipeline = pipeline_from_journeys(frame, NOW, NOW + 10 * day)
    assert pipeline.remaining_days == 10
    assert sorted(pipeline.waiting["engaged->mqa"]) == [5, 30]
    assert list(pipeline.lags["engaged->mqa"]) == [10]
    assert list(pipeline.waiting["mqa->opportunity"]) == [50]
    assert len(pipeline.waiting["opportunity->won"]) == 0


def test_the_lags_are_those_of_the_cohorts_that_have_had_the_time():
    # Two old accounts took 10 and 100 days from engaged to mqa; one engaged 20 days ago took
    # 10: its slower peers have not converted yet. The 90th-percentile lag is 82 days, so only
    # the accounts engaged 82 days ago or earlier count: 10 and 100, not 10, 10 and 100.
    day = pd.Timedelta(days=1)
    frame = pd.DataFrame(
        {
            "targeted_at": [NOW - 300 * day] * 3,
            "engaged_at": [NOW - 200 * day, NOW - 200 * day, NOW - 20 * day],
            "mqa_at": [NOW - 190 * day, NOW - 100 * day, NOW - 10 * day],
            "opportunity_at": [pd.NaT] * 3,
            "won_at": [pd.NaT] * 3,
        }
    )
    pipeline = pipeline_from_journeys(frame, NOW, NOW + 10 * day)
    assert list(pipeline.lags["engaged->mqa"]) == [10, 100]


RATES, MEDIANS = (0.5, 0.5, 0.5), (10.0, 20.0, 30.0)
TRUE = dataclasses.replace(
    ASSUMED,
    conversion={
        **ASSUMED.conversion,
        **dict(zip(("engaged->mqa", "mqa->opportunity", "opportunity->won"), RATES, strict=True)),
    },
    lag_days={
        **ASSUMED.lag_days,
        **dict(zip(("engaged->mqa", "mqa->opportunity", "opportunity->won"), MEDIANS, strict=True)),
    },
)


def _simulated(rng, per_day_before, per_day_in, *, today, days=180.0, history=400.0):
    """A funnel with the TRUE rates and exponential lags: accounts become engaged at one pace
    over ``history`` days before the period and another in it. Returns what happened in the
    period, what had happened by ``today`` and the journeys as they stood then."""
    engaged = np.concatenate(
        [
            rng.uniform(-history, 0, rng.poisson(per_day_before * history)),
            rng.uniform(0, days, rng.poisson(per_day_in * days)),
        ]
    )
    at, reached = {"engaged": engaged}, engaged
    for stage, rate, median in zip(STAGES[1:], RATES, MEDIANS, strict=True):
        converts = rng.random(len(engaged)) < rate
        lag = rng.exponential(median / np.log(2), len(engaged))
        reached = np.where(converts, reached + lag, np.nan)
        at[stage] = reached
    period = {s: float(((at[s] >= 0) & (at[s] < days)).sum()) for s in STAGES}
    so_far = {s: float(((at[s] >= 0) & (at[s] < today)).sum()) for s in STAGES}
    start = pd.Timestamp("2027-01-01")
    known = {s: np.where(at[s] <= today, at[s], np.nan) for s in STAGES}
    frame = pd.DataFrame({f"{s}_at": start + pd.to_timedelta(known[s], unit="D") for s in STAGES})
    frame["targeted_at"] = frame["engaged_at"]
    pipeline = pipeline_from_journeys(
        frame, start + pd.Timedelta(days=today), start + pd.Timedelta(days=days)
    )
    return period, so_far, pipeline


@pytest.mark.parametrize(
    ("before", "during", "tolerance"),
    [
        (2.0, 2.0, 0.03),  # a steady funnel
        (4.0, 1.0, 0.07),  # a big pipeline built before the period, then a slower pace
        (0.5, 3.0, 0.07),  # a programme ramping up as the period starts
    ],
)
def test_a_month_in_the_forecast_lands_near_where_the_period_ends(before, during, tolerance):
    rng = np.random.default_rng(7)
    plan, today, days = _plan(TRUE), 30.0, 180.0
    ended, forecasts = {s: 0.0 for s in STAGES}, {s: 0.0 for s in STAGES}
    for _ in range(150):
        period, so_far, pipeline = _simulated(rng, before, during, today=today, days=days)
        ahead = forecast(
            actual_by_stage=so_far,
            plan=plan,
            elapsed_share=today / days,
            rates_since=None,
            pipeline=pipeline,
        )
        for s in STAGES:
            ended[s] += period[s]
            forecasts[s] += ahead[s].value
    for s in STAGES[1:]:
        assert forecasts[s] / ended[s] == pytest.approx(1, abs=tolerance), s
