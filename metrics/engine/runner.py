"""Runs of the engine: every slot (a full run) or the changed accounts' slots (an incremental
run), then the finish (metrics/engine/finishing.py).

In this process (``recompute_all``, ``recompute_changed``) or over workers (``start_sharded``
fans the slots out as ``metrics.recompute_shard`` tasks, the last to finish sends
``metrics.recompute_finish``): the same slot and finish code either way. Each slot and the finish
are one transaction; recompute-and-overwrite makes a re-run, or a re-delivered task, harmless.
Each phase is timed (``result["seconds"]``) for ``manage.py recompute_metrics`` and the benchmark.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.db import connection
from django.utils import timezone

from abm.jobs import run_enqueue, run_progress
from abm.models import Job, RunKind
from metrics.engine.finishing import finish_run
from metrics.engine.loading import ready_activities
from metrics.engine.params import EngineParams
from metrics.engine.slot_sums import sums_before
from metrics.engine.slots import run_slots, slot_count, stored_layout
from playbooks.task_generation import tasks_enqueue

# The Celery task that runs ``recompute_all`` (metrics/tasks.py), sent by name.
RECOMPUTE_TASK = "metrics.recompute_all"
# pg_advisory_lock key: "abm recompute".
_LOCK_KEY = 0x61626D_7263


def recompute_enqueue(
    *, by=None, shards: int | None = None, slots: int | None = None, now=None
) -> Job:
    """Queue a full recompute as a background job, sent once the caller's transaction commits;
    ``shards`` > 1 spreads its slots over that many worker tasks; ``now``: as of when (the
    time it starts, by default)."""
    params = {name: n for name, n in (("shards", shards), ("slots", slots)) if n}
    if now is not None:
        params["as_of"] = as_of(now).isoformat()
    return run_enqueue(kind=RunKind.FULL, task=RECOMPUTE_TASK, requested_by=by, params=params)


def as_of(now: dt.datetime | None) -> pd.Timestamp:
    return pd.Timestamp(now or timezone.now()).tz_convert("UTC")


def recompute_all(
    *,
    run: Job | None = None,
    now: dt.datetime | None = None,
    queue_tasks: bool = True,
    slots: int | None = None,
) -> dict:
    """Recompute every slot and finish, in this process, as of ``now``. ``queue_tasks=False``
    leaves out the task job that stage changes queue (the demo seeder, computing as of a
    simulated day, runs its cadence)."""
    return _run(run, as_of(now), slot_count(slots), None, queue_tasks=queue_tasks)


def recompute_changed(
    account_ids: Iterable[int] | None, *, run: Job | None = None, now: dt.datetime | None = None
) -> dict:
    """Recompute the slots of these accounts and finish; everything when ``account_ids`` is
    None (a change to every account) or no complete slot layout is stored yet."""
    layout = stored_layout()
    if account_ids is None or layout is None:
        return recompute_all(run=run, now=now)
    chosen = sorted({int(pk) % layout for pk in account_ids})
    return _run(run, as_of(now), layout, chosen, queue_tasks=True)


def _run(run, now: pd.Timestamp, slots: int, chosen, *, queue_tasks: bool) -> dict:
    params = EngineParams.from_settings(settings)
    watch = Stopwatch()
    chosen = list(range(slots) if chosen is None else chosen)
    watch.on_phase = _phase_progress(run, watch)
    if len(chosen) == slots:
        ready_activities()
    with exclusive():
        before = sums_before(chosen, slots)
        counts = run_slots(chosen, slots, now, params, watch)
        finished = finish_run(
            run, now, slots, params, watch, analyze_credits=len(chosen) == slots, before=before
        )
    if queue_tasks and counts["stage_changes"]:
        # Accounts that moved may enter a playbook stage: its tasks due now follow at once.
        tasks_enqueue(reason=f"{counts['stage_changes']:,} journey stage changes")
    return run_result(now, slots, counts, finished, watch)


def run_result(now: pd.Timestamp, slots: int, counts: dict, finished: dict, watch) -> dict:
    return {
        **{k: v for k, v in counts.items() if k != "slots"},
        "credit_rows": counts["credit_rows"],
        "rollup_rows": finished["rollup_rows"],
        "slots": slots,
        "slots_computed": len(counts["slots"]),
        "as_of": now.isoformat(),
        "touch_rules": finished["touch_rules"],
        "removal_effects": finished["removal_effects"],
        "sums": finished["sums"],
        "kept": finished["kept"],
        "seconds": {name: round(s, 3) for name, s in watch.seconds.items()},
        "cpu_seconds": {name: round(s, 3) for name, s in watch.cpu_seconds.items()},
    }


# Each phase: what the progress bar says, and where in a slot (or the finish) it starts.
_PHASES = {
    "load": ("loading accounts, deals and activities", 0.0),
    "engagement": ("scoring engagement", 0.25),
    "stages": ("evaluating journey stages", 0.4),
    "attribution": ("attributing deals with 7 models", 0.45),
    "rollups": ("rolling up spend, mqa, deals and engaged accounts", 0.65),
    "write slot": ("saving scores, stages and credits", 0.75),
    "finish load": ("reading every slot's sums", 0.0),
    "finish compute": ("attributing with Markov; rolling up budget, ROI, lift and leads", 0.3),
    "write finish": ("saving the rollups", 0.8),
    "analyze": ("updating table statistics", 0.95),
}


def _phase_progress(run: Job | None, watch: Stopwatch) -> Callable[[str], None]:
    """The batches of slots take 2 % to 85 % of the bar (``watch.batches`` of them, each
    starting with a load), the finish the rest; the bar only moves forward."""
    state = {"batch": -1, "percent": 0}

    def report(name: str) -> None:
        text, at = _PHASES.get(name, (name, 0.0))
        if name == "load":
            state["batch"] += 1
        if name.startswith("finish") or name in ("write finish", "analyze"):
            percent = 85 + int(14 * at)
        else:
            batches = max(watch.batches, 1)
            percent = 2 + int(83 * (state["batch"] + at) / batches)
            text = f"part {state['batch'] + 1} of {batches}: {text}"
        if percent > state["percent"]:
            state["percent"] = percent
            _progress(run, text, percent)

    return report


@dataclass
class Stopwatch:
    """Wall-clock seconds per phase, in the order the phases ran, and this process's CPU
    seconds (the database's work shows in the wall clock only)."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    on_phase: Callable[[str], None] | None = None  # told of each phase as it starts
    batches: int = 1  # of slots, in the run (slots.run_slots says), for the progress bar
    _adding: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self, name: str) -> None:
        if self.on_phase is not None:
            self.on_phase(name)
        self._started = (name, time.perf_counter(), time.process_time())

    def stop(self, name: str) -> None:
        started_name, wall, cpu = self._started
        if started_name != name:
            raise RuntimeError(f"stopping {name!r} while {started_name!r} runs")
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - wall
        self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + time.process_time() - cpu

    def add(self, name: str, seconds: float) -> None:
        """Seconds spent elsewhere (another thread) under ``name``; no phase starts."""
        with self._adding:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.start(name)
        try:
            yield
        finally:
            self.stop(name)


@contextmanager
def exclusive() -> Iterator[None]:
    """Serialise recomputes on PostgreSQL: a second one waits rather than interleaving writes."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def _progress(run: Job | None, phase: str, percent: int) -> None:
    if run is not None:
        run_progress(run, phase=phase, percent=percent)
