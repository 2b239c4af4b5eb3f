"""A transaction PostgreSQL rolls back as a deadlock's victim is tried again (abm/lib/row_locks.py):
two real connections lock two rows in opposite order."""

import threading

import pytest
from django.db import connection, transaction

from abm.lib.row_locks import retried_on_deadlock
from accounts.models import Account
from tests.factories import AccountFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's deadlocks"),
    pytest.mark.django_db(transaction=True),
]


def lock(pk: int) -> None:
    list(Account.objects.select_for_update().filter(pk=pk))


def test_the_deadlocks_victim_is_tried_again_and_both_transactions_land(alice):
    first, second = (AccountFactory(owner=alice).pk for _ in range(2))
    both_hold_one = threading.Barrier(2, timeout=10)
    holder_done = threading.Event()
    attempts, failures = [], []

    def holder():  # locks first, then second; waits long before looking for a deadlock
        try:
            with transaction.atomic():
                connection.cursor().execute("SET LOCAL deadlock_timeout = '5s'")
                lock(first)
                both_hold_one.wait()
                lock(second)
                Account.objects.filter(pk=first).update(name="holder")
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()
            holder_done.set()

    def victim_work():  # second, then first: detects the deadlock first, so it is the victim
        attempts.append(len(attempts) + 1)
        if len(attempts) > 1:
            # On a loaded machine a second try can take ``second`` back before the holder, woken
            # by the rollback, does: a second deadlock. The holder goes on first, as in real use.
            holder_done.wait(timeout=20)
        with transaction.atomic():
            connection.cursor().execute("SET LOCAL deadlock_timeout = '100ms'")
            lock(second)
            if len(attempts) == 1:
                both_hold_one.wait()
            lock(first)
            Account.objects.filter(pk=second).update(name="victim")

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        retried_on_deadlock(victim_work)
    finally:
        thread.join(timeout=20)
    assert failures == []
    assert attempts == [1, 2]
    assert dict(Account.objects.filter(pk__in=[first, second]).values_list("pk", "name")) == {
        first: "holder",
        second: "victim",
    }


def test_other_database_errors_are_not_tried_again(alice):
    attempts = []

    def broken():
        attempts.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM accounts_account")

    with pytest.raises(Exception, match="no_such_column"):
        retried_on_deadlock(broken)
    assert attempts == [1]  # a missing column is no deadlock: raised at once
