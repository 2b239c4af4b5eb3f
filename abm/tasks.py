from celery import shared_task

from abm.job_sending import sweep_unsent_runs


@shared_task(name="abm.sweep_unsent_jobs", ignore_result=True)
def sweep_unsent_jobs_task() -> dict:
    """Sends queued jobs the broker never got (abm/job_sending.py). Idempotent by run_claim:
    a job sent twice is claimed by one message, and the other finds it taken or done."""
    return sweep_unsent_runs()
