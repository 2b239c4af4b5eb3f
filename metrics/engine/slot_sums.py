"""Every slot's partial rollups summed per key, kept between runs (``SlotRollupSum``).

The finish needs the sum of every slot's rollup rows (``SlotRollupPack``, compute/packs.py):
780 000 rows at 10 000 accounts in 200 slots, a few tenths of a second for a run that
recomputed one slot. So the finish stores the sums, and the next incremental run moves them by
its slots' difference: it reads the chosen slots' sums before it rewrites them
(``sums_before``) and again in the finish.

The stored sums count a slot's rows while its ``EngineSlot.summed`` is set; writing a slot clears
it (a new row). A finish that finds a slot written by someone else since (a sharded run's
shard) sums every slot again, as a full run does. Reading a slot's rows and marking it summed
happen under the slot's advisory lock, the one its writer holds, so a slot cannot change in
between: with the summed flags, the stored sums are always the sum of the rows they claim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Sum

from abm.lib.frames import frame_from_queryset
from abm.lib.table_copy import insert_rows, merge_rows, row_digests
from metrics.engine import kept
from metrics.engine.compute.packs import DIMS, TEXTS, sum_packs
from metrics.models import EngineSlot, SlotMarkovCount, SlotRollupPack, SlotRollupSum

MEASURES = ["value", "count", "rows"]
_PACKS_PER_FETCH = 16  # a few MB per round trip
# pg_advisory_xact_lock keys: "abm slot" + the slot number (the slot writer's, slots.py).
SLOT_LOCK = 0x61626D_73_0000
# Moving the sums reads the chosen slots' rows twice: at 10 000 accounts in 200 slots, 78 slots
# (100 changed accounts) took 2.5 s where summing all 200 takes 0.6-1.0 s. One slot in eight.
MOVE_AT_MOST = 8
_DELETE_CHUNK = 900  # keys per DELETE: SQLite's old limit of bound parameters


@dataclass(frozen=True)
class Before:
    """The chosen slots' summed rows as the stored sums count them, read before a run
    rewrites those slots, and the slots' versions then."""

    slots: tuple[int, ...]
    rows: pd.DataFrame  # key, DIMS, value, count, rows
    versions: dict[int, str]


@dataclass(frozen=True)
class SlotSums:
    """What the finish reads (``rollup``: the sums per key; ``counts``: Markov's summed
    transition counts) and what it stores back."""

    counts: pd.DataFrame
    stored: pd.DataFrame  # the sums' rows to store: key, DIMS, value, count, rows
    replaced_keys: list[str] | None  # only these keys' rows change; None: every row
    summed: list[int]  # the slots whose rows the stored sums now count
    versions: dict[int, str]  # every slot's version, read before its rows (kept.py)
    slots: int  # the layout
    kept: bool = False  # the stored sums as this worker kept them, not read again

    @property
    def rollup(self) -> pd.DataFrame:
        """The sums as the finish's rollup builders take them: DIMS, value, count."""
        return self.stored[DIMS + ["value", "count"]]


def sums_before(chosen: list[int], slots: int) -> Before | None:
    """The chosen slots' sums, if the stored sums count them and moving the sums costs less
    than summing every slot (at most an eighth of the slots change); else None."""
    if (
        not chosen
        or len(chosen) > max(1, slots // MOVE_AT_MOST)
        or not SlotRollupSum.objects.exists()
    ):
        return None
    with transaction.atomic():
        lock_slots(chosen)
        state = slot_state(slots, chosen)
        if len(state) != len(chosen) or not all(summed for _, summed in state.values()):
            return None
        rows = _summed(SlotRollupPack.objects.filter(slot__in=chosen))
        return Before(tuple(chosen), rows, {s: version for s, (version, _) in state.items()})


def load_slot_sums(slots: int, before: Before | None) -> SlotSums:
    """The slots' sums: the stored ones moved by ``before``'s slots' difference when every
    other slot is counted as it stands, else every slot summed again. Call it in the finish's
    transaction: the slots it reads stay locked until the sums are stored."""
    counts = frame_from_queryset(
        SlotMarkovCount.objects.filter(slot__lt=slots)
        .values("kind", "from_state", "to_state")
        .annotate(total=Sum("count"))
        .order_by(),
        {"kind": "kind", "from_state": "from_state", "to_state": "to_state", "count": "total"},
        texts=("kind", "from_state", "to_state"),
    )
    if before is not None:
        lock_slots(before.slots)
        state = slot_state(slots)
        if _others_counted(state, before.slots, slots):
            versions = {s: version for s, (version, _) in state.items()}
            after = _summed(SlotRollupPack.objects.filter(slot__in=before.slots))
            stored, held = _stored_as_before(slots, {**versions, **before.versions})
            stored, replaced = moved_sums(stored, before.rows, after)
            return SlotSums(counts, stored, replaced, [*before.slots], versions, slots, held)
    lock_slots(range(slots))
    versions = {s: version for s, (version, _) in slot_state(slots).items()}
    stored = _summed(SlotRollupPack.objects.filter(slot__lt=slots))
    return SlotSums(counts, stored, None, list(range(slots)), versions, slots)


def moved_sums(
    stored: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """``stored`` less ``before`` plus ``after`` (all keyed by ``key``), keys no row counts
    any more dropped; and the keys whose row changed."""
    delta = pd.concat([before.assign(**{m: -before[m] for m in MEASURES}), after])
    delta = delta.groupby("key", sort=False).agg(
        {**{d: "first" for d in DIMS}, **{m: "sum" for m in MEASURES}}
    )
    delta = delta.loc[(delta[MEASURES] != 0).any(axis=1)]
    if delta.empty:
        return stored, []
    kept = stored.set_index("key")
    moved = delta.copy()
    known = moved.index.isin(kept.index)
    for measure in MEASURES:
        moved.loc[known, measure] += kept.loc[moved.index[known], measure].to_numpy()
    moved = moved.loc[moved["rows"] > 0]
    out = pd.concat([kept.loc[~kept.index.isin(delta.index)], moved])
    return out.reset_index(), delta.index.tolist()


def write_sums(sums: SlotSums) -> None:
    """Store the sums (every row, or only the changed keys') and mark their slots counted."""
    if sums.replaced_keys is None:
        # Most sums come out as they were: matched on their digest, only the others written.
        merge_rows(SlotRollupSum, sums.stored, digest="digest")
    else:
        keys = sums.replaced_keys
        for start in range(0, len(keys), _DELETE_CHUNK):
            gone = SlotRollupSum.objects.filter(key__in=keys[start : start + _DELETE_CHUNK])
            gone._raw_delete(gone.db)
        changed = sums.stored.loc[sums.stored["key"].isin(set(keys))]
        insert_rows(SlotRollupSum, changed.assign(digest=row_digests(changed)))
    EngineSlot.objects.filter(slot__in=sums.summed).update(summed=True)
    kept.keep("sums", sums.slots, sums.versions, sums.stored, on_commit=True)


def lock_slots(slots) -> None:
    """The slots' advisory locks, in order, until the transaction ends (PostgreSQL; SQLite
    writes one transaction at a time)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) "
            "FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS keys",
            [sorted(SLOT_LOCK + int(s) for s in slots)],
        )


def row_keys(frame: pd.DataFrame) -> pd.Series:
    """One text per rollup key (``metric|period|...``), the same whichever database the frame
    came from (dates or ISO strings, nullable integers as floats or objects)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    parts = []
    for column in DIMS:
        values = frame[column]
        if column == "period":
            text = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        elif column in ("playbook_id", "tier", "owner_id"):
            text = pd.to_numeric(values).astype("Int64").astype("string")
        else:
            text = values.astype("string")
        parts.append(text.fillna("").astype(object))
    return parts[0].str.cat(parts[1:], sep="|")


def slot_state(slots: int, chosen=None) -> dict[int, tuple[str, bool]]:
    """Each slot below ``slots`` (or each of ``chosen``): its version, and whether the stored
    sums count its rows (laid out as ``slots`` and summed since its last write)."""
    rows = EngineSlot.objects.filter(slot__lt=slots)
    if chosen is not None:
        rows = rows.filter(slot__in=list(chosen))
    return {
        slot: (str(version), summed and layout == slots)
        for slot, version, summed, layout in rows.values_list("slot", "version", "summed", "slots")
    }


def _others_counted(state: dict, chosen, slots: int) -> bool:
    """Every slot but the chosen is there and counted in the stored sums."""
    others = [counted for s, (_, counted) in state.items() if s not in set(chosen)]
    return len(others) == slots - len(chosen) and all(others)


def _stored_as_before(slots: int, versions: dict[int, str]) -> tuple[pd.DataFrame, bool]:
    """The stored sums: as this worker kept them when they counted the slots at these
    versions (kept.py), else read; and whether they were kept."""
    held = kept.kept("sums")
    if held is not None and held.changed(slots, versions) == []:
        return held.frame, True
    return _stored(), False


def _summed(packs) -> pd.DataFrame:
    """The rows of the slot packs ``packs`` selects, summed per key, in slot order."""
    data = packs.order_by("slot").values_list("data", flat=True)
    return _keyed(sum_packs(data.iterator(chunk_size=_PACKS_PER_FETCH)))


def _stored() -> pd.DataFrame:
    frame = frame_from_queryset(
        SlotRollupSum.objects.order_by(),
        {"key": "key", **{d: d for d in DIMS}, **{m: m for m in MEASURES}},
        texts=("key", *TEXTS),
    )
    return _measured(frame)


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    frame.insert(0, "key", row_keys(frame))
    return _measured(frame)


def _measured(frame: pd.DataFrame) -> pd.DataFrame:
    # CSV from PostgreSQL types a column of whole numbers as integers: the sums are floats.
    for measure in ("value", "count"):
        frame[measure] = frame[measure].to_numpy(dtype=float)
    frame["rows"] = frame["rows"].to_numpy(dtype=np.int64)
    return frame
