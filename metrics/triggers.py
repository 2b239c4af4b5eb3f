"""Ask for an incremental recompute after data changed: debounced, and sent after commit.

Services that change what metrics read (activities logged or imported, opportunities updated,
imports finished, ICP edits) call ``request_recompute(reason=...)`` inside their transaction,
preferably last. A burst of changes makes one run, not one per change:

- The first request queues a ``MetricRun`` of kind incremental and, once its transaction
  commits, sends the task with a countdown of ``ABM_RECOMPUTE_DEBOUNCE_SECONDS`` (the worker
  holds it until then); in the test suite's eager mode the task runs right after the commit.
- While that run is still queued, every request does nothing: the run has not loaded data yet,
  so it will see their changes. A partial unique index allows one queued incremental run, so two
  transactions asking at once still queue one (the second insert fails and does nothing).
- On PostgreSQL a request share-locks the queued run until its transaction ends, and the worker's
  claim (queued -> running) waits for those locks: a change that relied on a queued run is
  committed before that run loads anything.
- Once the run is running, the next request queues a new run, for the changes it may have missed.
- A run the broker never got (it was down, or lost the message) is sent again by the sweeper
  (metrics/run_sending.py). One still queued after the broker's visibility timeout plus the
  debounce stops blocking: it is marked failed and a new run is queued.

The run is the full computation (metrics/recompute.py), which takes seconds; what makes it
incremental is when it runs, not what it reads.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from metrics.models import MetricRun, RunKind, RunStatus
from metrics.run_sending import run_send

_TASK = "metrics.recompute_incremental"


def debounce_seconds() -> int:
    return settings.ABM_RECOMPUTE_DEBOUNCE_SECONDS


def request_recompute(*, reason: str) -> MetricRun | None:
    """Queue an incremental recompute unless one is queued already; the new run, or None."""
    for _ in range(2):
        queued = _queued_run()
        if queued is not None:
            if queued.created_at >= _stale_before():
                return None
            MetricRun.objects.filter(pk=queued.pk, status=RunStatus.QUEUED).update(
                status=RunStatus.FAILED,
                error="never started: its task was lost",
                finished_at=timezone.now(),
            )
        try:
            with transaction.atomic():  # a savepoint: the insert may lose a race
                run = MetricRun.objects.create(
                    kind=RunKind.INCREMENTAL, params={"reason": reason}, task=_TASK
                )
        except IntegrityError:
            continue  # another transaction queued one first: lock that one and rely on it
        transaction.on_commit(lambda run=run: _send(run))
        return run
    return None


def _queued_run() -> MetricRun | None:
    runs = MetricRun.objects.filter(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED)
    if connection.vendor != "postgresql":
        return runs.first()
    # FOR SHARE: requests do not wait for each other, the worker's claim waits for them all.
    sql, params = runs.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR SHARE", params)
        row = cursor.fetchone()
    return runs.filter(pk=row[0]).first() if row else None


def _stale_before() -> dt.datetime:
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return timezone.now() - dt.timedelta(seconds=visibility + debounce_seconds())


def _send(run: MetricRun) -> None:
    from metrics.tasks import recompute_incremental_task

    # A broker that is down leaves the run unsent for the sweeper (metrics/run_sending.py).
    run_send(run, task=recompute_incremental_task, countdown=debounce_seconds())
