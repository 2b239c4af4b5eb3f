from celery import shared_task

from abm.jobs import TRANSIENT_ERRORS, execute_run

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
    from accounts.rescoring import icp_rescore

    return execute_run(run_id, lambda run: icp_rescore(run=run), task_id=self.request.id)


@shared_task(
    bind=True,
    name="accounts.export_csv",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def export_csv(self, run_id: int) -> dict | None:
    """Idempotent by its Job row: a finished run is not written again, and a restarted one
    writes a fresh file that replaces the link to nothing (the half-written file is never named)."""
    from accounts.export_jobs import export_job_execute

    return execute_run(run_id, lambda run: export_job_execute(run=run), task_id=self.request.id)


@shared_task(name="accounts.delete_old_exports", ignore_result=True)
def delete_old_exports() -> list[str]:
    """Idempotent: deleting files that are already gone does nothing."""
    from accounts.export_jobs import export_files_delete_old

    return export_files_delete_old()
