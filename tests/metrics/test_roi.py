"""Spend and ROI (DOMAIN.md "Money"); every expected number is worked out by hand below."""

import math

import pandas as pd
import pytest

from metrics import roi

NAN = math.nan


def ts(value: str) -> pd.Timestamp:
    return pd.Timestamp(value, tz="UTC")


ACCOUNTS = pd.DataFrame(
    {"account_id": [1, 2, 3], "tier": [1.0, None, 2.0], "owner_id": [7.0, 8.0, None]}
)
# Playbook 5 has an email step; the event touch is outside playbooks; the visit costs nothing.
ACTIVITIES = pd.DataFrame(
    {
        "account_id": [1, 1, 2, 2],
        "channel": ["email", "event", "email", "content"],
        "occurred_at": [
            ts("2026-01-10"),
            ts("2026-01-20"),
            ts("2026-02-03"),
            ts("2026-02-03 10:00"),
        ],
        "cost": [100.0, 400.0, 50.0, 0.0],
        "playbook_id": [5.0, None, 5.0, None],
    }
)
BUDGET = pd.DataFrame(
    {
        "playbook_id": [5.0, None],
        "channel": ["", "display"],
        "date": [pd.Timestamp("2026-01-01").date(), pd.Timestamp("2026-02-01").date()],
        "amount": [1000.0, 300.0],
    }
)
# Linear credits: deal 11 (account 1, 6000) half email/playbook 5, half event; deal 12
# (account 2, 1000) all email/playbook 5, not won.
CREDITS = pd.DataFrame(
    {
        "model": "linear",
        "kind": ["pipeline", "pipeline", "revenue", "revenue", "pipeline"],
        "account_id": [1, 1, 1, 1, 2],
        "converted_at": [
            ts("2026-01-25"),
            ts("2026-01-25"),
            ts("2026-02-10"),
            ts("2026-02-10"),
            ts("2026-02-05"),
        ],
        "channel": ["email", "event", "email", "event", "email"],
        "playbook_id": [5.0, None, 5.0, None, 5.0],
        "weight": [0.5, 0.5, 0.5, 0.5, 1.0],
        "credit": [3000.0, 3000.0, 3000.0, 3000.0, 1000.0],
    }
)
# Account 1 became mqa after both its touches, account 2 after its email and its visit,
# account 3 untouched.
BECAME_MQA = pd.DataFrame(
    {
        "account_id": [1, 2, 3],
        "mqa_at": [ts("2026-01-22"), ts("2026-02-04"), ts("2026-02-15")],
    }
)


@pytest.fixture
def frames():
    spend = roi.spend_rows(ACTIVITIES, BUDGET, ACCOUNTS)
    credits = roi.credit_rows(CREDITS, ACCOUNTS)
    mqa = roi.mqa_rows(ACTIVITIES, BECAME_MQA, ACCOUNTS, window_days=180)
    return spend, credits, mqa


def test_spend_is_activity_costs_plus_budget_lines(frames):
    spend, _, _ = frames
    # 100 + 400 + 50 from activities (the free visit adds nothing), 1000 + 300 from budget lines.
    assert spend["amount"].sum() == 1850
    assert len(spend) == 5


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (
            "channel",
            {"display": 300, "email": 150, "event": 400, roi.UNALLOCATED: 1000},
        ),
        ("playbook_id", {5: 1150, None: 700}),
        ("tier", {1: 500, 0: 50, None: 1300}),
        ("month", {pd.Timestamp("2026-01-01"): 1500, pd.Timestamp("2026-02-01"): 350}),
    ],
)
def test_spend_splits_by_each_dimension(frames, by, expected):
    spend, _, _ = frames
    sums = spend.groupby(by, dropna=False)["amount"].sum()
    got = {(None if pd.isna(k) else k): v for k, v in sums.items()}
    assert got == expected


def test_a_playbook_line_without_channel_is_unallocated_and_belongs_to_no_account(frames):
    spend, _, _ = frames
    line = spend.loc[spend["channel"] == roi.UNALLOCATED].iloc[0]
    assert line["playbook_id"] == 5
    assert pd.isna(line["tier"])
    assert pd.isna(line["owner_id"])


ROI_BY_CHANNEL = {
    # channel: spend, pipeline, revenue, roi, pipeline ratio, opportunities, cost/opp, mqa, cost/mqa
    "": (0, 0, 0, NAN, NAN, 0, NAN, 1, 0),
    "content": (0, 0, 0, NAN, NAN, 0, NAN, 0.5, 0),
    "display": (300, 0, 0, -1, 0, 0, NAN, 0, NAN),
    # (3000 - 150) / 150 = 19; 4000 / 150; 0.5 + 1 deals; 150 / 1.5; mqa 0.5 + 0.5; 150 / 1.
    "email": (150, 4000, 3000, 19, 4000 / 150, 1.5, 100, 1.0, 150),
    # (3000 - 400) / 400 = 6.5; 3000 / 400 = 7.5; 400 / 0.5 = 800.
    "event": (400, 3000, 3000, 6.5, 7.5, 0.5, 800, 0.5, 800),
    roi.UNALLOCATED: (1000, 0, 0, -1, 0, 0, NAN, 0, NAN),
}


@pytest.mark.parametrize("channel", ROI_BY_CHANNEL)
def test_roi_per_channel(frames, channel):
    table = roi.roi_table(*frames, by=["channel"]).set_index("channel")
    assert tuple(table.loc[channel, list(roi.COLUMNS)]) == pytest.approx(
        ROI_BY_CHANNEL[channel], nan_ok=True
    )


def test_roi_in_total(frames):
    table = roi.roi_table(*frames)
    # (6000 - 1850) / 1850; 7000 / 1850; 2 deals; 1850 / 2; 3 mqa accounts; 1850 / 3.
    assert tuple(table.loc[0, list(roi.COLUMNS)]) == pytest.approx(
        (1850, 7000, 6000, 4150 / 1850, 7000 / 1850, 2, 925, 3, 1850 / 3)
    )


@pytest.mark.parametrize(
    ("by", "key", "expected_roi", "expected_ratio"),
    [
        ("tier", 1, (6000 - 500) / 500, 6000 / 500),
        ("tier", 0, -1, 1000 / 50),
        ("tier", None, -1, 0),
        # Deal 11's revenue closed in February, its pipeline in January.
        ("month", pd.Timestamp("2026-01-01"), -1, 6000 / 1500),
        ("month", pd.Timestamp("2026-02-01"), (6000 - 350) / 350, 1000 / 350),
        ("playbook_id", 5, (3000 - 1150) / 1150, 4000 / 1150),
        ("owner_id", 8, -1, 1000 / 50),
    ],
)
def test_roi_per_tier_month_playbook_and_owner(frames, by, key, expected_roi, expected_ratio):
    table = roi.roi_table(*frames, by=[by])
    row = table.loc[table[by].isna()] if key is None else table.loc[table[by] == key]
    assert len(row) == 1
    assert row["roi"].iloc[0] == pytest.approx(expected_roi)
    assert row["pipeline_ratio"].iloc[0] == pytest.approx(expected_ratio)


def test_roi_is_undefined_without_spend():
    spend = roi.spend_rows(ACTIVITIES.iloc[:0], BUDGET.iloc[:0], ACCOUNTS)
    table = roi.roi_table(spend, roi.credit_rows(CREDITS, ACCOUNTS), spend.assign(mqa=0.0))
    assert math.isnan(table.loc[0, "roi"])
    assert math.isnan(table.loc[0, "pipeline_ratio"])
    assert table.loc[0, "revenue"] == 6000


def test_mqa_accounts_are_credited_linearly_over_their_touches(frames):
    _, _, mqa = frames
    per_account = mqa.groupby(["channel", "tier"], dropna=False)["mqa"].sum().to_dict()
    # Account 1 (tier 1): email and event, half each; account 2 (tier 0): email and visit,
    # half each; account 3 (tier 2) had no touch.
    assert per_account == {
        ("", 2): 1.0,
        ("content", 0): 0.5,
        ("email", 0): 0.5,
        ("email", 1): 0.5,
        ("event", 1): 0.5,
    }


def test_touches_outside_the_window_do_not_share_the_mqa(frames):
    mqa = roi.mqa_rows(ACTIVITIES, BECAME_MQA, ACCOUNTS, window_days=5)
    # Inside: account 1's event (2 days before); account 2's email and visit (1 day before).
    sums = mqa.groupby("channel")["mqa"].sum().to_dict()
    assert sums == {"": 1.0, "content": 0.5, "email": 0.5, "event": 1.0}


def test_credits_of_several_models_are_refused(frames):
    spend, credits, mqa = frames
    mixed = pd.concat([credits, credits.assign(model="first_touch")])
    with pytest.raises(ValueError, match="one attribution model"):
        roi.roi_table(spend, mixed, mqa)


def test_summed_rows_give_the_same_table(frames):
    """The dashboards pass the monthly rollups instead of raw rows: same numbers."""
    spend, credits, mqa = frames
    dims = list(roi.DIMENSIONS)
    rolled = (
        spend.groupby(dims, dropna=False)["amount"].sum().reset_index(),
        credits.groupby(["kind", *dims], dropna=False)[["credit", "weight"]].sum().reset_index(),
        mqa.groupby(dims, dropna=False)["mqa"].sum().reset_index(),
    )
    for by in (["channel"], ["tier", "month"], []):
        pd.testing.assert_frame_equal(roi.roi_table(*rolled, by=by), roi.roi_table(*frames, by=by))
