"""/api/activities/: read-only, scoped, filtered; POST /api/activities/batch/ stays the write path."""

import datetime as dt

import pytest
from django.utils import timezone

from playbooks.models import Activity
from tests.api.api_calls import error_of, ids
from tests.factories import AccountFactory, ActivityFactory, StepFactory

URL = "/api/activities/"


@pytest.fixture
def book(alice, bob):
    now = timezone.now()
    acme, globex = AccountFactory(owner=alice), AccountFactory(owner=bob)
    step = StepFactory()
    return {
        "acme": acme,
        "step": step,
        "old": ActivityFactory(account=acme, occurred_at=now - dt.timedelta(days=30)),
        "call": ActivityFactory(
            account=acme,
            channel="phone",
            kind="call_connected",
            direction="outbound",
            source="task",
            step=step,
            occurred_at=now - dt.timedelta(days=2),
        ),
        "globex": ActivityFactory(account=globex),
    }


def test_a_rep_reads_only_their_accounts_activities(api, alice, book):
    client = api(alice)

    assert ids(client.get(URL)) == [book["call"].pk, book["old"].pk]  # newest first
    assert client.get(f"{URL}{book['call'].pk}/").json()["kind"] == "call_connected"
    assert error_of(client.get(f"{URL}{book['globex'].pk}/"), 404)["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"channel": "phone"}, ["call"]),
        ({"kind": "email_click"}, ["old", "globex"]),
        ({"direction": "outbound"}, ["call"]),
        ({"source": "task"}, ["call"]),
        ({"step": "STEP"}, ["call"]),
        ({"account": "ACME"}, ["call", "old"]),
        ({"occurred_after": "-3"}, ["globex", "call"]),
        ({"occurred_before": "-3"}, ["old"]),
    ],
)
def test_filters_narrow_the_list(api, maria, book, params, expected):
    values = {"STEP": book["step"].pk, "ACME": book["acme"].pk}
    query = {}
    for name, value in params.items():
        if value.startswith("-"):
            value = (timezone.now() + dt.timedelta(days=int(value))).isoformat()
        query[name] = values.get(value, value)

    response = api(maria).get(URL, query)

    assert set(ids(response)) == {book[name].pk for name in expected}


def test_it_orders_by_when_it_happened(api, maria, book):
    response = api(maria).get(URL, {"ordering": "occurred_at"})

    assert ids(response) == [book["old"].pk, book["call"].pk, book["globex"].pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"occurred_after": "last week"}, "occurred_after"),
        ({"channel": "fax"}, "channel"),
        ({"source": "rumour"}, "source"),
        ({"account": "acme"}, "account"),
    ],
)
def test_bad_filter_values_are_400s(api, maria, params, field):
    error = error_of(api(maria).get(URL, params), 400)

    assert field in error["fields"]


def test_activities_are_not_written_here(api, maria, book):
    client = api(maria)

    assert client.post(URL, {"account": book["acme"].pk}, format="json").status_code == 405
    assert client.delete(f"{URL}{book['old'].pk}/").status_code == 405


def test_the_batch_is_not_read_as_an_activity(api, maria, book):
    client = api(maria)
    item = {
        "external_id": "evt-1",
        "account": book["acme"].domain,
        "kind": "web_visit",
        "channel": "content",
        "occurred_at": timezone.now().isoformat(),
    }

    response = client.post(f"{URL}batch/", {"activities": [item]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["totals"]["created"] == 1, response.json()
    assert client.get(f"{URL}batch/").status_code == 405


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_takes_flat_queries(api, alice, count, django_assert_max_num_queries):
    ActivityFactory.create_batch(count, account=AccountFactory(owner=alice))
    client = api(alice)

    with django_assert_max_num_queries(2):
        response = client.get(URL, {"page_size": 100})

    assert len(ids(response)) == count == Activity.objects.count()
