from celery import shared_task

from metrics.models import MetricRun, RunKind
from metrics.runs import TRANSIENT_ERRORS, execute_run

# Tasks of a MetricRun keep their outcome on the row, not in Celery's result store: a sender that
# awaits no result then never subscribes to one, which with Redis down stalls it for ~20 s and
# then raises RuntimeError instead of a broker error (metrics/run_sending.py).


@shared_task(
    bind=True,
    name="metrics.recompute_all",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def recompute_all_task(self, run_id: int | None = None) -> dict | None:
    """Idempotent by its MetricRun row and by overwriting every stored result.

    Beat sends it without a run; a button or an API call enqueues it with one. A worker killed
    mid-run hands the message back (acks_late): the run, still "running", starts over.
    """
    from metrics.recompute import recompute_all

    if run_id is None:
        run_id = MetricRun.objects.create(kind=RunKind.FULL).pk
    return execute_run(run_id, lambda run: recompute_all(run=run), task_id=self.request.id)


@shared_task(
    bind=True,
    name="metrics.recompute_incremental",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def recompute_incremental_task(self, run_id: int) -> dict | None:
    """The debounced run after a burst of changes (metrics/triggers.py): the same computation
    as the full recompute, idempotent in the same ways."""
    from metrics.recompute import recompute_all

    return execute_run(run_id, lambda run: recompute_all(run=run), task_id=self.request.id)


@shared_task(name="metrics.sweep_unsent_runs", ignore_result=True)
def sweep_unsent_runs_task() -> dict:
    """Sends queued runs the broker never got (metrics/run_sending.py). Idempotent by run_claim:
    a run sent twice is claimed by one message, and the other finds it taken or done."""
    from metrics.run_sending import sweep_unsent_runs

    return sweep_unsent_runs()
