from celery import shared_task

from abm.change_feed import changes_consumed
from abm.jobs import TRANSIENT_ERRORS, execute_run
from abm.models import Job, RunKind
from metrics.engine.runner import recompute_all

# Tasks of a Job keep their outcome on the row, not in Celery's result store: a sender that
# awaits no result then never subscribes to one, which with Redis down stalls it for ~20 s and
# then raises RuntimeError instead of a broker error (abm/job_sending.py).


@shared_task(
    bind=True,
    name="metrics.recompute_all",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def recompute_all_task(self, run_id: int | None = None) -> dict | None:
    """Idempotent by its Job row and by overwriting every stored result.

    Beat sends it without a run; a button or an API call enqueues it with one. A worker killed
    mid-run hands the message back (acks_late): the run, still "running", starts over.
    """
    if run_id is None:
        run_id = Job.objects.create(kind=RunKind.FULL).pk
    return execute_run(run_id, _recompute_consuming_changes, task_id=self.request.id)


@shared_task(
    bind=True,
    name="metrics.recompute_incremental",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def recompute_incremental_task(self, run_id: int) -> dict | None:
    """The consumer of the change feed, debounced after a burst of changes (abm/change_feed.py):
    the same computation as the full recompute, idempotent in the same ways."""
    return execute_run(run_id, _recompute_consuming_changes, task_id=self.request.id)


def _recompute_consuming_changes(run: Job) -> dict:
    # Every recompute reads all data, so it consumes every change announced before it started.
    with changes_consumed():
        return recompute_all(run=run)
