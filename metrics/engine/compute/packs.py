"""A slot's rollup rows packed into one bytes value, and the sum of many packs per key.

A slot of 50 accounts has a row for nearly every key of the small metrics (a month, channel,
playbook, tier and owner of spend, budget weight, engagement): 780 000 rows at 10 000 accounts in
200 slots, summing to 43 000 keys. As table rows they took a third of a run's writing and, summed
by PostgreSQL, half of the finish's reading. Packed, a slot is one row (``SlotRollupPack``),
written and read whole, and the sum is numpy's.

A pack: a little-endian uint32 header length, the JSON header (row count, each text column's
distinct values, each integer column's type), then each column as raw little-endian values:
text columns as codes into their values, ``period`` as days since 1970 and the other integer
columns in the narrowest type that holds them with its smallest value left for NULL, ``value``
and ``count`` as float64. Nothing is unpickled: a pack read back is numbers and JSON.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable

import numpy as np
import pandas as pd

from metrics import rollups

DIMS = list(rollups.KEY)
TEXTS = ("metric", "model", "kind", "channel", "segment")
INTEGERS = ("playbook_id", "tier", "owner_id")
MEASURES = ("value", "count")
NULL = np.iinfo(np.int64).min  # in the integer columns unpacked
_LENGTH = struct.Struct("<I")
# Rows held before they are summed, when summing many packs: a bound on the finish's memory.
SUM_EVERY = 1_000_000


def pack_slots(frame: pd.DataFrame) -> pd.DataFrame:
    """One pack per slot of ``frame`` (rollup rows with a ``slot`` column): slot, rows, data."""
    columns, header = _encoded(frame)
    slot = frame["slot"].to_numpy(dtype=np.int64)
    order = np.argsort(slot, kind="stable")
    slots, starts = np.unique(slot[order], return_index=True)
    ends = np.append(starts[1:], len(order))[: len(starts)].astype(np.int64)
    packs = [
        _pack({name: values[order[start:end]] for name, values in columns.items()}, header)
        for start, end in zip(starts, ends, strict=True)
    ]
    return pd.DataFrame({"slot": slots, "rows": ends - starts, "data": pd.Series(packs)})


def unpack(data: bytes | memoryview) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """A pack's columns (texts as codes; the integer columns as int64, NULL as ``NULL``) and
    each text column's values."""
    data = memoryview(data)
    (length,) = _LENGTH.unpack_from(data)
    header = json.loads(bytes(data[_LENGTH.size : _LENGTH.size + length]))
    n, offset = header["rows"], _LENGTH.size + length
    columns = {}
    for name, dtype in _layout(header["texts"], header["types"]):
        values = np.frombuffer(data, dtype=dtype, count=n, offset=offset)
        offset += n * dtype.itemsize
        if name in ("period", *INTEGERS):
            null = values == np.iinfo(dtype).min
            values = values.astype(np.int64)
            values[null] = NULL
        columns[name] = values
    return columns, header["texts"]


def sum_packs(packs: Iterable[bytes | memoryview]) -> pd.DataFrame:
    """Every pack's rows summed per key: DIMS (texts as str, ``period`` as dates or None,
    integers as Int64), ``value``, ``count`` and ``rows`` (the pack rows summed into each). Rows
    are added in the packs' order, so the same packs always give the same floats."""
    texts: dict[str, dict[str, int]] = {name: {} for name in TEXTS}
    mappings: dict[tuple, np.ndarray] = {}  # the packs of one batch share their values
    pending, held = [], 0
    for data in packs:
        columns, values = unpack(data)
        for name in TEXTS:  # codes into this pack's values -> into every pack's
            mapped = mappings.get((name, *values[name]))
            if mapped is None:
                known = texts[name]
                mapped = np.array([known.setdefault(v, len(known)) for v in values[name]])
                mappings[(name, *values[name])] = mapped.astype(np.int64)
            columns[name] = mapped[columns[name]] if len(mapped) else columns[name]
        columns["rows"] = np.ones(len(columns["value"]), dtype=np.int64)
        pending.append(columns)
        held += len(columns["value"])
        if held > SUM_EVERY:
            pending, held = [_summed(pending)], 0
    summed = _summed(pending)
    return _frame(summed, {name: list(known) for name, known in texts.items()})


def _encoded(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """The frame's columns as a pack stores them, each text column's values and each integer
    column's type: the narrowest whose smallest value (NULL) no row has."""
    columns, texts, types = {}, {}, {}
    for name in TEXTS:
        codes, uniques = pd.factorize(frame[name].to_numpy(dtype=object))
        uniques = [str(u) for u in uniques]
        if (codes < 0).any():  # a missing text is blank, as in the table it sums into
            codes[codes < 0], uniques = len(uniques), [*uniques, ""]
        columns[name], texts[name] = codes.astype(_code_dtype(len(uniques))), uniques
    period = pd.to_datetime(frame["period"]).to_numpy()
    integers = {"period": period.astype("datetime64[D]").astype(np.int64)}
    nulls = {"period": np.isnat(period)}
    for name in INTEGERS:
        values = pd.array(pd.to_numeric(frame[name]), dtype="Int64")
        integers[name] = values.to_numpy(dtype=np.int64, na_value=0)
        nulls[name] = values.isna()
    for name, values in integers.items():
        known = values[~nulls[name]]
        low, high = (int(known.min()), int(known.max())) if len(known) else (0, 0)
        dtype = next(
            np.dtype(t)
            for t in ("<i1", "<i2", "<i4", "<i8")
            if np.iinfo(t).min < low and high <= np.iinfo(t).max
        )
        columns[name] = np.where(nulls[name], np.iinfo(dtype).min, values).astype(dtype)
        types[name] = dtype.str
    for name in MEASURES:
        columns[name] = frame[name].to_numpy(dtype=np.float64)
    return columns, {"texts": texts, "types": types}


def _pack(columns: dict[str, np.ndarray], header: dict) -> bytes:
    head = json.dumps({"rows": len(columns["value"]), **header}).encode()
    parts = [_LENGTH.pack(len(head)), head]
    for name, dtype in _layout(header["texts"], header["types"]):
        parts.append(np.ascontiguousarray(columns[name], dtype=dtype).tobytes())
    return b"".join(parts)


def _layout(texts: dict[str, list[str]], types: dict[str, str]) -> list[tuple[str, np.dtype]]:
    layout = [(name, _code_dtype(len(texts[name]))) for name in TEXTS]
    layout += [(name, np.dtype(types[name])) for name in ("period", *INTEGERS)]
    return layout + [(name, np.dtype("<f8")) for name in MEASURES]


def _code_dtype(distinct: int) -> np.dtype:
    return np.dtype("<u1" if distinct <= 0xFF else "<u2" if distinct <= 0xFFFF else "<u4")


def _summed(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The rows of ``parts`` summed per key (value, count and rows), with the key's columns."""
    if not parts:
        return {name: np.empty(0, np.int64) for name in (*TEXTS, "period", *INTEGERS, "rows")} | {
            name: np.empty(0, np.float64) for name in MEASURES
        }
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    key = np.zeros(len(columns["value"]), dtype=np.int64)
    for name in (*TEXTS, "period", *INTEGERS):
        codes, size = _numbered(columns[name].astype(np.int64))
        if (int(key.max(initial=0)) + 1) * size >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)  # renumbered densely before it overflows
        key = key * size + codes
    group, keys = pd.factorize(key)
    n = len(keys)
    # Any row of a group carries the group's key columns: the key is made of them all.
    one = np.empty(n, dtype=np.int64)
    one[group] = np.arange(len(group))
    out = {name: columns[name][one] for name in (*TEXTS, "period", *INTEGERS)}
    for name in MEASURES:
        out[name] = np.bincount(group, weights=columns[name], minlength=n)
    out["rows"] = np.bincount(group, weights=columns["rows"], minlength=n).astype(np.int64)
    return out


def _numbered(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Each value's number among at most ``size`` (NULL's 0): its offset from the smallest
    when they lie close (text codes, days, tiers), else its order of appearance."""
    null = values == NULL
    known = values[~null]
    low, high = (int(known.min()), int(known.max())) if len(known) else (0, 0)
    if high - low <= 4 * len(values) + 1024:
        return np.where(null, 0, values - low + 1), high - low + 2
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), len(uniques)


def _frame(columns: dict[str, np.ndarray], texts: dict[str, list[str]]) -> pd.DataFrame:
    frame = {}
    for name in DIMS:
        values = columns[name]
        if name in TEXTS:
            frame[name] = np.array(texts[name], dtype=object)[values.astype(np.int64)]
        elif name == "period":
            days = values.astype("datetime64[D]")
            dates = pd.Series(days).dt.date.astype(object)
            frame[name] = dates.where(values != NULL, None).to_numpy()
        else:
            null = values == NULL
            frame[name] = pd.arrays.IntegerArray(np.where(null, 0, values), null)
    frame.update({name: columns[name] for name in (*MEASURES, "rows")})
    return pd.DataFrame(frame)
