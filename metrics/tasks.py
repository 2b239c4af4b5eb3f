from celery import shared_task

from metrics.models import MetricRun, RunKind
from metrics.runs import TRANSIENT_ERRORS, execute_run


@shared_task(
    name="metrics.recompute_all",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
)
def recompute_all_task(run_id: int | None = None) -> dict | None:
    """Idempotent by its MetricRun row and by overwriting every stored result.

    Beat sends it without a run; a button or an API call enqueues it with one. A worker killed
    mid-run hands the message back (acks_late): the run, still "running", starts over.
    """
    from metrics.recompute import recompute_all

    if run_id is None:
        run_id = MetricRun.objects.create(kind=RunKind.FULL).pk
    return execute_run(run_id, lambda run: recompute_all(run=run))


@shared_task(
    name="metrics.recompute_incremental",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
)
def recompute_incremental_task(run_id: int) -> dict | None:
    """The debounced run after a burst of changes (metrics/triggers.py): the same computation
    as the full recompute, idempotent in the same ways."""
    from metrics.recompute import recompute_all

    return execute_run(run_id, lambda run: recompute_all(run=run))
