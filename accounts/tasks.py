from celery import shared_task

from abm.job_task import JobTask
from abm.jobs import execute_run
from accounts.rescoring import icp_rescore


@shared_task(name="accounts.rescore_fit", base=JobTask, bind=True)
def rescore_fit(self, run_id: int) -> dict | None:
    """Idempotent by its Job row and by overwriting every score."""
    return execute_run(run_id, lambda run: icp_rescore(run=run), task_id=self.request.id)
