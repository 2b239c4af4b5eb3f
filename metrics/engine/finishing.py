"""The finish of a run, after its slots: Markov's removal effects and every rollup, in one
transaction, then the apps above are told (``metrics_recomputed``).

Markov's credits are not written: the removal effects move with every run, so each run would
rewrite a row per deal and channel (51 000 at 10 000 accounts). They are derived where read
(``MarkovCredit``, a view over the linear rows and the stored effects); the finish derives them
here too, for the credit rollup."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pandas as pd
from django.db import connection, transaction

from abm.lib.db_stats import vacuum
from abm.lib.heap import keeps_heap
from accounts.models import Account
from metrics.engine import kept
from metrics.engine.compute.credits import effect_rows, markov_credits, removal_effects
from metrics.engine.compute.finish import finish_rollups
from metrics.engine.loading import load_engaged_in_period, load_finish_inputs, load_linear_credits
from metrics.engine.overlap import Behind
from metrics.engine.params import EngineParams
from metrics.engine.slot_sums import MOVE_AT_MOST, Before, load_slot_sums, write_sums
from metrics.engine.slots import slot_members
from metrics.engine.writing import retried_if_deleted, write_finish
from metrics.models import (
    AttributionCredit,
    EngagementHistory,
    EngagementScore,
    MetricRollup,
    SlotMarkovCount,
    SlotRollupPack,
    SlotRollupSum,
)
from metrics.signals import metrics_recomputed

# A full run vacuums a result table when more than this share of its rows changed.
VACUUM_WHEN_CHANGED = 0.1


@keeps_heap  # abm/lib/heap.py
def finish_run(
    run,
    now: pd.Timestamp,
    slots: int,
    params: EngineParams,
    watch,
    *,
    analyze_credits=True,
    before: Before | None = None,
) -> dict:
    """Markov's removal effects from every slot's transition counts, and the rollups from every
    slot's sums plus the parts over all accounts; the counts it stored. ``before``: the sums of
    the slots an incremental run rewrote, as they were (slot_sums.py). An incremental run leaves
    the tables' statistics to autovacuum (``analyze_credits=False``): a few slots changed."""
    return retried_if_deleted(
        lambda: _finish(run, now, slots, params, watch, analyze_credits, before),
        what="the finish",
    )


def _finish(run, now, slots, params, watch, analyze_credits, before) -> dict:
    with Behind() as early:

        def loaded() -> None:
            # The tables only the slots wrote are vacuumed on a connection of their own while
            # the finish computes and writes: the database's work on the other core, not after.
            # Not before the finish's reads: the slots' writers' row counts, which the vacuum
            # goes by, reach the statistics when their connections close (or within a second).
            if analyze_credits:
                early.write(_vacuum_slot_tables, redo=_vacuum_slot_tables)

        result = _finish_rollups(run, now, slots, params, watch, before, loaded)
        if analyze_credits:
            with watch.phase("analyze"):
                # The tables the finish wrote, once written. Fresh statistics for the next
                # finish's plans (a sum over tables never analyzed sorted on disk: 2.5 s), and
                # their dead rows' space reused by the next run.
                vacuum(MetricRollup, SlotRollupSum, changed=VACUUM_WHEN_CHANGED)
                early.wait()
    return result


def _vacuum_slot_tables() -> None:
    """After a full run: the slots' result tables, so their dead rows' space is reused by the
    next run instead of growing them (an incremental run changed a few slots and leaves them to
    autovacuum; tables merged with few changes are left alone). The scores (rewritten whole)
    and the accounts (each one's score updated) without new statistics: where autovacuum was
    off they grew by a run's rows with every run, and writing the history into 200 000 dead
    rows took 0.55 s, not 0.2."""
    vacuum(AttributionCredit, SlotRollupPack, SlotMarkovCount, changed=VACUUM_WHEN_CHANGED)
    scores = (EngagementScore, EngagementHistory, Account)
    vacuum(*scores, changed=VACUUM_WHEN_CHANGED, statistics=False)


def _finish_rollups(run, now, slots, params, watch, before, loaded) -> dict:
    with _reading_and_writing():
        with watch.phase("finish load"):
            data = load_finish_inputs(now, params)
            sums = load_slot_sums(slots, before)
            linear, linear_kept = _linear_credits(slots, sums.versions)
            engaged = load_engaged_in_period()
        loaded()
        with watch.phase("finish compute"):
            effects = removal_effects(sums.counts)
            markov = markov_credits(linear, data.opportunities, effects)
            rollup = finish_rollups(data, sums.rollup, markov, engaged, now, params)
        with watch.phase("write finish"), transaction.atomic():
            write_finish(effect_rows(effects), rollup, slots=slots)
            write_sums(sums)
            # Goal progress and the like, after this run's rows, in the same transaction.
            metrics_recomputed.send(sender=MetricRollup, now=now.to_pydatetime(), run=run)
    return {
        "rollup_rows": len(rollup),
        "sums": "summed" if sums.replaced_keys is None else "moved",  # slot_sums.py
        # Read from what this worker kept, not the database (kept.py).
        "kept": [name for name, held in (("sums", sums.kept), ("linear", linear_kept)) if held],
        "touch_rules": data.touch_rules.as_dict(),  # the rule these figures follow (dashboards)
        "removal_effects": {
            kind: {str(k): round(float(v), 6) for k, v in series.items()}
            for kind, series in effects.items()
        },
    }


def _linear_credits(slots: int, versions: dict[int, str]) -> tuple[pd.DataFrame, bool]:
    """The linear credits: as this worker kept them, with the rows of the slots written since
    read again (as many as a finish moves the sums for), else all read; whether kept."""
    held = kept.kept("linear")
    changed = None if held is None else held.changed(slots, versions)
    reuse = changed is not None and len(changed) <= max(1, slots // MOVE_AT_MOST)
    if not reuse:
        frame = load_linear_credits()
    elif changed:
        old = held.frame
        others = old.loc[~np.isin(old["account_id"].to_numpy() % slots, changed)]
        members = slot_members(slots)
        fresh = load_linear_credits([pk for slot in changed for pk in members[slot]])
        frame = pd.concat([others, fresh], ignore_index=True)
    else:
        frame = held.frame
    kept.keep("linear", slots, versions, frame)
    return frame, reuse


def _reading_and_writing():
    """On PostgreSQL one transaction from the first read to the write: the slots whose sums it
    reads stay locked as read until the sums are stored. SQLite writes one transaction at a time
    and would fail a long deferred transaction that a request wrote under (SQLITE_BUSY_SNAPSHOT):
    there only the write is one."""
    return transaction.atomic() if connection.vendor == "postgresql" else nullcontext()
