import datetime as dt

from celery import shared_task
from django.conf import settings

from abm.change_feed import changes_consumed
from abm.job_task import JobTask
from abm.jobs import CONTINUES, execute_run, run_of_message
from abm.models import Job, RunKind
from metrics.engine.runner import recompute_all, recompute_changed
from metrics.engine.sharding import run_finish_of_shards, run_shard, start_sharded

# JobTask: retried on transient database errors; a run whose last try fails is marked failed.


@shared_task(name="metrics.recompute_all", base=JobTask, bind=True)
def recompute_all_task(self, run_id: int | None = None) -> dict | None:
    """Idempotent by its Job row and by overwriting every stored result.

    Beat sends it without a run; a button or an API call enqueues it with one. A worker killed
    mid-run hands the message back (acks_late): the run, still "running", starts over. With
    more than one shard (the run's params, else ``ABM_ENGINE_SHARDS``) its slots go to shard
    tasks on any worker, and the last of them sends the finish.
    """
    if run_id is None:
        run_id = run_of_message(self.request.id, RunKind.FULL)
    return execute_run(run_id, _full_run, task_id=self.request.id)


@shared_task(name="metrics.recompute_incremental", base=JobTask, bind=True)
def recompute_incremental_task(self, run_id: int) -> dict | None:
    """The consumer of the change feed, debounced after a burst of changes (abm/change_feed.py):
    the slots of the changed accounts, then the finish."""
    return execute_run(run_id, _changed_run, task_id=self.request.id)


@shared_task(name="metrics.recompute_shard", base=JobTask, acks_late=True)
def recompute_shard_task(run_id: int, shard: int) -> None:
    """A shard of a sharded run: its slots, each stored whole in one transaction. Its failure
    fails the run (JobTask)."""
    run_shard(run_id, shard)


@shared_task(name="metrics.recompute_finish", base=JobTask, acks_late=True)
def recompute_finish_task(run_id: int) -> None:
    """The finish of a sharded run, sent by its last shard; a second delivery does nothing."""
    run_finish_of_shards(run_id)


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
