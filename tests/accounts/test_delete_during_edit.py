"""An account deleted while someone edits one of its deals, on two real PostgreSQL connections:
neither fails. The delete used to queue its metrics run first and then wait for the deal the edit
had locked, while the edit waited to queue its own run: a deadlock whose victim was the edit (a
500 in the concurrency test, tests/faults/test_concurrency.py). The delete now queues last."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.db.models.signals import pre_delete

from abm.models import Job, RunKind, RunStatus
from accounts.models import Account, Opportunity
from accounts.records import account_delete, opportunity_update
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's deadlocks"),
    pytest.mark.django_db(transaction=True),
]


def test_an_account_deleted_while_its_deal_is_edited_fails_neither(maria):
    account = AccountFactory()
    deal = OpportunityFactory(account=account, amount=1000)
    Job.objects.filter(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED).delete()
    deal_locked, deleting = threading.Event(), threading.Event()
    failures = []

    def edit():
        try:
            with transaction.atomic():
                # Looks for a deadlock after the delete has begun to wait, before the delete
                # does: the edit would be the victim of one.
                connection.cursor().execute("SET LOCAL deadlock_timeout = '800ms'")
                mine = Opportunity.objects.select_for_update().get(pk=deal.pk)
                deal_locked.set()
                assert deleting.wait(10)
                opportunity_update(opportunity=mine, by=maria, amount=2000)
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    def delete():
        try:
            connection.cursor().execute("SET deadlock_timeout = '5s'")
            assert deal_locked.wait(10)
            account_delete(account=Account.objects.get(pk=account.pk), by=maria)
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    deleter = threading.Thread(target=delete)

    def about_to_delete(sender, instance, **kwargs):
        # Before the delete reaches the deal: the edit goes on to queue its run meanwhile.
        if threading.current_thread() is deleter:
            deleting.set()
            time.sleep(0.3)

    pre_delete.connect(about_to_delete, sender=Account, weak=False)
    editor = threading.Thread(target=edit)
    try:
        editor.start()
        deleter.start()
        editor.join(30)
        deleter.join(30)
    finally:
        pre_delete.disconnect(about_to_delete, sender=Account)
    assert failures == []
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not Opportunity.objects.filter(pk=deal.pk).exists()
