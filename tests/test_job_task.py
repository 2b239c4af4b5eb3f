"""Jobs' tasks (abm/job_task.py): a transient database error is retried; when the last try fails
too, or a task with no run of its own to record it fails, the run is marked failed instead of
"running" for ever; a scheduled message without a run makes one run over all its tries."""

import time

import pytest
from celery import shared_task
from django.db import OperationalError, transaction

from abm.job_task import JobTask
from abm.jobs import execute_run, run_of_message
from abm.models import Job, RunKind, RunStatus

pytestmark = pytest.mark.django_db(transaction=True)

TRIES: list[int] = []  # the retry number of each try, in this process (eager or worker thread)


def _until_try(self, failing_tries: int):
    """A run body failing as a database restart does, for the first ``failing_tries`` tries."""

    def body(run):
        TRIES.append(self.request.retries)
        if self.request.retries < failing_tries:
            raise OperationalError("server closed the connection unexpectedly")
        return {"tries": self.request.retries + 1}

    return body


@shared_task(name="tests.job_failing_for_tries", base=JobTask, bind=True)
def failing_for_tries(self, run_id: int | None, failing_tries: int) -> dict | None:
    if run_id is None:  # as beat sends a run's task
        run_id = run_of_message(self.request.id, RunKind.FULL)
    return execute_run(run_id, _until_try(self, failing_tries), task_id=self.request.id)


@shared_task(name="tests.job_part_failing", base=JobTask)
def part_failing(run_id: int) -> None:
    """A part of a run (as a shard is): it records no outcome of its own."""
    raise ValueError("the shard's plan names a slot that does not exist")


@shared_task(
    name="tests.job_failing_quickly",
    base=JobTask,
    bind=True,
    max_retries=1,
    retry_backoff=False,
    default_retry_delay=0,
)
def failing_quickly(self, run_id: int) -> dict | None:
    return execute_run(run_id, _until_try(self, 99), task_id=self.request.id)


@pytest.fixture(autouse=True)
def _tries():
    TRIES.clear()


@pytest.fixture(autouse=True)
def _eager_failures_kept():
    """``apply()`` runs a task's tries here, as a worker would; a failing try is kept on its
    result, not raised (the suite's eager mode raises them: the retries' apply() would too)."""
    before = failing_for_tries.app.conf.task_eager_propagates
    failing_for_tries.app.conf.task_eager_propagates = False
    yield
    failing_for_tries.app.conf.task_eager_propagates = before


def test_a_run_whose_every_try_hits_a_transient_error_ends_failed_not_running():
    run = Job.objects.create(kind=RunKind.FULL)

    failing_for_tries.apply(args=[run.pk, 99])

    run.refresh_from_db()
    assert TRIES == [0, 1, 2, 3, 4, 5]  # the first try and max_retries (5) more
    assert run.status == RunStatus.FAILED
    assert run.finished_at is not None
    assert run.error == (
        "OperationalError: server closed the connection unexpectedly (gave up after 6 tries)"
    )


def test_a_run_that_succeeds_on_a_retry_is_done_and_not_failed():
    run = Job.objects.create(kind=RunKind.FULL)

    failing_for_tries.apply(args=[run.pk, 2])

    run.refresh_from_db()
    assert TRIES == [0, 1, 2]
    assert (run.status, run.error, run.result) == (RunStatus.DONE, "", {"tries": 3})


def test_a_scheduled_message_retried_makes_one_run_not_one_per_try():
    failing_for_tries.apply(args=[None, 2])

    (run,) = Job.objects.all()
    assert TRIES == [0, 1, 2]
    assert (run.status, run.result) == (RunStatus.DONE, {"tries": 3})


def test_a_failing_part_of_a_run_fails_the_run_with_its_error():
    run = Job.objects.create(kind=RunKind.FULL, status=RunStatus.RUNNING)

    part_failing.apply(args=[run.pk])

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "ValueError: the shard's plan names a slot that does not exist"


def test_a_finished_run_is_not_failed_by_a_late_duplicate_message():
    run = Job.objects.create(kind=RunKind.FULL, status=RunStatus.DONE, result={"tries": 1})

    part_failing.apply(args=[run.pk])

    run.refresh_from_db()
    assert (run.status, run.error, run.result) == (RunStatus.DONE, "", {"tries": 1})


@pytest.mark.worker
def test_on_a_real_worker_a_run_out_of_retries_is_marked_failed(celery_worker):
    with transaction.atomic():
        run = Job.objects.create(kind=RunKind.IMPORT)
    failing_quickly.delay(run.pk)

    deadline = time.monotonic() + 60
    while run.status != RunStatus.FAILED and time.monotonic() < deadline:
        time.sleep(0.1)
        run.refresh_from_db()
    assert run.status == RunStatus.FAILED, f"still {run.status} after 60 s"
    assert run.error.endswith("(gave up after 2 tries)")
    assert TRIES == [0, 1]
