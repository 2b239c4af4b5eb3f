from celery import shared_task

from metrics.runs import TRANSIENT_ERRORS, execute_run


@shared_task(
    name="accounts.rescore_fit",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
)
def rescore_fit(run_id: int) -> dict | None:
    """Idempotent by its MetricRun row and by overwriting every score."""
    from accounts.rescoring import icp_rescore

    return execute_run(run_id, lambda run: icp_rescore(run=run))


@shared_task(
    name="accounts.import_csv",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
)
def import_csv(run_id: int) -> dict | None:
    """Idempotent by its MetricRun row and by natural keys: a re-run finds every row written."""
    from accounts.import_jobs import import_job_execute

    return execute_run(run_id, lambda run: import_job_execute(run=run))
