"""One recompute end to end: load, compute, write in one transaction, then tell the apps above.

Recompute-and-overwrite makes a re-run, or a re-delivered task, harmless; the incremental run
(the change feed's consumer, abm/change_feed.py) is this same computation, which takes seconds
for 1M activities. Each phase is timed (``result["seconds"]``) for ``manage.py recompute_metrics``
and the benchmark, and two recomputes never overlap: the second waits on an advisory lock.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from abm.jobs import run_enqueue, run_progress
from abm.lib.db_stats import analyze
from abm.models import Job, RunKind
from metrics import stages
from metrics.engine.compute.accounts import (
    account_scores,
    engaged_accounts,
    journey_stages_now,
    score_history,
    with_new_mqa,
)
from metrics.engine.compute.credits import attribution_credits
from metrics.engine.compute.rollup_rows import build_rollups
from metrics.engine.loading import load_history_start, load_inputs
from metrics.engine.params import EngineParams
from metrics.engine.writing import replace_rows, write_credits, write_engagement, write_stages
from metrics.models import AttributionCredit, MetricRollup
from metrics.signals import metrics_recomputed
from metrics.touch_rules import attribution_touches
from playbooks.task_generation import tasks_enqueue

# The Celery task that runs ``recompute_all`` (metrics/tasks.py), sent by name.
RECOMPUTE_TASK = "metrics.recompute_all"
# pg_advisory_lock key: "abm recompute".
_LOCK_KEY = 0x61626D_7263


def recompute_enqueue(*, by=None) -> Job:
    """Queue a full recompute as a background job, sent once the caller's transaction commits."""
    return run_enqueue(kind=RunKind.FULL, task=RECOMPUTE_TASK, requested_by=by)


def recompute_all(
    *,
    run: Job | None = None,
    now: dt.datetime | None = None,
    rewrite_credits: bool = False,
    queue_tasks: bool = True,
) -> dict:
    """Recompute everything as of ``now``; ``rewrite_credits`` rewrites every credit row
    instead of those whose digest changed. ``queue_tasks=False`` leaves out the task job that
    stage changes queue (the demo seeder, computing as of a simulated day, runs its cadence)."""
    now = pd.Timestamp(now or timezone.now()).tz_convert("UTC")
    params = EngineParams.from_settings(settings)
    watch = Stopwatch()
    # Percents follow each phase's share of the time on 10 000 accounts (see the benchmark).
    with _exclusive():
        _progress(run, "loading accounts, deals and activities", 2)
        with watch.phase("load"):
            data = load_inputs(now, params)

        _progress(run, f"scoring engagement of {len(data.accounts):,} accounts", 26)
        with watch.phase("engagement"):
            scores = account_scores(data, now, params)
            history_start = load_history_start(now, params)
            history = score_history(data, history_start, now, params)
            engaged_months, engaged_in_period = engaged_accounts(data, now, params)

        _progress(run, "evaluating journey stages", 41)
        with watch.phase("stages"):
            new_stages = journey_stages_now(
                data.accounts, scores, data.opportunities, data.activities, now, params
            )
            previous = data.accounts.set_index("account_id")["stage"]
            changes = stages.stage_changes(previous, new_stages)
            first_mqa = with_new_mqa(data.first_mqa, changes, now)

        _progress(run, f"attributing {len(data.opportunities):,} deals with 8 models", 43)
        with watch.phase("attribution"):
            touches = attribution_touches(data.activities, first_mqa, data.touch_rules)
            credits = attribution_credits(touches, data.opportunities, now, params)

        _progress(run, "rolling up spend, ROI, lift and leads", 64)
        with watch.phase("rollups"):
            rollup = build_rollups(
                data,
                credits,
                touches,
                first_mqa,
                new_stages,
                engaged_months,
                engaged_in_period,
                now,
                params,
            )

        _progress(run, f"saving {len(credits):,} credits and {len(rollup):,} rollups", 77)
        # One transaction: dashboards see the previous run or this one, never a mix.
        with transaction.atomic():
            with watch.phase("write engagement"):
                write_engagement(scores, history, history_start=history_start, now=now)
            with watch.phase("write stages"):
                write_stages(changes, now)
            with watch.phase("write credits"):
                credits_written = write_credits(credits, rewrite=rewrite_credits)
            with watch.phase("write rollups"):
                replace_rows(MetricRollup.objects.all(), rollup)
                # Goal progress and the like, after this run's stage changes, in its transaction.
                metrics_recomputed.send(sender=MetricRollup, now=now.to_pydatetime(), run=run)
            watch.start("commit")
        watch.stop("commit")
        if queue_tasks and len(changes):
            # Accounts that moved may enter a playbook stage: its tasks due now follow at once.
            tasks_enqueue(reason=f"{len(changes):,} journey stage changes")
        with watch.phase("analyze"):
            analyze(MetricRollup, AttributionCredit)
    return {
        "accounts": len(data.accounts),
        "activities": len(data.activities),
        "opportunities": len(data.opportunities),
        "stage_changes": len(changes),
        "credit_rows": len(credits),
        "credit_rows_written": credits_written,
        "rollup_rows": len(rollup),
        "as_of": now.isoformat(),
        "touch_rules": data.touch_rules.as_dict(),  # the rule these figures follow (dashboards)
        "seconds": {name: round(s, 3) for name, s in watch.seconds.items()},
        "cpu_seconds": {name: round(s, 3) for name, s in watch.cpu_seconds.items()},
    }


@dataclass
class Stopwatch:
    """Wall-clock seconds per phase, in the order the phases ran, and this process's CPU
    seconds (the database's work shows in the wall clock only)."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def start(self, name: str) -> None:
        self._started = (name, time.perf_counter(), time.process_time())

    def stop(self, name: str) -> None:
        started_name, wall, cpu = self._started
        if started_name != name:
            raise RuntimeError(f"stopping {name!r} while {started_name!r} runs")
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - wall
        self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + time.process_time() - cpu

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.start(name)
        try:
            yield
        finally:
            self.stop(name)


@contextmanager
def _exclusive() -> Iterator[None]:
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
