"""Pure dashboard figures against hand-computed cases (DOMAIN.md "Money", "Lift")."""

import datetime as dt
import math

import pandas as pd
import pytest
from django.http import QueryDict

from dashboards import figures as fig
from dashboards.filters import DashboardFilters, add_months, parse_filters, preset_range


def _rows(records):
    return pd.DataFrame.from_records(records)


def test_money_totals_follow_the_domain_definitions():
    credit = _rows(
        [
            {"metric": "credit", "kind": "pipeline", "value": 900.0, "count": 3.0},
            {"metric": "credit", "kind": "revenue", "value": 150.0, "count": 1.0},
        ]
    )
    spend = _rows(
        [
            {"metric": "spend", "channel": "email", "value": 60.0, "count": 2.0},
            {"metric": "spend", "channel": "unallocated", "value": 40.0, "count": 1.0},
            {"metric": "mqa", "channel": "email", "value": 1.5, "count": 3.0},
            {"metric": "mqa", "channel": "", "value": 2.5, "count": 0.0},
        ]
    )

    totals = fig.money_totals(credit, spend)

    assert totals["spend"] == 100.0
    assert totals["roi"] == pytest.approx(0.5)  # (150 - 100) / 100
    assert totals["pipeline_ratio"] == pytest.approx(9.0)  # 900 / 100
    assert totals["cost_per_opportunity"] == pytest.approx(100 / 3)
    # In the total, untouched mqa accounts count too: 100 / (1.5 + 2.5).
    assert totals["cost_per_mqa"] == pytest.approx(25.0)
    assert fig.money_totals(credit, spend.iloc[:0])["roi"] is None


def test_change_is_relative_to_the_previous_period():
    assert fig.change(120.0, 100.0) == pytest.approx(0.2)
    assert fig.change(120.0, 0.0) is None


def test_channel_rows_keep_touches_outside_a_channel_and_compute_roi():
    credit = _rows(
        [
            {"metric": "credit", "kind": "pipeline", "channel": "email", "value": 300.0},
            {"metric": "credit", "kind": "revenue", "channel": "email", "value": 120.0},
            {"metric": "credit", "kind": "pipeline", "channel": "event", "value": 500.0},
        ]
    )
    spend = _rows(
        [
            {"metric": "spend", "channel": "event", "value": 200.0},
            {"metric": "spend", "channel": None, "value": 50.0},
        ]
    )

    rows = {r["channel"]: r for r in fig.records(fig.by_channel(credit, spend))}

    assert list(rows) == ["event", "email", None]
    assert rows["event"]["roi"] == pytest.approx(-1.0)  # (0 - 200) / 200
    assert rows["event"]["pipeline_ratio"] == pytest.approx(2.5)  # 500 / 200
    assert rows["email"]["roi"] is None  # no spend: nothing to divide by
    assert rows[None]["spend"] == 50.0


def test_channel_rows_give_costs_per_opportunity_and_mqa_of_the_channel():
    credit = _rows(
        [{"metric": "credit", "kind": "pipeline", "channel": "email", "value": 300.0, "count": 1.5}]
    )
    spend = _rows(
        [
            {"metric": "spend", "channel": "email", "value": 90.0, "count": 4.0},
            {"metric": "mqa", "channel": "email", "value": 2.0, "count": 4.0},
            {"metric": "mqa", "channel": "", "value": 1.0, "count": 0.0},
        ]
    )

    rows = fig.records(fig.by_channel(credit, spend))

    # 90 / 1.5 deals; 90 / 2 mqa accounts; the untouched mqa account is in no channel's row.
    assert [r["channel"] for r in rows] == ["email"]
    assert rows[0]["cost_per_opportunity"] == pytest.approx(60.0)
    assert rows[0]["cost_per_mqa"] == pytest.approx(45.0)


def test_segment_sums_give_win_rates_deal_size_cycle_and_lift():
    # Targets (tier 1): 3 won for 300 with 90 cycle days in all, 1 lost, 2 open; 10 accounts.
    # Non-targets: 1 won for 50 after 10 days, 3 lost; 40 accounts.
    deals = _rows(
        [
            {"metric": "won", "tier": 1, "segment": "engaged", "value": 300.0, "count": 3},
            {"metric": "lost", "tier": 1, "segment": "engaged", "value": 0.0, "count": 1},
            {"metric": "open", "tier": 1, "segment": "engaged", "value": 80.0, "count": 2},
            {"metric": "cycle_days", "tier": 1, "segment": "engaged", "value": 90.0, "count": 3},
            {"metric": "opportunities", "tier": 1, "segment": "engaged", "value": 480, "count": 6},
            {"metric": "won", "tier": 0, "segment": "", "value": 50.0, "count": 1},
            {"metric": "lost", "tier": 0, "segment": "", "value": 0.0, "count": 3},
            {"metric": "cycle_days", "tier": 0, "segment": "", "value": 10.0, "count": 1},
            {"metric": "opportunities", "tier": 0, "segment": "", "value": 250, "count": 4},
        ]
    )
    accounts = _rows(
        [
            {"metric": "accounts", "tier": 1, "segment": "aware", "value": 10.0, "count": 10},
            {"metric": "accounts", "tier": 0, "segment": "", "value": 40.0, "count": 40},
        ]
    )

    sums = fig.segment_sums(deals, accounts)

    target, other = sums.loc["target"], sums.loc["non_target"]
    assert target["win_rate"] == pytest.approx(0.75)  # 3 / (3 + 1)
    assert other["win_rate"] == pytest.approx(0.25)  # 1 / (1 + 3)
    assert target["average_deal_size"] == pytest.approx(100.0)  # 300 / 3
    assert target["cycle_days"] == pytest.approx(30.0)  # 90 / 3
    assert target["velocity"] == pytest.approx(2 * 0.75 * 100 / 30)  # open * rate * size / cycle
    assert target["revenue_per_account"] == pytest.approx(30.0)  # 300 / 10
    assert other["revenue_per_account"] == pytest.approx(1.25)  # 50 / 40
    assert fig.win_rate_lift(sums) == pytest.approx(2.0)  # 0.75 / 0.25 - 1
    assert math.isnan(sums.loc["engaged", "accounts"])
    assert sums.loc["tier_1", "opportunities"] == 6


def test_funnel_steps_carry_the_drop_off_from_the_step_before():
    stages = [("aware", "Aware"), ("engaged", "Engaged"), ("mqa", "MQA"), ("customer", "Customer")]

    rows = fig.funnel_rows({"aware": 10, "engaged": 4, "customer": 1}, stages)

    assert [r["reached"] for r in rows] == [10, 4, 0, 1]
    assert rows[0]["drop_off"] is None
    assert rows[1]["drop_off"] == pytest.approx(0.6)  # 1 - 4 / 10
    assert rows[2]["drop_off"] == pytest.approx(1.0)  # 1 - 0 / 4
    assert rows[3]["drop_off"] is None  # nothing before it to drop from


def test_monthly_rate_is_the_ratio_of_sums_and_a_gap_without_data():
    jan, feb = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    frame = _rows(
        [
            {"metric": "follow_up", "period": jan, "value": 3.0, "count": 4.0},
            {"metric": "follow_up", "period": jan, "value": 1.0, "count": 4.0},
        ]
    )

    assert fig.monthly(frame, [jan, feb], metric="follow_up") == [0.5, None]  # 4 / 8


def test_origin_shares_are_parts_of_all_pipeline_created():
    deals = _rows(
        [
            {"metric": "opportunities", "value": 1000.0, "count": 5},
            {"metric": "sourced", "value": 250.0, "count": 1},
            {"metric": "influenced", "value": 800.0, "count": 4},
        ]
    )

    shares = fig.origin_shares(deals)

    assert shares["sourced_share"] == pytest.approx(0.25)
    assert shares["influenced_share"] == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("last_3_months", "2026-09-01", "2026-11-01"),
        ("last_12_months", "2025-12-01", "2026-11-01"),
        ("this_quarter", "2026-10-01", "2026-11-01"),
        ("last_quarter", "2026-07-01", "2026-09-01"),
        ("this_year", "2026-01-01", "2026-11-01"),
        ("last_year", "2025-01-01", "2025-12-01"),
    ],
)
def test_presets_are_whole_months_counted_back_from_today(preset, start, end):
    first, last = preset_range(preset, dt.date(2026, 11, 22))

    assert (first.isoformat(), last.isoformat()) == (start, end)


def test_previous_period_is_the_equal_run_of_months_before():
    filters = DashboardFilters(preset="custom", start=dt.date(2026, 2, 1), end=dt.date(2026, 4, 1))

    previous = filters.previous

    assert (previous.start, previous.end) == (dt.date(2025, 11, 1), dt.date(2026, 1, 1))
    assert filters.last_day == dt.date(2026, 4, 30)
    assert add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)


def test_custom_months_are_kept_in_the_query(diana):
    data = QueryDict("preset=custom&start=2026-03&end=2026-05&tier=1&model=markov")

    filters = parse_filters(data, user=diana, today=dt.date(2026, 11, 22))

    assert (filters.start, filters.end, filters.months) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 5, 1),
        3,
    )
    assert filters.problems == ()
    assert filters.params() == {
        "preset": "custom",
        "start": "2026-03",
        "end": "2026-05",
        "tier": "1",
        "model": "markov",
    }


def test_a_reps_owner_filter_is_not_a_filter(alice, bob):
    filters = parse_filters(QueryDict(f"owner={bob.pk}"), user=alice, today=dt.date(2026, 11, 22))

    assert filters.owner is None
