"""Bulk writers refresh PostgreSQL's planner statistics (abm/lib/db_stats.py)."""

import pytest
from django.db import connection

from abm.lib.db_stats import analyze
from accounts.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _estimated_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner statistics")
def test_analyze_gives_the_planner_the_real_row_count(alice):
    AccountFactory.create_batch(30, owner=alice)

    analyze(Account)

    assert _estimated_rows(Account._meta.db_table) == 30


def test_analyze_is_harmless_without_postgresql(alice):
    AccountFactory(owner=alice)

    analyze()
    analyze(Account)

    assert Account.objects.count() == 1
