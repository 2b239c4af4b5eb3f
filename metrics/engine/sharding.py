"""A full run over workers: its slots dealt out to ``shards`` tasks (``metrics.recompute_shard``),
each computing and storing its slots (bounded by a slot's memory), and the finish sent by the
last one to end (``metrics.recompute_finish``).

The plan and the shards' outcome live on the run's Job row, so no result backend is needed:
a shard redelivered after its worker died computes its slots again (each one a transaction,
stored whole or not at all); one redelivered after it ended finds itself done. Whoever records
the last shard sends the finish, and sending it twice is harmless: the finish runs once for a
run still running.
"""

from __future__ import annotations

import pandas as pd
from django.conf import settings
from django.db import transaction

from abm.change_feed import feed_position, forget_changes
from abm.job_sending import task_named
from abm.jobs import run_finish, run_progress
from abm.models import Job, RunStatus
from metrics.engine.finishing import finish_run
from metrics.engine.params import EngineParams
from metrics.engine.runner import Stopwatch, as_of, exclusive, run_result
from metrics.engine.slots import run_slots, slot_count
from playbooks.task_generation import tasks_enqueue

SHARD_TASK = "metrics.recompute_shard"
FINISH_TASK = "metrics.recompute_finish"


def start_sharded(run: Job, shards: int, *, slots: int | None = None, now=None) -> None:
    """Deal the slots out to ``shards`` tasks, sent once the caller's transaction commits."""
    slots = max(slot_count(slots), shards)
    plan = [list(range(k, slots, shards)) for k in range(shards)]
    run.params = {
        **run.params,
        "as_of": as_of(now).isoformat(),
        "slots": slots,
        "plan": plan,
        "changes_upto": feed_position(),
    }
    run.result = {"shards": {}}
    run.phase, run.percent = f"computing {slots} slots on {shards} workers", 2
    run.save(update_fields=["params", "result", "phase", "percent"])
    shard_task = task_named(SHARD_TASK)
    for shard in range(shards):
        transaction.on_commit(lambda shard=shard: shard_task.delay(run.pk, shard))


def run_shard(run_id: int, shard: int) -> None:
    """Compute and store the shard's slots, record it, and send the finish if it is the last."""
    run = Job.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
    if run is None:
        return  # failed or finished meanwhile
    if str(shard) not in run.result.get("shards", {}):
        params = EngineParams.from_settings(settings)
        watch = Stopwatch()
        now = pd.Timestamp(run.params["as_of"])
        slots = run.params["slots"]
        counts = run_slots(run.params["plan"][shard], slots, now, params, watch, write_behind=False)
        counts["seconds"] = {name: round(s, 3) for name, s in watch.seconds.items()}
        _record(run_id, shard, counts)
    if _all_done(run_id):
        transaction.on_commit(lambda: task_named(FINISH_TASK).delay(run_id))


def run_finish_of_shards(run_id: int) -> None:
    """The finish of a sharded run, once; the run's result sums its shards'."""
    params = EngineParams.from_settings(settings)
    watch = Stopwatch()
    with exclusive():
        run = Job.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
        if run is None or not _all_done(run_id):
            return
        now = pd.Timestamp(run.params["as_of"])
        run_progress(run, phase="attributing with Markov and rolling up", percent=85)
        finished = finish_run(run, now, run.params["slots"], params, watch)
        shards = run.result["shards"].values()
        counts = {
            name: sum(s[name] for s in shards)
            for name in ("accounts", "activities", "opportunities", "stage_changes", "credit_rows")
        }
        counts["slots"] = [slot for s in shards for slot in s["slots"]]
        result = run_result(now, run.params["slots"], counts, finished, watch)
        result["shard_seconds"] = {k: s["seconds"] for k, s in run.result["shards"].items()}
        run_finish(run, result=result)
        forget_changes(run.params.get("changes_upto"))
    if counts["stage_changes"]:
        tasks_enqueue(reason=f"{counts['stage_changes']:,} journey stage changes")


def _record(run_id: int, shard: int, counts: dict) -> None:
    with transaction.atomic():
        run = Job.objects.select_for_update().get(pk=run_id)
        done = {**run.result.get("shards", {}), str(shard): counts}
        total = len(run.params["plan"])
        run.result = {"shards": done}
        run.phase = f"{len(done)} of {total} workers' slots computed"
        run.percent = 2 + 83 * len(done) // total
        run.save(update_fields=["result", "phase", "percent"])


def _all_done(run_id: int) -> bool:
    run = Job.objects.get(pk=run_id)
    return len(run.result.get("shards", {})) == len(run.params.get("plan", [None]))
