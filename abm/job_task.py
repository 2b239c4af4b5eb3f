"""The Celery task class of every job that has a Job row (``base=JobTask``).

A transient database error (the database restarted, a deadlock) is retried with backoff. When
the last try fails too, or the task fails otherwise before its run recorded the failure, the run
is marked failed with the error: left "running", its progress bar would spin forever and every
later wait for it (a test, a user) would time out.
"""

import logging

from celery import Task

from abm.jobs import TRANSIENT_ERRORS, run_fail_unfinished

log = logging.getLogger(__name__)


class JobTask(Task):
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = True
    max_retries = 5
    # The outcome is on the Job row, not in Celery's result store: a sender that awaits no
    # result never subscribes to one, which with Redis down stalls it ~20 s (job_sending.py).
    ignore_result = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """After the last try: the run this message ran (its ``run_id``, else the run it
        claimed) failed, if nothing recorded that yet."""
        run_id = kwargs.get("run_id", args[0] if args else None)
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, TRANSIENT_ERRORS):
            error += f" (gave up after {self.request.retries + 1} tries)"
        try:
            run_fail_unfinished(run_id=run_id, task_id=task_id, error=error)
        except TRANSIENT_ERRORS:  # the database is still away: the run stays as it was
            log.exception("could not record the failure of run %s", run_id or task_id)
