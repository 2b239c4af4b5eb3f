"""Job status rows: what a background job is doing, shown as a progress bar.

The row is also the idempotency mechanism of a job: a re-delivered task finds its run already
done and does nothing, or finds it running under its own message (its worker died, or it is a
retry) and starts it over; a second message for the run (abm/job_sending.py) does nothing.
"""

from collections.abc import Callable

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from abm.job_sending import run_send
from abm.models import Job, RunKind, RunStatus

# Sent once a run is marked done (``run``: its Job row): the layers above react to finished work
# (the dashboards build the director's figures for the next look) without this layer knowing them.
run_finished = Signal()


def run_enqueue(*, kind: RunKind, task, requested_by=None, params: dict | None = None) -> Job:
    """Record a queued run and send its task once the surrounding transaction commits.

    A broker that is down does not fail the caller: the run waits, unsent, for the sweeper
    (abm/job_sending.py).
    """
    name = task if isinstance(task, str) else task.name  # a name keeps the caller off tasks.py
    run = Job.objects.create(kind=kind, requested_by=requested_by, params=params or {}, task=name)
    transaction.on_commit(lambda: run_send(run))
    return run


def run_claim(run_id: int, *, task_id: str | None = None) -> Job | None:
    """Mark the run running; None when it already finished (a duplicate delivery).

    With a ``task_id`` (the Celery message), a running run is started over only by the message
    that claimed it: its redelivery after its worker died, or its retry. Another message for the
    same run (the sweeper re-sent it while the first was still queued) does nothing.
    """
    claimable = Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING)
    if task_id:
        claimable = Q(status=RunStatus.QUEUED) | Q(
            status=RunStatus.RUNNING, task_id__in=("", task_id)
        )
    claimed = Job.objects.filter(claimable, pk=run_id).update(
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        percent=0,
        error="",
        task_id=task_id or "",
    )
    if not claimed:
        return None
    return Job.objects.get(pk=run_id)


def run_progress(run: Job, *, phase: str, percent: int) -> None:
    run.phase, run.percent = phase, max(0, min(100, percent))
    Job.objects.filter(pk=run.pk).update(phase=run.phase, percent=run.percent)


def run_finish(run: Job, *, result: dict | None = None) -> None:
    Job.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        phase="done",
        percent=100,
        result=result or {},
        finished_at=timezone.now(),
    )
    run_finished.send(sender=Job, run=run)


def run_fail(run_id: int, *, error: str) -> None:
    Job.objects.filter(pk=run_id).update(**_failed(error))


def _failed(error: str) -> dict:
    return {"status": RunStatus.FAILED, "error": error[:5000], "finished_at": timezone.now()}


def run_fail_unfinished(*, run_id: int | None, task_id: str, error: str) -> bool:
    """Fail the run (by id, else the one the message ``task_id`` claimed) unless it ended."""
    which = Q(pk=run_id) if run_id is not None else Q(task_id=task_id)
    unfinished = Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING)
    return bool(Job.objects.filter(which & unfinished).update(**_failed(error)))


def run_of_message(task_id: str, kind: RunKind) -> int:
    """The run of a message sent without one (beat's): the same row on each of its tries."""
    if not task_id:  # called in-process, not as a message: nothing to try again
        return Job.objects.create(kind=kind).pk
    run, _ = Job.objects.get_or_create(task_id=task_id, kind=kind)
    return run.pk


# What a run's body returns when other tasks go on with the run and finish it (a sharded run).
CONTINUES = object()

# Errors worth a retry with backoff: the database went away or hit a serialisation conflict.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def execute_run(
    run_id: int, body: Callable[[Job], dict], *, task_id: str | None = None
) -> dict | None:
    """Run `body` for a claimed run and record its outcome; a finished run is not run again."""
    run = run_claim(run_id, task_id=task_id)
    if run is None:
        return None
    try:
        result = body(run)
    except TRANSIENT_ERRORS:
        raise  # the task retries; the run stays "running" until a delivery finishes it
    except Exception as exc:
        run_fail(run_id, error=f"{type(exc).__name__}: {exc}")
        raise
    if result is CONTINUES:
        return None
    run_finish(run, result=result)
    return result
