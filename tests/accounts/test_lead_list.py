"""The lead drill-down list behind the follow-up trend: filters, SLA buckets, scope, CSV."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from accounts.models import Lead
from tests.accounts.account_pages import account
from tests.factories import LeadFactory

URL = reverse("accounts:leads")
CSV_URL = reverse("accounts:leads_csv")


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=dt.UTC)


@pytest.fixture
def hand_offs(alice, bob):
    """SLA 48 h. Alice's Acme: on time (5 h), late (60 h), not followed. Bob's Bolt: on time."""
    acme = account(alice, "Acme", tier=1)
    bolt = account(bob, "Bolt", tier=3)
    made = {
        "on_time": LeadFactory(
            account=acme,
            source_channel="webinar",
            handed_off_at=at("2026-03-02"),
            first_follow_up_at=at("2026-03-02", 14),
            external_id="on_time",
        ),
        "late": LeadFactory(
            account=acme,
            source_channel="event",
            handed_off_at=at("2026-03-10"),
            first_follow_up_at=at("2026-03-12", 21),
            external_id="late",
        ),
        "none": LeadFactory(
            account=acme,
            source_channel="webinar",
            handed_off_at=at("2026-04-01"),
            first_follow_up_at=None,
            external_id="none",
        ),
        "bob": LeadFactory(
            account=bolt,
            source_channel="webinar",
            handed_off_at=at("2026-03-05"),
            first_follow_up_at=at("2026-03-05", 10),
            external_id="bob",
        ),
    }
    return made


def names(response) -> list[str]:
    assert response.status_code == 200
    return sorted(lead.external_id for lead in response.context["rows"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["bob", "late", "none", "on_time"]),
        ({"from": "2026-03-01", "to": "2026-03-31"}, ["bob", "late", "on_time"]),
        ({"follow_up": "on_time"}, ["bob", "on_time"]),
        ({"follow_up": "late"}, ["late"]),
        ({"follow_up": "none"}, ["none"]),
        ({"channel": "event"}, ["late"]),
        ({"tier": "3"}, ["bob"]),
    ],
)
def test_filters(client, diana, hand_offs, query, expected):
    client.force_login(diana)

    assert names(client.get(URL, query)) == expected


def test_totals_count_the_whole_filtered_set(client, diana, hand_offs):
    client.force_login(diana)

    totals = client.get(URL, {"from": "2026-03-01", "to": "2026-03-31"}).context["totals"]

    assert (totals.count, totals.on_time, totals.followed) == (3, 2, 3)


def test_a_rep_sees_only_leads_of_their_accounts_also_in_the_csv(client, alice, bob, hand_offs):
    client.force_login(alice)

    page = client.get(URL, {"owner": bob.pk})
    body = b"".join(client.get(CSV_URL).streaming_content).decode("utf-8-sig")

    assert names(page) == []
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(r["external_id"] for r in rows) == ["late", "none", "on_time"]


def test_bad_parameters_are_ignored_with_a_message(client, diana, hand_offs):
    client.force_login(diana)

    response = client.get(URL, {"from": "yesterday", "follow_up": "maybe", "channel": "event"})

    assert names(response) == ["late"]
    assert len(response.context["problems"]) == 2


@pytest.mark.parametrize("extra", [3, 40])
def test_query_count_does_not_grow(client, diana, alice, extra, django_assert_max_num_queries):
    acme = account(alice, "Acme", tier=1)
    LeadFactory.create_batch(extra, account=acme)
    client.force_login(diana)

    with django_assert_max_num_queries(6):
        response = client.get(URL)

    assert len(response.context["rows"]) == min(extra, 50)
    assert Lead.objects.count() == extra
