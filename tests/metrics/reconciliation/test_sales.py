"""The sales dashboard against the suite's own SQL (DOMAIN.md): a rep's accounts and tasks."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.metrics.reconciliation import sql
from tests.metrics.reconciliation.money import cents

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the reconciliation SQL is PostgreSQL"
    ),
]
URL = "dashboards:sales"
SOON_DAYS = 7


def _table(response, name) -> list[dict]:
    return response.context["t"][name].rows


@pytest.mark.parametrize("rep_index", [0, 1, 2])
def test_my_accounts_are_only_mine_ranked_by_fit_times_engagement(page, dataset, rep_index):
    rep = dataset.reps[rep_index]
    rows = _table(page(URL, {}, user=rep), "priority_accounts")

    fits = sql.owned_accounts(rep.pk)
    scores = sql.engagement(dataset.now)
    assert len(fits) >= 5
    assert {r["pk"] for r in rows} == set(fits)
    assert any(scores.get(pk) for pk in fits)
    for row in rows:
        assert row["engagement"] == pytest.approx(scores.get(row["pk"], 0.0), abs=0.01)
        priority = fits[row["pk"]] * scores.get(row["pk"], 0.0) / 100
        assert row["priority"] == pytest.approx(priority, abs=0.01)
    priorities = [r["priority"] for r in rows]
    assert priorities == sorted(priorities, reverse=True)


@pytest.mark.parametrize("rep_index", [0, 1, 2])
def test_tasks_due_are_my_open_tasks_overdue_or_due_within_a_week(page, dataset, rep_index):
    rep = dataset.reps[rep_index]
    response = page(URL, {}, user=rep)

    now = timezone.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    expected = sql.open_tasks(rep.pk, now, today, SOON_DAYS)
    assert expected["overdue"] + expected["soon"]
    assert response.context["task_counts"] == expected
    rows = _table(response, "tasks_due")
    assert len(rows) == min(15, expected["overdue"] + expected["soon"])
    assert sum(r["is_overdue"] for r in rows) == min(15, expected["overdue"])
    mine = set(sql.owned_accounts(rep.pk))
    names = {pk: name for pk, name in sql.rows("SELECT id, name FROM accounts_account")}
    assert {r["account"] for r in rows} <= {names[pk] for pk in mine}


def test_a_director_picking_a_rep_sees_that_reps_accounts(page, dataset):
    rep = dataset.reps[1]
    rows = _table(page(URL, {"owner": rep.pk}), "priority_accounts")

    assert {r["pk"] for r in rows} == set(sql.owned_accounts(rep.pk))


def test_dataset_now_is_before_every_record(dataset):
    # The whole suite assumes nothing happened after the recompute's now (tasks aside).
    (last,) = sql.rows("SELECT MAX(occurred_at) FROM playbooks_activity")[0]
    assert last <= dataset.now
    assert dataset.now - last < dt.timedelta(days=3)


@pytest.mark.parametrize("rep_index", [0, 1, 2])
def test_my_pipeline_by_stage_and_won_revenue(page, scopes, dataset, rep_index):
    rep = dataset.reps[rep_index]
    response = page(URL, {}, user=rep)

    _params, default = scopes["default"]
    stages = dict(
        (stage, (n, float(amount)))
        for stage, n, amount in sql.rows(
            "SELECT o.stage, COUNT(*), SUM(o.amount) FROM accounts_opportunity o "
            "JOIN accounts_account a ON a.id = o.account_id "
            "WHERE a.owner_id = %(o)s AND o.stage NOT IN ('closed_won', 'closed_lost') GROUP BY 1",
            {"o": rep.pk},
        )
    )
    won_deals, won = sql.rows(
        "SELECT COUNT(*), COALESCE(SUM(o.amount), 0)::float8 FROM accounts_opportunity o "
        "JOIN accounts_account a ON a.id = o.account_id WHERE a.owner_id = %(o)s "
        "AND o.stage = 'closed_won' AND o.closed_at >= %(lo)s AND o.closed_at < %(hi)s",
        {"o": rep.pk, "lo": default.lo, "hi": default.hi},
    )[0]
    assert won_deals or stages
    for row in _table(response, "pipeline_by_stage"):
        deals, amount = stages.get(row["stage_key"], (0, 0.0))
        assert row["deals"] == deals
        cents(row["amount"], amount)
    tiles = {t["key"]: t["value"] for t in response.context["tiles"]}
    cents(tiles["open_pipeline"], sum(amount for _, amount in stages.values()))
    cents(tiles["won"], won)


@pytest.mark.parametrize("rep_index", [0, 1, 2])
def test_my_attributed_pipeline_by_channel(page, scopes, dataset, rep_index):
    rep = dataset.reps[rep_index]
    response = page(URL, {"model": "time_decay"}, user=rep)

    _params, default = scopes["default"]
    scope = sql.Scope(default.start, default.end, owner=rep.pk)
    rows = {r["channel_key"]: r for r in _table(response, "attributed_by_channel")}
    credited = set()
    for kind in ("pipeline", "revenue"):
        expected = sql.attributed(kind, "time_decay", scope)["by_channel"]
        assert sum(expected.values()) > 0
        for channel, credit in expected.items():
            cents(rows[channel][kind] if channel in rows else 0.0, credit)
        credited |= {channel for channel, credit in expected.items() if credit}
    # A row for every channel with pipeline or revenue credit, and no other.
    assert set(rows) == credited
