import datetime as dt

from celery import shared_task
from django.conf import settings

from abm.change_feed import changes_consumed
from abm.jobs import CONTINUES, TRANSIENT_ERRORS, execute_run, run_fail
from abm.models import Job, RunKind
from metrics.engine.runner import recompute_all, recompute_changed
from metrics.engine.sharding import run_finish_of_shards, run_shard, start_sharded

# Tasks of a Job keep their outcome on the row, not in Celery's result store: a sender that
# awaits no result then never subscribes to one, which with Redis down stalls it for ~20 s and
# then raises RuntimeError instead of a broker error (abm/job_sending.py).
_RETRIED = {
    "bind": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "max_retries": 5,
    "ignore_result": True,
}


@shared_task(name="metrics.recompute_all", **_RETRIED)
def recompute_all_task(self, run_id: int | None = None) -> dict | None:
    """Idempotent by its Job row and by overwriting every stored result.

    Beat sends it without a run; a button or an API call enqueues it with one. A worker killed
    mid-run hands the message back (acks_late): the run, still "running", starts over. With
    more than one shard (the run's params, else ``ABM_ENGINE_SHARDS``) its slots go to shard
    tasks on any worker, and the last of them sends the finish.
    """
    if run_id is None:
        run_id = Job.objects.create(kind=RunKind.FULL).pk
    return execute_run(run_id, _full_run, task_id=self.request.id)


@shared_task(name="metrics.recompute_incremental", **_RETRIED)
def recompute_incremental_task(self, run_id: int) -> dict | None:
    """The consumer of the change feed, debounced after a burst of changes (abm/change_feed.py):
    the slots of the changed accounts, then the finish."""
    return execute_run(run_id, _changed_run, task_id=self.request.id)


@shared_task(name="metrics.recompute_shard", acks_late=True, **_RETRIED)
def recompute_shard_task(self, run_id: int, shard: int) -> None:
    """A shard of a sharded run: its slots, each stored whole in one transaction."""
    _failing_the_run(run_id, lambda: run_shard(run_id, shard))


@shared_task(name="metrics.recompute_finish", acks_late=True, **_RETRIED)
def recompute_finish_task(self, run_id: int) -> None:
    """The finish of a sharded run, sent by its last shard; a second delivery does nothing."""
    _failing_the_run(run_id, lambda: run_finish_of_shards(run_id))


def _full_run(run: Job):
    shards = int(run.params.get("shards") or settings.ABM_ENGINE_SHARDS)
    slots, now = run.params.get("slots"), run.params.get("as_of")
    now = dt.datetime.fromisoformat(now) if now else None
    if shards > 1:
        start_sharded(run, shards, slots=slots, now=now)
        return CONTINUES
    with changes_consumed():
        return recompute_all(run=run, slots=slots, now=now)


def _changed_run(run: Job) -> dict:
    with changes_consumed() as changes:
        return recompute_changed(changes.account_ids, run=run)


def _failing_the_run(run_id: int, work) -> None:
    try:
        work()
    except TRANSIENT_ERRORS:
        raise  # retried; the run stays "running"
    except Exception as exc:
        run_fail(run_id, error=f"{type(exc).__name__}: {exc}")
        raise
