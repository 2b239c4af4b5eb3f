from celery import shared_task

from abm.exports import export_files_delete_old, export_job_execute
from abm.job_sending import sweep_unsent_runs
from abm.job_task import JobTask
from abm.jobs import execute_run


@shared_task(name="abm.sweep_unsent_jobs", ignore_result=True)
def sweep_unsent_jobs_task() -> dict:
    """Sends queued jobs the broker never got (abm/job_sending.py). Idempotent by run_claim:
    a job sent twice is claimed by one message, and the other finds it taken or done."""
    return sweep_unsent_runs()


@shared_task(name="abm.export_csv", base=JobTask, bind=True)
def export_csv(self, run_id: int) -> dict | None:
    """Idempotent by its Job row: a finished run is not written again, and a restarted one
    writes a fresh file that replaces the link to nothing (the half-written file is never named)."""
    return execute_run(run_id, lambda run: export_job_execute(run=run), task_id=self.request.id)


@shared_task(name="abm.delete_old_exports", ignore_result=True)
def delete_old_exports() -> list[str]:
    """Idempotent: deleting files that are already gone does nothing."""
    return export_files_delete_old()
