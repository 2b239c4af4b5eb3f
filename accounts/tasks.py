from celery import shared_task

from abm.jobs import TRANSIENT_ERRORS, execute_run
from accounts.rescoring import icp_rescore

# ignore_result: the outcome is on the Job row (see metrics/tasks.py).


@shared_task(
    bind=True,
    name="accounts.rescore_fit",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def rescore_fit(self, run_id: int) -> dict | None:
    """Idempotent by its Job row and by overwriting every score."""
    return execute_run(run_id, lambda run: icp_rescore(run=run), task_id=self.request.id)
