from celery import shared_task

from abm.jobs import TRANSIENT_ERRORS, execute_run
from ingestion.import_jobs import import_job_check_execute, import_job_execute

# ignore_result: the outcome is on the Job row (see metrics/tasks.py).


@shared_task(
    bind=True,
    name="ingestion.import_csv",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def import_csv(self, run_id: int) -> dict | None:
    """Idempotent by its Job row and by natural keys: a re-run finds every row written."""
    return execute_run(run_id, lambda run: import_job_execute(run=run), task_id=self.request.id)


@shared_task(
    bind=True,
    name="ingestion.import_check",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def import_check(self, run_id: int) -> dict | None:
    """Idempotent by its Job row; it writes nothing but the run's result."""
    return execute_run(
        run_id, lambda run: import_job_check_execute(run=run), task_id=self.request.id
    )
