"""The activity drill-down list: every filter, totals over the whole filtered set, a rep's scope,
bad parameters, the CSV and a flat query count."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.http import StreamingHttpResponse
from django.urls import reverse

from playbooks.models import Activity
from tests.accounts.account_pages import account
from tests.factories import ActivityFactory, ContactFactory, StepFactory

URL = reverse("ingestion:activities")
CSV_URL = reverse("ingestion:activities_csv")


def at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=dt.UTC)


def touch(target, external_id, *, day="2026-03-10", time="12:00", **extra) -> Activity:
    return ActivityFactory(
        account=target, external_id=external_id, occurred_at=at(day, time), **extra
    )


def ids(response) -> list[str]:
    assert response.status_code == 200
    return [a.external_id for a in response.context["rows"]]


def csv_rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


@pytest.fixture
def log(alice, bob):
    """Alice: Acme (tier 1). Bob: Bolt (tier 3). Nobody: Cargo (not a target)."""
    acme = account(alice, "Acme", tier=1)
    bolt = account(bob, "Bolt", tier=3)
    cargo = account(None, "Cargo", tier=None)
    step = StepFactory(channel="email", stage__playbook__name="Launch", stage__name="Nurture")
    ada = ContactFactory(account=acme, first_name="Ada", last_name="Lovelace")
    touch(acme, "a1", day="2026-01-05", kind="email_sent", direction="outbound", step=step)
    touch(acme, "a2", day="2026-02-01", kind="email_click", contact=ada, step=step)
    touch(
        bolt,
        "b1",
        day="2026-02-14",
        channel="event",
        kind="event_attended",
        cost=Decimal("250.00"),
    )
    touch(bolt, "b2", day="2026-03-01", channel="phone", kind="call_attempt", direction="outbound")
    touch(
        cargo,
        "c1",
        day="2026-03-20",
        channel="direct_mail",
        kind="direct_mail_sent",
        direction="outbound",
        cost=Decimal("40.50"),
    )
    return {"acme": acme, "bolt": bolt, "cargo": cargo, "step": step}


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in (URL, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_it_lists_every_visible_activity_newest_first(client, maria, log):
    client.force_login(maria)
    response = client.get(URL)
    assert ids(response) == ["c1", "b2", "b1", "a2", "a1"]
    page = response.content.decode()
    assert "Launch" in page
    assert "Nurture" in page
    assert "Ada Lovelace" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"from": "2026-02-14"}, ["c1", "b2", "b1"]),
        ({"to": "2026-02-14"}, ["b1", "a2", "a1"]),
        ({"from": "2026-02-01", "to": "2026-02-28"}, ["b1", "a2"]),
        ({"channel": "email"}, ["a2", "a1"]),
        ({"channel": "event"}, ["b1"]),
        ({"kind": "call_attempt"}, ["b2"]),
        ({"direction": "outbound"}, ["c1", "b2", "a1"]),
        ({"direction": "inbound"}, ["b1", "a2"]),
        ({"playbook": "none"}, ["c1", "b2", "b1"]),
        ({"tier": "1"}, ["a2", "a1"]),
        ({"tier": "3"}, ["b2", "b1"]),
        ({"tier": "0"}, ["c1"]),
        ({"tier": "targets"}, ["b2", "b1", "a2", "a1"]),
        ({"owner": "unassigned"}, ["c1"]),
        ({"costed": "1"}, ["c1", "b1"]),
        ({"costed": "1", "tier": "targets"}, ["b1"]),
        ({"sort": "occurred"}, ["a1", "a2", "b1", "b2", "c1"]),
        ({"sort": "-cost"}, ["b1", "c1", "b2", "a2", "a1"]),
    ],
)
def test_each_filter_narrows_the_list(client, maria, log, params, expected):
    client.force_login(maria)
    assert ids(client.get(URL, params)) == expected


def test_id_filters_playbook_owner_and_account(client, maria, bob, log):
    client.force_login(maria)
    response = client.get(URL, {"playbook": log["step"].stage.playbook_id})
    assert ids(response) == ["a2", "a1"]
    assert "Playbook: Launch" in response.content.decode()
    assert ids(client.get(URL, {"owner": bob.pk})) == ["b2", "b1"]
    response = client.get(URL, {"account": log["cargo"].pk})
    assert ids(response) == ["c1"]
    assert "Account: Cargo" in response.content.decode()


def test_days_are_whole_utc_days_inclusive(client, maria):
    target = account(None, "Edge")
    touch(target, "first", day="2026-05-01", time="00:00")
    touch(target, "last", day="2026-05-31", time="23:59:59.999999")
    touch(target, "before", day="2026-04-30", time="23:59:59.999999")
    touch(target, "after", day="2026-06-01", time="00:00")
    client.force_login(maria)

    assert ids(client.get(URL, {"from": "2026-05-01", "to": "2026-05-31"})) == ["last", "first"]


def test_totals_cover_the_whole_filtered_set_not_just_the_page(client, maria):
    target = account(None, "Busy")
    Activity.objects.bulk_create(
        Activity(
            account=target,
            channel="display",
            kind="ad_impression",
            direction="outbound",
            occurred_at=at("2026-04-01") + dt.timedelta(minutes=i),
            cost=Decimal("1.25") * i,
            source="import",
            external_id=f"ad-{i}",
        )
        for i in range(75)
    )
    client.force_login(maria)

    response = client.get(URL, {"channel": "display"})

    totals = response.context["totals"]
    assert len(response.context["rows"]) == 50
    assert totals.count == 75
    assert totals.cost == Activity.objects.aggregate(s=Sum("cost"))["s"] == Decimal("3468.75")
    page = response.content.decode()
    assert "<strong>75</strong> activities" in page
    assert "$3,469" in page
    assert len(client.get(URL, {"channel": "display", "page": 2}).context["rows"]) == 25


# --- Scope ------------------------------------------------------------------------------------


def test_a_rep_sees_only_activities_on_accounts_they_own(client, alice, log):
    client.force_login(alice)
    response = client.get(URL)
    assert ids(response) == ["a2", "a1"]
    assert response.context["totals"].cost == 0


def test_a_rep_asking_for_another_reps_activities_gets_an_empty_list(client, alice, bob, log):
    client.force_login(alice)

    response = client.get(URL, {"owner": bob.pk})

    assert ids(response) == []
    assert "No activities match these filters" in response.content.decode()
    assert ids(client.get(URL, {"account": log["bolt"].pk})) == []


def test_a_reps_csv_holds_only_their_activities(client, alice, bob, log):
    client.force_login(alice)
    assert [r["external_id"] for r in csv_rows(client.get(CSV_URL))] == ["a2", "a1"]
    assert csv_rows(client.get(CSV_URL, {"owner": bob.pk})) == []


# --- Bad parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"from": "abc"},
        {"to": "2026-13-01"},
        {"tier": "9"},
        {"owner": "x"},
        {"kind": "hug"},
        {"direction": "sideways"},
        {"playbook": "-3"},
        {"account": "acme"},
        {"costed": "yes"},
        {"sort": "id; drop table"},
        {"page": "999"},
    ],
)
def test_a_bad_parameter_is_ignored_and_the_valid_ones_kept(client, maria, log, bad):
    client.force_login(maria)

    response = client.get(URL, {"channel": "email", **bad})

    assert ids(response) == ["a2", "a1"]
    page = response.content.decode()
    assert "ignored" in page or "There is no page" in page
    assert "Channel: Email" in page
    for name in bad:
        assert f"{name}=" not in response.context["query_string"]


def test_chips_remove_their_own_filter(client, maria, log):
    client.force_login(maria)

    response = client.get(URL, {"from": "2026-01-01", "to": "2026-03-31", "costed": "1"})

    chips = {chip.label: chip.remove_query for chip in response.context["chips"]}
    assert chips == {
        "2026-01-01 – 2026-03-31": "costed=1",
        "With a cost": "from=2026-01-01&to=2026-03-31",
    }


# --- CSV --------------------------------------------------------------------------------------


def test_the_csv_holds_the_whole_filtered_set(client, maria, log):
    client.force_login(maria)

    response = client.get(CSV_URL, {"tier": "targets", "sort": "-cost"})

    assert 'filename="activities.csv"' in response["Content-Disposition"]
    exported = csv_rows(response)
    assert [r["external_id"] for r in exported] == ["b1", "b2", "a2", "a1"]
    assert exported[0]["cost"] == "250.00"
    assert exported[0]["owner"] == "Bob"
    assert exported[2]["playbook"] == "Launch"
    assert exported[2]["contact_email"] == log["acme"].contacts.get().email


def test_the_csv_neutralises_spreadsheet_formulas(client, maria):
    evil = account(None, '=HYPERLINK("http://x.example")', domain="evil.example")
    touch(evil, "-2+3")
    touch(evil, "@cmd")
    client.force_login(maria)

    exported = csv_rows(client.get(CSV_URL))

    assert {r["account"] for r in exported} == {'\'=HYPERLINK("http://x.example")'}
    assert sorted(r["external_id"] for r in exported) == ["'-2+3", "'@cmd"]


# --- Query count ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 60])
def test_the_query_count_does_not_grow_with_rows(
    client, maria, alice, django_assert_max_num_queries, n
):
    step = StepFactory(channel="email")
    targets = [account(alice, f"Company {i}", tier=1) for i in range(3)]
    for i in range(n):
        target = targets[i % 3]
        ActivityFactory(
            account=target,
            contact=ContactFactory(account=target),
            step=step if i % 2 else None,
            cost=Decimal(i),
            occurred_at=at("2026-03-01") + dt.timedelta(hours=i),
        )
    client.force_login(maria)

    # session + user, totals, the page's ids, their rows
    with django_assert_max_num_queries(5):
        response = client.get(URL, {"channel": "email", "tier": "targets", "from": "2026-01-01"})
    assert len(response.context["rows"]) == min(n, 50)
    # ... plus the owner's, the account's and the playbook's names for their chips
    with django_assert_max_num_queries(8):
        response = client.get(
            URL,
            {"owner": alice.pk, "account": targets[0].pk, "playbook": step.stage.playbook_id},
        )
    assert response.status_code == 200
