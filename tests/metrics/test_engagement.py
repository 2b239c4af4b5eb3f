"""Engagement score against hand-computed values from DOMAIN.md (fixed timestamps)."""

import numpy as np
import pandas as pd
import pytest

from metrics.engagement import score_accounts, score_history, with_capped_points

POINTS = {
    "email_open": 1.0,
    "email_click": 3.0,
    "email_reply": 8.0,
    "web_visit": 2.0,
    "content_download": 5.0,
    "form_fill": 10.0,
    "ad_click": 2.0,
    "ad_impression": 0.1,
    "event_attended": 15.0,
    "webinar_attended": 10.0,
    "meeting": 20.0,
    "call_connected": 5.0,
    "intent_signal": 3.0,
    "email_sent": 0.0,
    "direct_mail_sent": 0.0,
    "call_attempt": 0.0,
    "linkedin_message": 0.0,
}
MULTIPLIERS = {"c_level": 2.0, "vp": 1.5, "director": 1.25, "manager": 1.0, "other": 0.5, None: 1.0}
SETTINGS = {"points": POINTS, "seniority_multipliers": MULTIPLIERS}
NOW = pd.Timestamp("2024-06-30 12:00", tz="UTC")
DAY = pd.Timedelta(days=1)
CHANNEL = {"email": "email", "web": "web_personalisation", "form": "content", "meeting": "phone"}


def activities(*rows):
    """Rows of (kind, when, contact_id, seniority[, account_id[, direction]])."""
    records = []
    for activity_id, (kind, when, contact_id, seniority, *rest) in enumerate(rows, 1):
        account_id = rest[0] if rest else 1
        channel = CHANNEL.get(kind.split("_")[0], "email")
        records.append((activity_id, account_id, contact_id, seniority, channel, kind, when))
    columns = [
        "activity_id",
        "account_id",
        "contact_id",
        "seniority",
        "channel",
        "kind",
        "occurred_at",
    ]
    return pd.DataFrame(records, columns=columns)


def score_of(frame, account_id=1, **params):
    result = score_accounts(frame, NOW, **SETTINGS, **params).set_index("account_id")
    return result.loc[account_id, "score"]


@pytest.mark.parametrize(
    ("kind", "days_ago", "contact_id", "seniority", "expected"),
    [
        ("email_click", 30, None, None, 3 * 0.5),
        ("email_reply", 0, 1, "c_level", 8 * 2.0),
        ("form_fill", 60, 1, "vp", 10 * 1.5 * 0.25),
        ("content_download", 30, 1, "director", 5 * 1.25 * 0.5),
        ("webinar_attended", 15, 1, "manager", 10 * 2**-0.5),
        ("event_attended", 0, 1, "other", 15 * 0.5),
        ("email_click", 0, 1, None, 3.0),  # a contact without seniority counts like no contact
        ("ad_impression", 0, None, None, 0.1),
        ("email_sent", 0, 1, "c_level", 0.0),
        ("linkedin_message", 0, None, None, 0.0),
        ("meeting", 90 - 1 / 86_400, None, None, 20 * 2 ** (-(90 - 1 / 86_400) / 30)),
        ("meeting", 90, None, None, 0.0),  # t - 90d is outside the window
        ("meeting", -1 / 86_400, None, None, 0.0),  # after as_of
    ],
)
def test_score_weights_points_by_seniority_and_halves_every_30_days(
    kind, days_ago, contact_id, seniority, expected
):
    frame = activities((kind, NOW - pd.Timedelta(days=days_ago), contact_id, seniority))

    assert score_of(frame) == pytest.approx(expected, rel=1e-12)


def test_daily_cap_scales_a_days_points_down_to_20_per_kind():
    # 15 web visits (30 raw points) on one day: each keeps 20 / 30 of its 2 points, then decays.
    times = [NOW.normalize() + pd.Timedelta(minutes=45 * i) for i in range(15)]  # 00:00 .. 10:30
    frame = activities(*[("web_visit", when, None, None) for when in times])

    expected = sum(2 * 20 / 30 * 2 ** (-(NOW - t).total_seconds() / 86_400 / 30) for t in times)
    assert score_of(frame) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # Per kind: 20 capped web visits + an uncapped form fill.
        ([("web_visit", NOW, None, None)] * 12 + [("form_fill", NOW, None, None)], 20 + 10),
        # Per day: two days of 30 raw points each.
        (
            [("web_visit", NOW, None, None)] * 15 + [("web_visit", NOW - DAY, None, None)] * 15,
            20 + 20 * 2 ** (-1 / 30),
        ),
        # The cap applies to w * m: a C-level meeting is 40 raw points.
        ([("meeting", NOW, 1, "c_level")], 20),
        # 40 + 10 raw: both scaled by 20 / 50.
        ([("meeting", NOW, 1, "c_level"), ("meeting", NOW, 2, "other")], 20),
        # Per account: each account has its own cap.
        ([("meeting", NOW, 1, "c_level", 2)] * 2 + [("meeting", NOW, None, None)], 20),
        # Per UTC calendar day: 23:30 and 00:30 are different days.
        (
            [
                ("meeting", NOW.normalize() - pd.Timedelta(minutes=30), 1, "c_level"),
                ("meeting", NOW.normalize() + pd.Timedelta(minutes=30), 1, "c_level"),
            ],
            20 * 2 ** (-12.5 / 24 / 30) + 20 * 2 ** (-11.5 / 24 / 30),
        ),
        # What happens after as_of does not eat into today's cap.
        (
            [("web_visit", NOW, None, None)] * 10 + [("web_visit", NOW + DAY / 48, None, None)] * 5,
            20,
        ),
    ],
)
def test_daily_cap_is_per_account_kind_and_utc_day(rows, expected):
    assert score_of(activities(*rows)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("rows", "spike_ratio", "spike"),
    [
        # Last 7 days 8 points; 16 points in the 4 weeks before, 4 a week: 8 >= 2 x 4.
        ([("email_reply", 1, None), ("email_reply", 10, None), ("email_reply", 20, None)], 2, True),
        (
            [("email_reply", 1, None), ("email_reply", 10, None), ("email_reply", 20, None)],
            2.01,
            False,
        ),
        # A first burst after silence is a spike; silence never is.
        ([("email_open", 0, None)], 2, True),
        ([("email_reply", 10, None)], 2, False),
        ([], 2, False),
        # Exactly 7 days ago is baseline, exactly 35 days ago is neither.
        ([("email_click", 3, None), ("email_reply", 7, None)], 2, False),
        ([("email_click", 3, None), ("email_reply", 35, None)], 2, True),
        # Spike points are capped but not decayed: 20 today vs 20 / 4 a week.
        ([("meeting", 0, "c_level"), ("meeting", 30, None)], 2, True),
        ([("meeting", 0, "other"), ("meeting", 30, None)], 2, True),  # 10 >= 2 x 5
        ([("meeting", 0, "other"), ("meeting", 30, "c_level"), ("meeting", 8, None)], 2, False),
    ],
)
def test_spike_compares_last_week_with_the_four_weeks_before(rows, spike_ratio, spike):
    frame = activities(
        ("email_sent", NOW - 200 * DAY, None, None),  # keeps the account in the frame
        *[(kind, NOW - days * DAY, 1 if s else None, s) for kind, days, s in rows],
    )

    # The ratio alone: the floor is tested below.
    result = score_accounts(frame, NOW, **SETTINGS, spike_ratio=spike_ratio, spike_min_points=0)

    assert bool(result.loc[0, "spike"]) is spike


@pytest.mark.parametrize(
    ("rows", "spike"),
    [
        # The case: a spike on engagement 0.1 (one ad impression after silence).
        ([("ad_impression", 1)], False),
        # 9 points after silence are more than 2x nothing, and still below the floor.
        ([("email_reply", 1), ("email_open", 2)], False),
        # Exactly 10 points in the last 7 days: a spike.
        ([("form_fill", 1)], True),
        # 10 points, but not 2x the weekly average of 20 (80 over the 4 weeks before): none.
        (
            [("form_fill", 1), ("meeting", 10), ("meeting", 12), ("meeting", 14), ("meeting", 16)],
            False,
        ),
    ],
)
def test_a_spike_needs_ten_points_in_the_last_week(rows, spike):
    frame = activities(
        ("email_sent", NOW - 200 * DAY, None, None),  # keeps the account in the frame
        *[(kind, NOW - days * DAY, None, None) for kind, days in rows],
    )

    result = score_accounts(frame, NOW, **SETTINGS, spike_ratio=2.0, spike_min_points=10.0)

    assert bool(result.loc[0, "spike"]) is spike


def test_engaged_contacts_are_distinct_contacts_earning_points_in_the_window():
    frame = activities(
        ("email_open", NOW - DAY, 1, "vp"),
        ("web_visit", NOW - 2 * DAY, 1, "vp"),
        ("web_visit", NOW - 3 * DAY, 2, "other"),
        ("email_sent", NOW - DAY, 3, "c_level"),  # no points
        ("form_fill", NOW - 100 * DAY, 4, "manager"),  # outside the window
        ("web_visit", NOW, None, None),  # no contact
        ("ad_impression", NOW, 5, "manager"),
    )
    frame["direction"] = ["inbound"] * 6 + ["outbound"]  # an impression is ours, not theirs

    result = score_accounts(frame, NOW, **SETTINGS)

    assert result.loc[0, "engaged_contacts"] == 2
    assert (
        score_accounts(frame.drop(columns="direction"), NOW, **SETTINGS).loc[0, "engaged_contacts"]
        == 3
    )


def test_breakdown_by_channel_sums_to_the_score():
    frame = activities(
        ("email_click", NOW - DAY, 1, "vp"),
        ("web_visit", NOW - 3 * DAY, None, None),
        ("form_fill", NOW - 5 * DAY, 1, "vp"),
        ("email_sent", NOW, 1, "vp"),
    )

    row = score_accounts(frame, NOW, **SETTINGS).iloc[0]

    assert set(row["by_channel"]) == {"email", "web_personalisation", "content"}
    assert row["by_channel"]["email"] == pytest.approx(3 * 1.5 * 2 ** (-1 / 30))
    assert sum(row["by_channel"].values()) == pytest.approx(row["score"])


def test_top_activities_are_the_three_largest_contributions_most_recent_first_on_ties():
    frame = activities(
        ("email_open", NOW - DAY, None, None),
        ("meeting", NOW - 40 * DAY, None, None),  # 20 x 2^(-4/3) = 7.94
        ("email_reply", NOW - 2 * DAY, None, None),  # 8 x 2^(-1/15) = 7.64
        ("web_visit", NOW - 3 * DAY, None, None),
        ("web_visit", NOW - 3 * DAY, None, None),  # same points: higher id first
        ("email_sent", NOW, None, None),
    )

    top = score_accounts(frame, NOW, **SETTINGS).loc[0, "top_activities"]

    assert [a["activity_id"] for a in top] == [2, 3, 5]
    assert top[0] == {
        "activity_id": 2,
        "kind": "meeting",
        "channel": "phone",
        "points": pytest.approx(20 * 2 ** (-40 / 30)),
    }


def test_every_account_in_the_input_gets_a_row():
    frame = activities(
        ("email_open", NOW - DAY, None, None, 1),
        ("email_open", NOW - 200 * DAY, None, None, 2),
        ("email_open", NOW + DAY, None, None, 3),
    )

    result = score_accounts(frame, NOW, **SETTINGS)

    assert result["account_id"].to_list() == [1, 2, 3]
    assert result["score"].to_list() == pytest.approx([2 ** (-1 / 30), 0, 0])
    assert result.loc[1, "by_channel"] == {}
    assert result.loc[1, "top_activities"] == []


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [("kind", "smoke_signal", "without points"), ("seniority", "intern", "unknown seniorities")],
)
def test_unknown_kinds_and_seniorities_are_errors(column, value, message):
    frame = activities(("email_open", NOW, 1, "vp"))
    frame[column] = value

    with pytest.raises(ValueError, match=message):
        score_accounts(frame, NOW, **SETTINGS)


def test_history_counts_an_activity_for_the_90_calendar_days_ending_each_date():
    frame = activities(("email_reply", pd.Timestamp("2024-06-10", tz="UTC"), None, None))

    history = score_history(frame, "2024-06-09", "2024-09-08", **SETTINGS).set_index("date")

    day_end = 1 - 1e-9 / 86_400  # decayed to the last nanosecond of the day
    assert history.loc["2024-06-09", "score"] == 0
    assert history.loc["2024-06-10", "score"] == pytest.approx(8 * 2 ** (-day_end / 30))
    assert history.loc["2024-07-09", "score"] == pytest.approx(8 * 2 ** (-(29 + day_end) / 30))
    assert history.loc["2024-09-07", "score"] == pytest.approx(8 * 2 ** (-(89 + day_end) / 30))
    assert history.loc["2024-09-08", "score"] == 0


def random_activities(rng, n=3000):
    """Activities of 7 accounts over 200 days, with bursts on a few days so the daily cap bites."""
    kinds = np.array(
        ["email_open", "web_visit", "meeting", "form_fill", "email_sent", "intent_signal"]
    )
    seniority = np.array(["c_level", "vp", "director", "manager", "other", None], dtype=object)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    offsets = np.where(rng.random(n) < 0.3, rng.integers(0, 5, n) * 37.0, rng.random(n) * 200)
    frame = pd.DataFrame(
        {
            "activity_id": np.arange(n),
            "account_id": rng.integers(1, 8, n),
            "contact_id": np.where(rng.random(n) < 0.2, None, rng.integers(1, 30, n)),
            "seniority": seniority[rng.integers(0, 6, n)],
            "channel": "email",
            "kind": kinds[rng.integers(0, len(kinds), n)],
            "occurred_at": start + pd.to_timedelta(offsets + rng.random(n), unit="D"),
        }
    )
    return frame


def test_history_equals_the_direct_score_at_each_day_end():
    frame = random_activities(np.random.default_rng(11))

    history = score_history(frame, "2024-03-01", "2024-07-31", **SETTINGS)

    for date, scores in history.groupby("date"):
        as_of = pd.Timestamp(date).tz_localize("UTC") + DAY - pd.Timedelta(1, "ns")
        direct = score_accounts(frame, as_of, **SETTINGS).set_index("account_id")["score"]
        np.testing.assert_allclose(
            scores.set_index("account_id")["score"],
            direct.loc[scores["account_id"]],
            rtol=1e-9,
            atol=1e-12,
        )


@pytest.mark.parametrize(
    ("start", "end"), [("2024-03-01", "2024-07-31"), ("2024-05-02", "2024-05-09")]
)
def test_history_of_capped_points_is_the_history_of_any_whole_accounts_and_days(start, end):
    frame = random_activities(np.random.default_rng(12))
    capped = with_capped_points(frame, **SETTINGS, window_days=90)
    some = frame["account_id"].isin([2, 3, 5])

    for rows in (slice(None), some):
        np.testing.assert_array_equal(
            score_history(capped.loc[rows], start, end, **SETTINGS)["score"],
            score_history(frame.loc[rows], start, end, **SETTINGS)["score"],
        )
    # The column is what the history reads: other points give other scores.
    doubled = capped.assign(capped_points=capped["capped_points"] * 2)
    np.testing.assert_allclose(
        score_history(doubled, start, end, **SETTINGS)["score"],
        2 * score_history(frame, start, end, **SETTINGS)["score"],
    )


def test_no_activities_give_empty_results():
    frame = activities(("email_open", NOW, None, None)).iloc[:0]

    assert score_accounts(frame, NOW, **SETTINGS).empty
    assert score_history(frame, "2024-06-01", "2024-06-30", **SETTINGS).empty
