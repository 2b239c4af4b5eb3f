"""The change feed: how lower layers tell the metrics engine what changed, without importing it.

Services that change what metrics read (activities logged, ingested or imported, accounts,
contacts, opportunities and leads written, tiers and owners set, enrolments, a step's owner or its
removal, imports finished, ICP or touch-rule edits, budget lines)
call ``announce_change(reason=..., account_ids=...)`` inside their transaction, last. It
records one ``Change`` row per account (or one for "all accounts") and wakes the consumer named by
``settings.ABM_CHANGE_CONSUMER_TASK`` (the engine's incremental recompute), debounced:

- The first announcement queues a ``Job`` of kind incremental and, once its transaction commits,
  sends the consumer task with a countdown of ``ABM_RECOMPUTE_DEBOUNCE_SECONDS``; in the test
  suite's eager mode the task runs right after the commit.
- While that job is still queued, every announcement only records its rows: the job has not
  loaded data yet, so it will see them. A partial unique index allows one queued incremental job,
  so two transactions announcing at once still queue one (the second insert fails, does nothing).
- On PostgreSQL an announcement share-locks the queued job until its transaction ends, and the
  worker's claim (queued -> running) waits for those locks: a change that relied on a queued job is
  committed before that job loads anything.
- Queuing waits for another transaction queuing at the same time, so a caller takes no row lock
  after announcing: a delete that announced and then cascaded into a deal an edit held, while the
  edit waited to queue, deadlocked both (tests/accounts/test_delete_during_edit.py).
- Once the job is running, the next announcement queues a new one, for the changes it may miss.
- A job the broker never got is sent again by the sweeper (abm/job_sending.py). One still queued
  after the broker's visibility timeout plus the debounce stops blocking: it is marked failed and
  a new job is queued.

The consumer reads the feed with ``changes_consumed()``: the entries recorded so far, deleted only
when its run succeeds, so a failed run leaves them for the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from abm.job_sending import run_send
from abm.models import Change, Job, RunKind, RunStatus


def debounce_seconds() -> int:
    return settings.ABM_RECOMPUTE_DEBOUNCE_SECONDS


def announce_change(*, reason: str, account_ids=None) -> Job | None:
    """Record what changed and queue the consumer's job unless one is queued already; the new
    job, or None. ``account_ids`` None means the change may touch every account."""
    if account_ids is None:
        Change.objects.create(reason=reason[:200])
    else:
        ids = sorted({int(pk) for pk in account_ids})
        Change.objects.bulk_create(
            [Change(account_id=pk, reason=reason[:200]) for pk in ids], batch_size=1000
        )
    for _ in range(2):
        queued = _queued_run()
        if queued is not None:
            if queued.created_at >= _stale_before():
                return None
            Job.objects.filter(pk=queued.pk, status=RunStatus.QUEUED).update(
                status=RunStatus.FAILED,
                error="never started: its task was lost",
                finished_at=timezone.now(),
            )
        try:
            with transaction.atomic():  # a savepoint: the insert may lose a race
                run = Job.objects.create(
                    kind=RunKind.INCREMENTAL,
                    params={"reason": reason},
                    task=settings.ABM_CHANGE_CONSUMER_TASK,
                )
        except IntegrityError:
            continue  # another transaction queued one first: lock that one and rely on it
        transaction.on_commit(lambda run=run: _send(run))
        return run
    return None


def _queued_run() -> Job | None:
    runs = Job.objects.filter(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED)
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


def _send(run: Job) -> None:
    # A broker that is down leaves the job unsent for the sweeper (abm/job_sending.py).
    run_send(run, countdown=debounce_seconds())


@dataclass(frozen=True)
class PendingChanges:
    upto: int | None  # the last entry the consumer has seen; None: the feed was empty
    account_ids: frozenset[int] | None  # None: some change touches every account
    reasons: tuple[str, ...]


@contextmanager
def changes_consumed() -> Iterator[PendingChanges]:
    """The changes recorded so far; deleted when the block (the consumer's run) succeeds."""
    upto = feed_position()
    entries = Change.objects.filter(id__lte=upto) if upto is not None else Change.objects.none()
    ids = set(entries.values_list("account_id", flat=True).distinct())
    reasons = tuple(entries.values_list("reason", flat=True).distinct()[:20])
    account_ids = None if None in ids else frozenset(ids)
    yield PendingChanges(upto=upto, account_ids=account_ids, reasons=reasons)
    forget_changes(upto)


def feed_position() -> int | None:
    """The last entry recorded so far (None: the feed is empty): a run that reads everything
    after this point consumes the entries up to it (``forget_changes``)."""
    return Change.objects.aggregate(upto=Max("id"))["upto"]


def forget_changes(upto: int | None) -> None:
    """Delete the entries up to ``upto``: a run that read every account after them succeeded."""
    if upto is not None:
        Change.objects.filter(id__lte=upto).delete()
