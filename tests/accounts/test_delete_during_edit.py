"""An account deleted while someone edits one of its deals, on two real PostgreSQL connections:
neither fails. The delete used to queue its metrics run first and then wait for the deal the edit
had locked, while the edit waited to queue its own run: a deadlock whose victim was the edit (a
500 in the concurrency test, tests/faults/test_concurrency.py). The delete now queues last."""

import pytest
from django.db import connection

from abm.models import Job, RunKind, RunStatus
from accounts.models import Account, Opportunity
from accounts.records import account_delete, opportunity_update
from tests.delete_during_edit import delete_during_edit
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's deadlocks"),
    pytest.mark.django_db(transaction=True),
]


def test_an_account_deleted_while_its_deal_is_edited_fails_neither(maria):
    account = AccountFactory()
    deal = OpportunityFactory(account=account, amount=1000)
    Job.objects.filter(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED).delete()
    failures = delete_during_edit(
        lock=lambda: Opportunity.objects.select_for_update().get(pk=deal.pk),
        edit=lambda mine: opportunity_update(opportunity=mine, by=maria, amount=2000),
        delete=lambda: account_delete(account=Account.objects.get(pk=account.pk), by=maria),
        deleted=Account,
    )
    assert failures == []
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not Opportunity.objects.filter(pk=deal.pk).exists()
