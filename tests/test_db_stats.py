"""Bulk writers refresh PostgreSQL's planner statistics (abm/lib/db_stats.py)."""

import pytest
from django.db import connection

from abm.lib.db_stats import analyze, vacuum
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


def _last_vacuum(table: str, what: str = "vacuum"):
    """When the table was last vacuumed (or ``what="analyze"``: analyzed) by hand."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT last_{what} FROM pg_stat_user_tables WHERE relname = %s",
            [table],
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL vacuum")
def test_vacuum_vacuums_and_analyzes_a_rewritten_table(alice):
    table = Account._meta.db_table
    AccountFactory.create_batch(30, owner=alice)
    Account.objects.filter(owner=alice).update(name="renamed")  # 30 dead row versions
    before = _last_vacuum(table)  # None, or an earlier test's run's vacuum

    vacuum(Account)

    assert _last_vacuum(table) is not None
    assert _last_vacuum(table) != before
    assert _estimated_rows(table) == 30


def test_vacuum_is_harmless_without_postgresql_or_inside_a_transaction(alice):
    from django.db import transaction

    AccountFactory(owner=alice)
    with transaction.atomic():
        vacuum(Account)  # VACUUM cannot run in a transaction: ANALYZE only

    vacuum(Account)
    assert Account.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL vacuum")
def test_vacuum_leaves_out_a_table_with_few_rows_changed(alice):
    AccountFactory.create_batch(40, owner=alice)
    assert vacuum(Account, changed=0.1) == [Account]  # all 40 new since the last analyze
    accounts = Account.objects.order_by("pk")
    Account.objects.filter(pk=accounts[0].pk).update(name="one renamed")

    assert vacuum(Account, changed=0.1) == []  # 1 in 40

    Account.objects.filter(pk__in=[a.pk for a in accounts[:8]]).update(name="eight renamed")
    assert vacuum(Account, changed=0.1) == [Account]  # 9 in 40
    assert vacuum(Account) == [Account]  # without a share, always


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL vacuum")
def test_vacuum_without_statistics_leaves_the_planner_s_as_they_were(alice):
    table = Account._meta.db_table
    AccountFactory.create_batch(30, owner=alice)
    Account.objects.filter(owner=alice).update(name="renamed")
    analyzed, vacuumed = (
        _last_vacuum(table, "analyze"),
        _last_vacuum(table),
    )  # by other tests, or None

    assert vacuum(Account, statistics=False) == [Account]

    assert _last_vacuum(table) is not None
    assert _last_vacuum(table) != vacuumed
    assert _last_vacuum(table, "analyze") == analyzed
