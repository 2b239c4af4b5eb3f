"""Lead management (DOMAIN.md "Lead management"); expected numbers worked out by hand."""

import math

import pandas as pd
import pytest

from accounts.follow_up import follow_up_outcomes
from metrics import leads

NAN = math.nan


def ts(value: str | None) -> pd.Timestamp:
    return pd.Timestamp(value, tz="UTC") if value else pd.NaT


NOW = ts("2026-03-10 12:00")
LEADS = pd.DataFrame(
    [
        # id, channel, rep, handed off, first follow-up
        (1, "webinar", 7, "2026-03-01 09:00", "2026-03-02 09:00"),  # 24 h: on time
        (2, "webinar", 8, "2026-03-01 09:00", "2026-03-03 09:00"),  # exactly 48 h: on time
        (3, "event", 8, "2026-03-01 09:00", "2026-03-04 09:00"),  # 72 h: late
        (4, "event", 7, "2026-03-02 00:00", None),  # 8.5 days, nothing: overdue
        (5, "webinar", 7, "2026-03-09 12:00", None),  # 24 h, nothing yet: waiting
    ],
    columns=["lead_id", "source_channel", "owner_id", "handed_off_at", "first_follow_up_at"],
)
LEADS["handed_off_at"] = LEADS["handed_off_at"].map(ts)
LEADS["first_follow_up_at"] = LEADS["first_follow_up_at"].map(ts)


@pytest.fixture(scope="module")
def outcomes():
    return follow_up_outcomes(LEADS, now=NOW, sla_hours=48)


def test_each_lead_is_on_time_late_overdue_or_waiting(outcomes):
    assert outcomes["status"].tolist() == ["on_time", "on_time", "late", "overdue", "waiting"]
    assert outcomes["hours"].tolist() == pytest.approx([24, 48, 72, NAN, NAN], nan_ok=True)


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        # handed off, due (waiting left out), on time, rate, followed up, median hours
        ((), {None: (5, 4, 2, 0.5, 3, 48)}),
        (
            ("source_channel",),
            {"event": (2, 2, 0, 0.0, 1, 72), "webinar": (3, 2, 2, 1.0, 2, 36)},
        ),
        (("owner_id",), {7: (3, 2, 1, 0.5, 1, 24), 8: (2, 2, 1, 0.5, 2, 60)}),
    ],
)
def test_follow_up_rate_and_median_hours(outcomes, by, expected):
    table = leads.follow_up_summary(outcomes, by=by)
    columns = ["handed_off", "due", "on_time", "rate", "followed_up", "median_hours"]
    got = {(row[by[0]] if by else None): tuple(row[columns]) for _, row in table.iterrows()}
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        assert got[key] == pytest.approx(values), key


def test_a_group_with_every_lead_waiting_has_no_rate(outcomes):
    waiting = outcomes.loc[outcomes["status"] == "waiting"]
    table = leads.follow_up_summary(waiting)
    assert math.isnan(table.loc[0, "rate"])
    assert math.isnan(table.loc[0, "median_hours"])


@pytest.mark.parametrize(
    ("channel", "owner_role", "marketing"),
    [
        ("email", "", True),  # outside playbooks: the channel decides
        ("linkedin", None, True),
        ("phone", "", False),
        ("sdr_outreach", "", False),
        ("email", "sales", False),  # a rep's email from a sales step
        ("phone", "marketing", True),  # a call a marketing step asks for
    ],
)
def test_marketing_touch(channel, owner_role, marketing):
    touch = pd.DataFrame({"channel": [channel], "owner_role": [owner_role]})
    assert bool(leads.is_marketing_touch(touch)[0]) is marketing


OPPORTUNITIES = pd.DataFrame(
    {
        "opportunity_id": [1, 2, 3],
        "account_id": [1, 2, 3],
        "amount": [10_000.0, 30_000.0, 60_000.0],
        "source": ["marketing", "sales", "sales"],
        "created_at": [ts("2026-03-01")] * 3,
        "owner_id": [7, 7, 8],
    }
)
TOUCHES = pd.DataFrame(
    [
        (2, "2026-02-01", "email", ""),  # marketing, 28 days before: influenced
        (3, "2026-02-01", "phone", ""),  # a sales touch
        (3, "2026-03-02", "email", ""),  # after creation
        (3, "2025-08-01", "email", ""),  # 212 days before: outside the window
        (3, "2026-02-15", "email", "sales"),  # a sales step's email
    ],
    columns=["account_id", "occurred_at", "channel", "owner_role"],
)
TOUCHES["occurred_at"] = TOUCHES["occurred_at"].map(ts)


def test_sourced_and_influenced_per_opportunity():
    origins = leads.pipeline_origins(OPPORTUNITIES, TOUCHES, window_days=180)
    assert origins["sourced"].tolist() == [True, False, False]
    assert origins["influenced"].tolist() == [False, True, False]


CONVERSION_NOW = ts("2026-06-30")
CONVERSION_LEADS = pd.DataFrame(
    [
        (1, 1, "webinar", "2026-01-01"),  # deal 45 days later: converted
        (2, 2, "webinar", "2026-01-01"),  # deal 104 days later: too late; decided
        (3, 3, "webinar", "2026-06-01"),  # 29 days, no deal yet: undecided
        (4, 4, "event", "2026-06-01"),  # deal 9 days later: converted though young
        (5, 5, "event", "2026-02-01"),  # the deal came before the hand-off: not converted
        (6, 6, "event", "2026-01-01"),  # deal exactly 90 days later: converted
    ],
    columns=["lead_id", "account_id", "source_channel", "handed_off_at"],
)
CONVERSION_LEADS["handed_off_at"] = CONVERSION_LEADS["handed_off_at"].map(ts)
CONVERSION_DEALS = pd.DataFrame(
    {
        "account_id": [1, 2, 4, 5, 6],
        "created_at": [
            ts("2026-02-15"),
            ts("2026-04-15"),
            ts("2026-06-10"),
            ts("2026-01-15"),
            ts("2026-04-01"),
        ],
    }
)


def test_lead_to_opportunity_conversion_per_lead():
    table = leads.lead_conversions(CONVERSION_LEADS, CONVERSION_DEALS, days=90, now=CONVERSION_NOW)
    assert table["converted"].tolist() == [True, False, False, True, False, True]
    assert table["decided"].tolist() == [True, True, False, True, True, True]
