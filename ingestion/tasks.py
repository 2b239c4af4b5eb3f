from celery import shared_task

from abm.job_task import JobTask
from abm.jobs import execute_run
from ingestion.import_jobs import import_job_check_execute, import_job_execute


@shared_task(name="ingestion.import_csv", base=JobTask, bind=True)
def import_csv(self, run_id: int) -> dict | None:
    """Idempotent by its Job row and by natural keys: a re-run finds every row written."""
    return execute_run(run_id, lambda run: import_job_execute(run=run), task_id=self.request.id)


@shared_task(name="ingestion.import_check", base=JobTask, bind=True)
def import_check(self, run_id: int) -> dict | None:
    """Idempotent by its Job row; it writes nothing but the run's result."""
    return execute_run(
        run_id, lambda run: import_job_check_execute(run=run), task_id=self.request.id
    )
