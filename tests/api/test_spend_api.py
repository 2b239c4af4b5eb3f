"""/api/spend/: budget lines, written by marketers, directors and admins, hidden from reps."""

import datetime as dt
from decimal import Decimal

import pytest

from abm.models import Job, RunKind, RunStatus
from metrics.models import BudgetLine
from tests.api.api_calls import error_of, ids
from tests.factories import PlaybookFactory

URL = "/api/spend/"


def line(**fields) -> BudgetLine:
    return BudgetLine.objects.create(
        **{"channel": "event", "date": dt.date(2026, 10, 14), "amount": Decimal("100"), **fields}
    )


def queued_recomputes() -> int:
    return Job.objects.filter(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED).count()


def test_a_marketer_adds_changes_and_deletes_a_line(api, maria):
    client = api(maria)
    playbook = PlaybookFactory()

    created = client.post(
        URL,
        {"playbook": playbook.pk, "date": "2026-10-14", "amount": "15000", "description": "Booth"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    changed = client.patch(f"{URL}{pk}/", {"channel": "event"}, format="json")
    deleted = client.delete(f"{URL}{pk}/")

    assert changed.json()["channel"] == "event"
    assert deleted.status_code == 204
    assert not BudgetLine.objects.exists()
    # ROI reads spend from the rollups: the change asks for the debounced recompute.
    assert queued_recomputes() == 1


def test_a_director_writes_spend_as_the_readme_says(api, diana):
    # README: directors are read-only "except goals, assignment and spend".
    kept = line()
    client = api(diana)

    assert ids(client.get(URL)) == [kept.pk]
    created = client.post(
        URL, {"channel": "event", "date": "2026-01-01", "amount": "1"}, format="json"
    )
    changed = client.patch(f"{URL}{kept.pk}/", {"amount": "2"}, format="json")
    assert created.status_code == 201, created.content
    deleted = client.delete(f"{URL}{created.json()['id']}/")

    assert changed.json()["amount"] == "2.00"
    assert deleted.status_code == 204
    assert list(BudgetLine.objects.values_list("amount", flat=True)) == [Decimal("2")]


def test_a_rep_sees_no_spend(api, alice):
    kept = line()
    client = api(alice)

    assert ids(client.get(URL)) == []
    assert error_of(client.get(f"{URL}{kept.pk}/"), 404)["code"] == "not_found"
    error_of(client.post(URL, {"channel": "event", "date": "2026-01-01", "amount": "1"}), 403)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"date": "2026-01-01", "amount": "5"}, "channel", "a channel, a playbook or both"),
        (
            {"channel": "event", "date": "2026-01-01", "amount": "-5"},
            "amount",
            "greater than or equal to 0",
        ),
        ({"channel": "pigeon", "date": "2026-01-01", "amount": "5"}, "channel", ""),
        (
            {"playbook": 999999, "date": "2026-01-01", "amount": "5"},
            "playbook",
            "There is no playbook 999999 that you can see.",
        ),
    ],
)
def test_a_line_that_cannot_be_saved_is_a_400(api, maria, body, field, words):
    error = error_of(api(maria).post(URL, body, format="json"), 400)

    assert field in error["fields"], error
    assert words in " ".join(error["fields"][field])
    assert not BudgetLine.objects.exists()


def test_spend_filters(api, maria):
    playbook = PlaybookFactory()
    early, late = line(date=dt.date(2026, 1, 5)), line(playbook=playbook, channel="")
    client = api(maria)

    assert ids(client.get(URL, {"playbook": playbook.pk})) == [late.pk]
    assert ids(client.get(URL, {"date_before": "2026-02-01"})) == [early.pk]
    assert ids(client.get(URL, {"ordering": "date"})) == [early.pk, late.pk]
    assert "date_after" in error_of(client.get(URL, {"date_after": "May"}), 400)["fields"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_spend_list_takes_flat_queries(api, diana, count, django_assert_max_num_queries):
    for _ in range(count):
        line(playbook=PlaybookFactory())
    client = api(diana)

    with django_assert_max_num_queries(2):
        response = client.get(URL, {"page_size": 100})

    assert len(ids(response)) == count
