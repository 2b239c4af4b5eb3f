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

    Beat sends it without a run; a button or an API call enqueues it with one.
    """
    from metrics.recompute import recompute_all

    if run_id is None:
        run_id = MetricRun.objects.create(kind=RunKind.FULL).pk
    return execute_run(run_id, lambda run: recompute_all(run=run))
