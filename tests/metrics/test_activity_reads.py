"""The engine reads a batch's activities from their covering index alone (PostgreSQL).

A batch's accounts are spread over the whole activity table; read from the table, each batch of a
10M-activity workspace scanned all of it. These tests hold the index and the query together (a
column added to one and not the other fails here) and check that a full run vacuums the
activities when many changed, so the index-only scan need not visit the table.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from accounts.models import Account
from demo.seeding import seed_demo
from metrics.engine.loading import activity_rows
from metrics.engine.runner import recompute_all
from playbooks.models import Activity
from tests.metrics.vacuums import database_now, last_vacuums

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="covering indexes and VACUUM are PostgreSQL's"
)

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def _plan(queryset, columns: dict) -> str:
    sql, params = queryset.values_list(*columns.values()).query.sql_with_params()
    with connection.cursor() as cursor:
        # Whatever the table's size: whether an index scan of it answers the query alone.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_a_batchs_activity_query_is_answered_from_the_covering_index_alone():
    seed_demo(accounts=20, seed=5, today=NOW.date())  # vacuumed and analyzed as it ends
    accounts = list(Account.objects.order_by("pk").values_list("pk", flat=True)[:4])
    since = NOW - dt.timedelta(days=30)
    # A full run's batch, an incremental run's (activities since its history floor), a window.
    for window in ({}, {"since": since}, {"since": since, "until": NOW}):
        queryset, columns = activity_rows(account_ids=accounts, **window)
        with transaction.atomic():
            plan = _plan(queryset, columns)
        assert "Index Only Scan using activity_account_covering" in plan, (window, plan)


@pytest.mark.django_db(transaction=True)
def test_a_full_run_vacuums_the_activities_when_many_changed_and_not_again_when_few_did():
    seed_demo(accounts=20, seed=5, today=NOW.date())
    account = Account.objects.order_by("pk").first()
    added = Activity.objects.count() // 5  # a fifth more: over the tenth that calls a vacuum
    Activity.objects.bulk_create(
        Activity(
            account=account,
            channel="email",
            kind="email_open",
            direction="inbound",
            occurred_at=NOW - dt.timedelta(minutes=n),
            source="api",
            external_id=f"vacuum-{n}",
        )
        for n in range(added)
    )
    started = database_now()

    recompute_all(now=NOW, slots=4)

    first = last_vacuums(Activity)["Activity"]
    assert first is not None
    assert first > started
    recompute_all(now=NOW, slots=4)
    assert last_vacuums(Activity)["Activity"] == first  # nothing changed since: no second vacuum
