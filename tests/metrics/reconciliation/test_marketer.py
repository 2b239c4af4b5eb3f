"""The marketer's playbook dashboard against the suite's own SQL (DOMAIN.md)."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.metrics.reconciliation import sql
from tests.metrics.reconciliation.money import ALL_SCOPES, cents, ratio

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the reconciliation SQL is PostgreSQL"
    ),
]
URL = "dashboards:marketer"


def _tiles(response) -> dict:
    return {t["key"]: t["value"] for t in response.context["tiles"]}


def _table(response, name) -> list[dict]:
    return response.context["t"][name].rows


def _today() -> dt.datetime:
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_enrolled_accounts_by_stage(page, scopes, name, dataset):
    params, scope = scopes[name]
    response = page(URL, params, user=dataset.marketer)

    shown = {
        (r["playbook_id"], r["stage"] if r["status"] == "active" else r["status"]): r["accounts"]
        for r in _table(response, "enrolments_by_stage")
    }
    expected = sql.enrolments(scope)
    assert expected
    assert shown == expected
    enrolled = sum(n for (_, label), n in expected.items() if label != "holdout")
    assert _tiles(response)["enrolled"] == enrolled  # no account is in two playbooks


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_task_completion(page, scopes, name, dataset):
    params, scope = scopes[name]
    response = page(URL, params, user=dataset.marketer)

    expected = sql.tasks_due(scope, _today())
    rows = {r["playbook_id"]: r for r in _table(response, "task_completion")}
    assert set(rows) == set(expected)
    for playbook, figures in expected.items():
        for key in ("done", "skipped", "overdue", "upcoming"):
            assert rows[playbook][key] == figures[key], key
        ratio(rows[playbook]["rate"], figures["rate"])
    done = sum(f["done"] for f in expected.values())
    decided = sum(f["done"] + f["skipped"] + f["overdue"] for f in expected.values())
    ratio(_tiles(response)["completion"], done / decided if decided else None)


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_spend_per_playbook(page, scopes, name, dataset):
    params, scope = scopes[name]
    response = page(URL, params, user=dataset.marketer)

    expected = sql.spend(scope)["by_playbook"]
    rows = {r["playbook_id"]: r["spend"] for r in _table(response, "by_playbook")}
    for playbook, spent in expected.items():
        cents(rows.pop(playbook, 0.0), spent)
    assert not any(rows.values())
    cents(_tiles(response)["spend"], sum(v for k, v in expected.items() if k is not None))


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_influenced_pipeline_per_playbook(page, scopes, name, dataset):
    params, scope = scopes[name]
    response = page(URL, {**params, "model": "linear"}, user=dataset.marketer)

    for kind in ("pipeline", "revenue"):
        expected = sql.attributed(kind, "linear", scope)["by_playbook"]
        rows = {r["playbook_id"]: r[kind] for r in _table(response, "by_playbook")}
        for playbook, credit in expected.items():
            cents(rows.pop(playbook, 0.0), credit)
        assert not any(rows.values())
        if kind == "pipeline":
            cents(
                _tiles(response)["pipeline"], sum(v for k, v in expected.items() if k is not None)
            )
