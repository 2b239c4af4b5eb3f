"""Slots: the engine's unit of work, storage and recompute.

Slot ``k`` of ``n`` holds the accounts with ``id % n == k``. A run takes its slots in batches of
about ``ABM_ENGINE_ACCOUNTS_PER_BATCH`` accounts: a batch loads only its accounts' rows, computes
them once (compute/slot.py, each slot's share of the rollups and Markov counts apart) and
replaces its slots' stored rows in one transaction: a worker killed mid-batch leaves nothing of
it, and computing a slot again changes nothing. A full run lays out
``n`` from the number of accounts (``ABM_ENGINE_ACCOUNTS_PER_SLOT``); a change recomputes the
slots of the changed accounts under the layout in place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from functools import partial

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min

from abm.lib.heap import keeps_heap
from accounts.models import Account
from metrics.engine.compute.slot import compute_slot
from metrics.engine.loading import load_history_start, load_inputs
from metrics.engine.overlap import Ahead, Behind
from metrics.engine.params import EngineParams
from metrics.engine.slot_sums import lock_slots
from metrics.engine.writing import retried_if_deleted, write_slot
from metrics.models import EngineSlot


def slot_count(slots: int | None = None) -> int:
    """The layout of a full run: ``slots`` if given, else one slot per so many accounts."""
    if slots:
        return max(1, int(slots))
    per_slot = settings.ABM_ENGINE_ACCOUNTS_PER_SLOT
    wanted = math.ceil(Account.objects.count() / per_slot)
    return max(1, min(wanted, settings.ABM_ENGINE_MAX_SLOTS))


def stored_layout() -> int | None:
    """The slot count every stored slot was computed under; None without a complete layout."""
    row = EngineSlot.objects.aggregate(n=Count("slot"), low=Min("slots"), high=Max("slots"))
    if not row["n"] or row["low"] != row["high"] or row["n"] != row["low"]:
        return None
    return row["high"]


def slot_members(slots: int) -> dict[int, list[int]]:
    """The account ids of every slot, from one query."""
    ids = np.array(Account.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    return {k: ids[ids % slots == k].tolist() for k in range(slots)}


@keeps_heap  # a batch's arrays reuse the previous batch's pages (abm/lib/heap.py)
def run_slots(
    chosen: Iterable[int],
    slots: int,
    now: pd.Timestamp,
    params: EngineParams,
    watch,
    *,
    write_behind: bool = True,
) -> dict:
    """Compute and store each chosen slot, a batch of slots per transaction; the summed
    counts. ``write_behind=False``: each batch written before the next computes (a shard, one
    of several worker processes on the machine's cores, where a writer thread competed with
    them: two workers took 7.3-8.0 s with it against 6.8 s without, README Benchmarks)."""
    chosen = list(chosen)
    members = slot_members(slots)
    totals = {"accounts": 0, "activities": 0, "opportunities": 0, "stage_changes": 0}
    totals["credit_rows"] = 0
    batches = slot_batches(chosen, members, settings.ABM_ENGINE_ACCOUNTS_PER_BATCH)
    watch.batches = len(batches)
    accounts = [[pk for slot in batch for pk in members[slot]] for batch in batches]

    def add(counts: dict) -> None:
        for name, value in counts.items():
            totals[name] += value

    behind = Behind(overlap=None if write_behind else False)
    with Ahead(lambda ids: load_batch(now, params, ids)) as ahead, behind:
        if batches:
            ahead.start(0, accounts[0])
        for n, (batch, ids) in enumerate(zip(batches, accounts, strict=True)):
            with watch.phase("load"):  # what the run waits for: the rest loads meanwhile
                loaded = ahead.take(n, ids)
            if n + 1 < len(batches):
                ahead.start(n + 1, accounts[n + 1])
            if not behind.overlaps:
                add(run_batch(batch, slots, ids, now, params, watch, loaded=loaded))
                continue
            counts, write = compute_batch(loaded, batch, slots, now, params, watch)
            add(counts)
            redo = partial(_redo, batch, ids, counts, slots, now, params, watch)
            with watch.phase("write slot"):  # waiting for the previous batch's write
                for delta in behind.write(_timed(write, watch), redo=redo):
                    add(delta)
        with watch.phase("write slot"):
            for delta in behind.wait():
                add(delta)
    totals["slots"] = chosen
    return totals


def _redo(batch, ids, counts, slots, now, params, watch) -> dict:
    """A batch whose write hit a row deleted meanwhile, done again from its load: what it
    counts differently from the first time."""
    again = run_batch(batch, slots, ids, now, params, watch)
    return {name: again[name] - counts[name] for name in again}


def _timed(write, watch):
    """The write, its seconds kept apart: the run does not wait for them."""

    def timed() -> None:
        started = time.perf_counter()
        write()
        watch.add("write slot, alongside", time.perf_counter() - started)

    return timed


def slot_batches(chosen: list[int], members: dict, accounts: int) -> list[list[int]]:
    """The chosen slots in runs of about ``accounts`` accounts (at least one slot each): one
    load and one computation per batch, whatever the size of a slot."""
    batches, batch, size = [], [], 0
    for slot in chosen:
        if batch and size + len(members[slot]) > accounts:
            batches.append(batch)
            batch, size = [], 0
        batch.append(slot)
        size += len(members[slot])
    return [*batches, batch] if batch else batches


def load_batch(now: pd.Timestamp, params: EngineParams, account_ids: list[int]) -> tuple:
    """A batch's inputs and the day its history continues from."""
    return load_inputs(now, params, account_ids), load_history_start(now, params, account_ids)


def run_batch(
    batch: list[int],
    slots: int,
    account_ids: list[int],
    now: pd.Timestamp,
    params: EngineParams,
    watch,
    *,
    loaded: tuple | None = None,
) -> dict:
    """Compute and store one batch from ``loaded`` (``load_batch``), loading it here if not
    given and again on a retry."""
    first = [loaded] if loaded is not None else []

    def attempt():
        if first:
            inputs = first.pop()
        else:
            with watch.phase("load"):
                inputs = load_batch(now, params, account_ids)
        counts, write = compute_batch(inputs, batch, slots, now, params, watch)
        with watch.phase("write slot"):
            write()
        return counts

    return retried_if_deleted(
        attempt, what=f"a batch of {len(batch)} slots of {slots}, from slot {batch[0]}"
    )


def compute_batch(loaded, batch, slots, now, params, watch) -> tuple[dict, Callable]:
    """A batch's figures from its inputs: what it counts, and the write that stores it in one
    transaction."""
    data, history_start = loaded
    result = compute_slot(data, now, history_start, params, watch, layout=slots)

    def write() -> None:
        with transaction.atomic():
            lock_slots(batch)  # two runs over the same slots write one after the other
            write_slot(
                result,
                chosen=batch,
                slots=slots,
                account_ids=data.accounts["account_id"].to_numpy(),
                history_start=history_start,
                now=now,
            )

    counts = {
        "accounts": len(data.accounts),
        "activities": len(data.activities),
        "opportunities": len(data.opportunities),
        "stage_changes": len(result.changes),
        "credit_rows": len(result.credits),
    }
    return counts, write
