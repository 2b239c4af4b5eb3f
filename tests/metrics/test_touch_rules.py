"""Touch rules as pure functions: the default, the mask, and credits they lead to by hand."""

import numpy as np
import pandas as pd
import pytest
from django.conf import settings

from metrics.engine.compute.credits import attribution_credits
from metrics.engine.params import EngineParams
from metrics.touch_rules import (
    TouchRules,
    attribution_touches,
    counts_as_touch,
    default_rules,
)

NOW = pd.Timestamp("2026-06-30 12:00", tz="UTC")
NO_MQA = pd.DataFrame(
    {"account_id": pd.Series(dtype="int64"), "mqa_at": pd.Series(dtype="datetime64[ns, UTC]")}
)


def activities(rows) -> pd.DataFrame:
    """(id, account, days before NOW, channel, kind, cost, playbook or None)."""
    frame = pd.DataFrame(
        rows, columns=["activity_id", "account_id", "days", "channel", "kind", "cost", "playbook"]
    )
    return pd.DataFrame(
        {
            "activity_id": frame["activity_id"].astype("int64"),
            "account_id": frame["account_id"].astype("int64"),
            "contact_id": np.nan,
            "seniority": None,
            "channel": frame["channel"],
            "kind": frame["kind"],
            "direction": "inbound",
            "occurred_at": NOW - pd.to_timedelta(frame["days"], unit="D"),
            "cost": frame["cost"].astype(float),
            "playbook_id": frame["playbook"].astype(float),
            "owner_role": np.where(frame["playbook"].isna(), "", "marketing"),
        }
    )


def test_the_default_counts_responses_worth_a_point_and_costly_1to1_steps():
    rules = default_rules(
        settings.ABM_ENGAGEMENT_POINTS,
        min_points=settings.ABM_TOUCH_MIN_POINTS,
        step_kinds=settings.ABM_TOUCH_STEP_KINDS,
    )
    # DOMAIN.md "Touch rules", written out: every kind worth >= 1 point...
    assert rules.always == {
        "email_open",
        "email_click",
        "email_reply",
        "web_visit",
        "content_download",
        "form_fill",
        "ad_click",
        "event_attended",
        "webinar_attended",
        "meeting",
        "call_connected",
        "intent_signal",
    }
    # ...plus direct mail, 1:1 emails and messages done by a playbook step with a cost.
    assert rules.step_with_cost == {"direct_mail_sent", "email_sent", "linkedin_message"}
    assert "ad_impression" not in rules.always | rules.step_with_cost
    assert "call_attempt" not in rules.always | rules.step_with_cost


def test_the_mask_needs_a_step_and_a_cost_for_outbound_kinds():
    rules = TouchRules.of({"web_visit"}, {"direct_mail_sent"})
    frame = activities(
        [
            (1, 1, 5, "content", "web_visit", 0, None),  # a response: counts
            (2, 1, 5, "display", "ad_impression", 3, 7),  # impression, from a step, cost: no
            (3, 1, 5, "direct_mail", "direct_mail_sent", 40, 7),  # step with a cost: counts
            (4, 1, 5, "direct_mail", "direct_mail_sent", 40, None),  # no step: no
            (5, 1, 5, "direct_mail", "direct_mail_sent", 0, 7),  # no cost: no
            (6, 1, 5, "email", "email_click", 0, 7),  # not in the rules: no
        ]
    )
    assert counts_as_touch(frame, rules).tolist() == [True, False, True, False, False, False]


def test_the_mqa_anchor_is_the_last_counted_touch_before_mqa():
    rules = TouchRules.of({"web_visit"})
    frame = activities(
        [
            (1, 1, 30, "content", "web_visit", 0, None),
            (2, 1, 20, "display", "ad_impression", 2, 7),  # later, but not a touch
            (3, 1, 5, "content", "web_visit", 0, None),  # after mqa
        ]
    )
    first_mqa = pd.DataFrame({"account_id": [1], "mqa_at": [NOW - pd.Timedelta(days=10)]})
    touches = attribution_touches(frame, first_mqa, rules)
    assert touches["activity_id"].tolist() == [1, 3]
    assert touches["is_mqa"].tolist() == [True, False]


def _credits_by_channel(rules: TouchRules, model: str) -> dict[str, float]:
    # Deal of 9 000 created 1 day before NOW on account 1. Its touches, oldest first:
    # impression (display, a step, $5) 30 d, web visit 20 d, direct mail (a step, $50) 10 d,
    # impression (display, no step, $5) 5 d. Account 2 (no deal) has a visit, for Markov's nulls.
    frame = activities(
        [
            (1, 1, 30, "display", "ad_impression", 5, 7),
            (2, 1, 20, "content", "web_visit", 0, None),
            (3, 1, 10, "direct_mail", "direct_mail_sent", 50, 7),
            (4, 1, 5, "display", "ad_impression", 5, None),
            (5, 2, 3, "content", "web_visit", 0, None),
        ]
    )
    deals = pd.DataFrame(
        {
            "opportunity_id": [100],
            "account_id": [1],
            "amount": [9000.0],
            "stage": ["qualification"],
            "source": ["sales"],
            "created_at": [NOW - pd.Timedelta(days=1)],
            "closed_at": pd.Series([pd.NaT], dtype="datetime64[ns, UTC]"),
        }
    )
    touches = attribution_touches(frame, NO_MQA, rules)
    credits = attribution_credits(touches, deals, NOW, EngineParams.from_settings(settings))
    rows = credits.loc[(credits["model"] == model) & (credits["kind"] == "pipeline")]
    return rows.groupby("channel")["credit"].sum().round(2).to_dict()


DEFAULT = TouchRules.of({"web_visit"}, {"direct_mail_sent"})
WITH_IMPRESSIONS = TouchRules.of({"web_visit", "ad_impression"}, {"direct_mail_sent"})


@pytest.mark.parametrize(
    ("rules", "model", "expected"),
    [
        # Default: the visit and the mail are the journey, 9 000 / 2 each; display gets nothing.
        (DEFAULT, "linear", {"content": 4500.0, "direct_mail": 4500.0}),
        (DEFAULT, "first_touch", {"content": 9000.0}),
        # Counting impressions: four touches, two of them display (9 000 / 4 each).
        (WITH_IMPRESSIONS, "linear", {"display": 4500.0, "content": 2250.0, "direct_mail": 2250.0}),
        (WITH_IMPRESSIONS, "first_touch", {"display": 9000.0}),
        # U-shaped over 4: .4 first (display), .4 last (display), .1 + .1 for the middle two.
        (WITH_IMPRESSIONS, "u_shaped", {"display": 7200.0, "content": 900.0, "direct_mail": 900.0}),
    ],
)
def test_credits_follow_the_rules(rules, model, expected):
    assert _credits_by_channel(rules, model) == pytest.approx(expected)
