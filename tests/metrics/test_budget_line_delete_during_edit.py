"""A budget line deleted while someone edits it, on two real PostgreSQL connections: neither
fails. Like an account's delete (tests/accounts/test_delete_during_edit.py), the delete queued
its metrics run before deleting, then waited for the line the edit held while the edit waited to
queue its own run; it now queues last."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from abm.models import Job, RunKind, RunStatus
from metrics.budget_lines import budget_line_delete, budget_line_update
from metrics.models import BudgetLine
from tests.delete_during_edit import delete_during_edit

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's deadlocks"),
    pytest.mark.django_db(transaction=True),
]


def test_a_budget_line_deleted_while_it_is_edited_fails_neither(maria):
    line = BudgetLine.objects.create(channel="event", date=dt.date(2026, 5, 1), amount=1000)
    Job.objects.filter(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED).delete()
    failures = delete_during_edit(
        lock=lambda: BudgetLine.objects.select_for_update().get(pk=line.pk),
        edit=lambda mine: budget_line_update(mine, values={"amount": Decimal(2000)}, by=maria),
        delete=lambda: budget_line_delete(BudgetLine.objects.get(pk=line.pk), by=maria),
        deleted=BudgetLine,
    )
    assert failures == []
    assert not BudgetLine.objects.filter(pk=line.pk).exists()
    queued = Job.objects.filter(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED)
    assert queued.count() == 1  # both changes wait for one run
