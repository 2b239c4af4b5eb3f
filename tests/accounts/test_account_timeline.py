"""The account timeline: weekly touches by channel with opportunity markers (pure), and its JSON."""

import datetime as dt
import json

import pandas as pd
import pytest
from django.urls import reverse

from abm.lib.colours import CHANNEL_COLOURS
from accounts.timeline import MAX_WEEKS, MIN_WEEKS, timeline_data, week_start
from tests.accounts.account_pages import account, activity
from tests.factories import OpportunityFactory

NOW = pd.Timestamp("2026-03-04 15:00", tz="UTC")  # a Wednesday; its week starts Mon Mar 2


def acts(*rows):
    return pd.DataFrame(
        {
            "occurred_at": pd.to_datetime([r[0] for r in rows], utc=True),
            "channel": [r[1] for r in rows],
        }
    )


def opps(*rows):
    columns = ["opportunity_id", "name", "amount", "stage", "created_at", "closed_at"]
    frame = pd.DataFrame(list(rows), columns=columns)
    for column in ("created_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


NO_OPPS = opps()


def series(data):
    return {s["channel"]: s["counts"] for s in data["series"]}


def test_weeks_start_on_monday_in_utc():
    assert week_start(pd.Timestamp("2026-03-08 23:59", tz="UTC")) == pd.Timestamp(
        "2026-03-02", tz="UTC"
    )
    assert week_start(pd.Timestamp("2026-03-09 00:00", tz="UTC")) == pd.Timestamp(
        "2026-03-09", tz="UTC"
    )


def test_it_counts_touches_per_week_and_channel():
    data = timeline_data(
        acts(
            ("2026-03-02 08:00", "email"),
            ("2026-03-04 09:00", "email"),
            ("2026-03-03 10:00", "webinar"),
            ("2026-02-27 10:00", "email"),  # Friday of the week before
        ),
        NO_OPPS,
        now=NOW,
    )

    assert data["weeks"][-2:] == ["2026-02-23", "2026-03-02"]
    assert series(data)["email"][-2:] == [1, 2]
    assert series(data)["webinar"][-2:] == [0, 1]
    assert data["total"] == 4


def test_a_quiet_account_still_gets_a_readable_range():
    data = timeline_data(acts(), NO_OPPS, now=NOW)

    assert len(data["weeks"]) == MIN_WEEKS
    assert data["series"] == []
    assert data["total"] == 0


def test_the_range_reaches_back_to_the_first_touch_but_no_further_than_the_maximum():
    recent = timeline_data(acts(("2025-06-02 10:00", "email")), NO_OPPS, now=NOW)
    ancient = timeline_data(acts(("2015-01-05 10:00", "email")), NO_OPPS, now=NOW)

    assert recent["weeks"][0] == "2025-06-02"
    assert len(ancient["weeks"]) == MAX_WEEKS
    assert ancient["total"] == 0  # outside the chart, not squeezed into its first week


def test_channels_keep_one_order_and_one_colour_everywhere():
    data = timeline_data(
        acts(("2026-03-02", "webinar"), ("2026-03-02", "email"), ("2026-03-02", "phone")),
        NO_OPPS,
        now=NOW,
    )

    assert [s["channel"] for s in data["series"]] == ["email", "webinar", "phone"]
    assert [s["colour"] for s in data["series"]] == [
        CHANNEL_COLOURS["email"],
        CHANNEL_COLOURS["webinar"],
        CHANNEL_COLOURS["phone"],
    ]
    bars = [t for t in data["figure"]["data"] if t["type"] == "bar"]
    assert [b["marker"]["color"] for b in bars] == [s["colour"] for s in data["series"]]
    assert data["figure"]["layout"]["barmode"] == "stack"


def test_opportunities_become_created_won_and_lost_markers():
    data = timeline_data(
        acts(("2026-02-10", "email")),
        opps(
            (1, "Rollout", 120000, "closed_won", "2026-01-05 10:00", "2026-02-20 10:00"),
            (2, "Pilot", 5000, "closed_lost", "2026-01-12 10:00", "2026-02-01 10:00"),
            (3, "Expansion", 80000, "proposal", "2026-02-16 10:00", None),
        ),
        now=NOW,
    )

    assert [(m["kind"], m["name"]) for m in data["markers"]] == [
        ("created", "Rollout"),
        ("created", "Pilot"),
        ("lost", "Pilot"),
        ("created", "Expansion"),
        ("won", "Rollout"),
    ]
    traces = {t["name"]: t for t in data["figure"]["data"] if t["type"] == "scatter"}
    assert set(traces) == {"Opportunity created", "Closed won", "Closed lost"}
    assert traces["Closed won"]["text"] == ["Closed won: Rollout ($120,000)"]
    assert len(data["figure"]["layout"]["shapes"]) == 5


def test_marker_text_is_escaped_for_plotly():
    data = timeline_data(
        acts(), opps((1, "<b>Big</b> & co", 1, "proposal", "2026-02-16", None)), now=NOW
    )

    assert data["markers"][0]["name"] == "<b>Big</b> & co"
    marker = next(t for t in data["figure"]["data"] if t["type"] == "scatter")
    assert marker["text"] == ["Opportunity created: &lt;b&gt;Big&lt;/b&gt; &amp; co ($1)"]


def test_the_result_is_plain_json():
    data = timeline_data(
        acts(("2026-03-02", "email")),
        opps((1, "Deal", 10, "closed_won", "2026-02-02", "2026-02-20")),
        now=NOW,
    )

    assert json.loads(json.dumps(data)) == data


# --- The JSON endpoint -----------------------------------------------------------------------


def test_timeline_json_serves_the_chart_data_of_a_visible_account(client, alice):
    acme = account(alice, "Acme")
    activity(acme, days_ago=1, channel="phone", kind="call_connected")
    OpportunityFactory(account=acme, created_at=acme.created_at - dt.timedelta(days=3))
    client.force_login(alice)

    response = client.get(reverse("accounts:timeline_json", args=[acme.pk]))

    data = response.json()
    assert response.status_code == 200
    assert data["total"] == 1
    assert [s["channel"] for s in data["series"]] == ["phone"]
    assert [m["kind"] for m in data["markers"]] == ["created"]
    assert data["figure"]["data"]


@pytest.mark.parametrize("route", ["accounts:timeline_json", "accounts:detail"])
def test_another_reps_account_is_404_for_its_page_and_its_chart(client, alice, bob, route):
    theirs = account(bob, "Bolt")
    client.force_login(alice)

    assert client.get(reverse(route, args=[theirs.pk])).status_code == 404


def test_the_account_page_embeds_the_chart_data_without_inline_script(client, alice):
    acme = account(alice, "Acme")
    activity(acme, days_ago=2, channel="email")
    client.force_login(alice)

    html = client.get(reverse("accounts:detail", args=[acme.pk])).content.decode()

    assert '<script id="timeline-data" type="application/json">' in html
    assert "vendor/plotly/plotly.min.js" in html
    assert "cdn" not in html.lower()
    assert "<script>" not in html
