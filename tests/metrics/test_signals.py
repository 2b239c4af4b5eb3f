"""The engine tells the apps above it that figures changed without importing them."""

import datetime as dt

import pytest
from django.db import connection

from abm.models import Job, RunKind
from metrics.engine.runner import recompute_all
from metrics.signals import metrics_recomputed

NOW = dt.datetime(2026, 2, 15, 12, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_every_recompute_says_so_in_its_write_transaction_with_its_instant_and_run():
    run = Job.objects.create(kind=RunKind.FULL)
    heard = []

    def listener(sender, **kwargs):
        heard.append((kwargs["now"], kwargs["run"], connection.in_atomic_block))

    metrics_recomputed.connect(listener)
    try:
        recompute_all(run=run, now=NOW)
    finally:
        metrics_recomputed.disconnect(listener)

    assert heard == [(NOW, run, True)]
