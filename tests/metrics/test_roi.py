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
    # The playbook line goes whole to account 1, the playbook's only cost in January.
    assert len(spend) == 5


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (
            "channel",
            {"display": 300, "email": 150, "event": 400, roi.UNALLOCATED: 1000},
        ),
        ("playbook_id", {5: 1150, None: 700}),
        # Account 1 (tier 1) carries playbook 5's January line; no display cost in February
        # leaves the display line unallocated (NA).
        ("tier", {1: 1500, 0: 50, None: 300}),
        ("month", {pd.Timestamp("2026-01-01"): 1500, pd.Timestamp("2026-02-01"): 350}),
    ],
)
def test_spend_splits_by_each_dimension(frames, by, expected):
    spend, _, _ = frames
    sums = spend.groupby(by, dropna=False)["amount"].sum()
    got = {(None if pd.isna(k) else k): v for k, v in sums.items()}
    assert got == expected


def test_a_playbook_line_without_channel_counts_under_channel_unallocated(frames):
    spend, _, _ = frames
    line = spend.loc[spend["channel"] == roi.UNALLOCATED].iloc[0]
    assert line["playbook_id"] == 5
    assert (line["account_id"], line["tier"], line["owner_id"]) == (1, 1, 7)


def test_a_line_without_activity_cost_in_its_month_stays_on_no_account(frames):
    spend, _, _ = frames
    line = spend.loc[spend["channel"] == "display"].iloc[0]
    assert line["amount"] == 300
    assert pd.isna(line["account_id"])
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
        ("tier", 1, (6000 - 1500) / 1500, 6000 / 1500),
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


def test_accounts_that_reached_engaged_share_out_over_their_touches_in_the_window():
    # Account 1 reached engaged on Jan 15, between its email (Jan 10) and its event (Jan 20):
    # only the email came before. Account 2 on Feb 4, after its email and its visit; account 3
    # untouched.
    reached = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "engaged_at": [ts("2026-01-15"), ts("2026-02-04"), ts("2026-02-15")],
        }
    )
    rows = roi.reached_rows(ACTIVITIES, reached, ACCOUNTS, "engaged", window_days=180)
    assert rows["engaged"].sum() == 3  # every account once, whatever its touches
    sums = rows.groupby(["channel", "tier"])["engaged"].sum().to_dict()
    assert sums == {("", 2): 1.0, ("content", 0): 0.5, ("email", 0): 0.5, ("email", 1): 1.0}
    months = rows.groupby("month")["engaged"].sum().to_dict()
    assert months == {pd.Timestamp("2026-01-01"): 1.0, pd.Timestamp("2026-02-01"): 2.0}


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


# --- Budget lines shared out under filters (DOMAIN.md "Money") --------------------------------

SHARE_ACCOUNTS = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4],
        "tier": [1.0, None, 2.0, 1.0],
        "owner_id": [7.0, 8.0, None, 8.0],
    }
)
# March: playbook 9 costs 300 (account 1, email) + 100 (account 4, email) + 100 (account 2,
# linkedin); a webinar outside playbooks costs 200 (account 3). April: a webinar for account 1.
SHARE_ACTIVITIES = pd.DataFrame(
    {
        "account_id": [1, 4, 2, 3, 1],
        "channel": ["email", "email", "linkedin", "webinar", "webinar"],
        "occurred_at": [
            ts("2026-03-02"),
            ts("2026-03-09"),
            ts("2026-03-20"),
            ts("2026-03-25"),
            ts("2026-04-02"),
        ],
        "cost": [300.0, 100.0, 100.0, 200.0, 600.0],
        "playbook_id": [9.0, 9.0, 9.0, None, None],
    }
)
SHARE_BUDGET = pd.DataFrame(
    {
        # 1000 over playbook 9's March cost 300/100/100: 600 / 200 / 200 to accounts 1, 4, 2.
        # 400 on webinars in March: all to account 3. 80 on playbook 9's March email (300 and
        # 100): 60 / 20 to accounts 1 and 4. 250 on direct mail and 70 on playbook 9 in May:
        # no such cost in their month, so unallocated.
        "playbook_id": [9.0, None, 9.0, None, 9.0],
        "channel": ["", "webinar", "email", "direct_mail", ""],
        "date": [
            pd.Timestamp(d).date()
            for d in ("2026-03-15", "2026-03-01", "2026-03-31", "2026-03-10", "2026-05-02")
        ],
        "amount": [1000.0, 400.0, 80.0, 250.0, 70.0],
    }
)
# Activities 1300 + budget lines 1800.
SHARE_TOTAL = 3100.0


@pytest.fixture
def shared():
    return roi.spend_rows(SHARE_ACTIVITIES, SHARE_BUDGET, SHARE_ACCOUNTS)


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        # Tier 1 = accounts 1 and 4: 300 + 600 + 100 activities, 600 + 60 + 200 + 20 budget.
        ("tier", {1: 1880, 0: 300, 2: 600, None: 320}),
        # Owner 7 = account 1: 900 + 660; owner 8 = accounts 2 (100 + 200) and 4 (100 + 220);
        # no owner: account 3 (200 + 400) and the 320 unallocated.
        ("owner_id", {7: 1560, 8: 620, None: 920}),
        ("account_id", {1: 1560, 2: 300, 3: 600, 4: 320, None: 320}),
    ],
)
def test_slices_include_their_share_of_budget_and_add_up_to_the_total(shared, by, expected):
    sums = shared.groupby(by, dropna=False)["amount"].sum()
    got = {(None if pd.isna(k) else k): v for k, v in sums.items()}
    assert got == pytest.approx(expected)
    assert sum(expected.values()) == SHARE_TOTAL
    assert shared["amount"].sum() == pytest.approx(SHARE_TOTAL)


def test_shares_keep_the_lines_own_channel_playbook_and_month(shared):
    budget = shared.loc[shared["account_id"].isin([1, 4]) & (shared["channel"] == "email")]
    budget = budget.loc[budget["lines"] < 1]  # the 80 line, shared 3:1
    assert sorted(budget["amount"]) == pytest.approx([20, 60])
    assert set(budget["playbook_id"]) == {9}
    assert set(budget["month"]) == {pd.Timestamp("2026-03-01")}
    # Each line counts once in all, however it is shared out.
    assert shared["lines"].sum() == pytest.approx(len(SHARE_ACTIVITIES) + len(SHARE_BUDGET))


def test_unallocated_lines_stay_whole_with_their_channel_and_playbook(shared):
    unallocated = shared.loc[shared["account_id"].isna()]
    lines = sorted(
        (channel, None if pd.isna(playbook) else int(playbook), amount)
        for channel, playbook, amount in zip(
            unallocated["channel"], unallocated["playbook_id"], unallocated["amount"], strict=True
        )
    )
    assert lines == [("direct_mail", None, 250.0), (roi.UNALLOCATED, 9, 70.0)]
    assert unallocated["tier"].isna().all()
    assert unallocated["owner_id"].isna().all()


def test_a_line_without_cost_on_its_key_is_shared_by_activity_count():
    # Content downloads cost nothing: 1 by account 2 and 3 by account 3 in March, 1 by account 1
    # in February. A 400 content budget in March goes 100 / 300 to accounts 2 and 3; the 250
    # direct-mail line (no direct-mail activity at all) still stays on no account.
    downloads = pd.DataFrame(
        {
            "account_id": [2, 3, 3, 3, 1],
            "channel": "content",
            "occurred_at": [ts(f"2026-03-{day:02}") for day in (3, 4, 5, 6)] + [ts("2026-02-27")],
            "cost": 0.0,
            "playbook_id": None,
        }
    )
    content = pd.DataFrame(
        {
            "playbook_id": [None],
            "channel": ["content"],
            "date": [pd.Timestamp("2026-03-20").date()],
            "amount": [400.0],
        }
    )
    rows = roi.spend_rows(
        pd.concat([SHARE_ACTIVITIES, downloads], ignore_index=True),
        pd.concat([SHARE_BUDGET, content], ignore_index=True),
        SHARE_ACCOUNTS,
    )

    shares = rows.loc[rows["channel"] == "content"]
    assert dict(zip(shares["account_id"], shares["amount"], strict=True)) == {2: 100.0, 3: 300.0}
    assert shares["lines"].sum() == pytest.approx(1.0)
    assert rows["amount"].sum() == pytest.approx(SHARE_TOTAL + 400.0)
    # The costed lines keep their cost key: the downloads do not dilute them.
    email = rows.loc[(rows["channel"] == "email") & (rows["lines"] < 1)]
    assert sorted(email["amount"]) == pytest.approx([20, 60])
    unallocated = rows.loc[rows["account_id"].isna()]
    assert sorted(unallocated["amount"]) == [70.0, 250.0]


def test_roi_under_a_tier_counts_the_tiers_share_of_budget(shared):
    # Deal won by account 1 (tier 1) in March, all credited to playbook 9's email.
    credits = roi.credit_rows(
        pd.DataFrame(
            {
                "model": "linear",
                "kind": ["pipeline", "revenue"],
                "account_id": [1, 1],
                "converted_at": [ts("2026-03-05"), ts("2026-03-28")],
                "channel": ["email", "email"],
                "playbook_id": [9.0, 9.0],
                "weight": [1.0, 1.0],
                "credit": [5000.0, 5000.0],
            }
        ),
        SHARE_ACCOUNTS,
    )
    no_mqa = shared.iloc[:0].assign(mqa=0.0)
    table = roi.roi_table(shared, credits, no_mqa, by=["tier"]).set_index("tier")
    # (5000 - 1880) / 1880; pipeline 5000 / 1880; one deal: 1880 per opportunity.
    assert table.loc[1, "roi"] == pytest.approx((5000 - 1880) / 1880)
    assert table.loc[1, "pipeline_ratio"] == pytest.approx(5000 / 1880)
    assert table.loc[1, "cost_per_opportunity"] == pytest.approx(1880)
    assert table.loc[2, "roi"] == pytest.approx(-1)


@pytest.mark.parametrize(
    "by", [["channel"], ["playbook_id"], ["tier", "month"], ["owner_id", "channel", "tier"]]
)
def test_the_groups_are_pandas_groups_sorted_with_the_missing_key_last(frames, by):
    """roi_table groups with numpy: against pandas' own groupby of the same rows, each part's
    measure summed per key (a missing key a group of its own), keys sorted, NA last."""
    spend, credits, mqa = frames
    # The dashboards' rows: keys as plain objects, a missing one None (dashboards/figures.py).
    spend = spend.assign(
        playbook_id=spend["playbook_id"].astype(object).where(spend["playbook_id"].notna(), None)
    )
    pipeline, revenue = credits["kind"] == "pipeline", credits["kind"] == "revenue"
    parts = [
        spend[by].assign(spend=spend["amount"]),
        credits.loc[pipeline, by].assign(
            pipeline=credits.loc[pipeline, "credit"], opportunities=credits.loc[pipeline, "weight"]
        ),
        credits.loc[revenue, by].assign(revenue=credits.loc[revenue, "credit"]),
        mqa[by].assign(mqa=mqa["mqa"]),
    ]
    measures = ["spend", "pipeline", "revenue", "opportunities", "mqa"]
    expected = (
        pd.concat(parts, ignore_index=True)
        .groupby(by, dropna=False)[measures]
        .sum()
        .sort_index(na_position="last")
        .reset_index()
    )
    table = roi.roi_table(spend, credits, mqa, by=by)
    assert len(table) == len(expected)
    for key in by:  # same groups in the same order
        got, want = table[key].astype(object), expected[key].astype(object)
        assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in want]
    for measure in measures:
        assert table[measure].tolist() == pytest.approx(expected[measure].tolist())
    missing = table.index[table[by[0]].isna()].tolist()
    assert missing == list(range(len(table) - len(missing), len(table)))  # last
