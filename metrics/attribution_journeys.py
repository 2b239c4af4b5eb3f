"""Journey set-up shared by every attribution model: order, grouping, window, channel codes.

Pure numpy/pandas. ``prepare_journeys`` does the work once; the models of metrics/attribution.py
and the Markov statistics of metrics/attribution_markov.py read the arrays it keeps.

Ordered input (journey_id, ts, touch_id) skips the sort, any other order costs one sort of a
packed unsigned integer key. Journeys come in journey_id order, by value whatever the dtype
(categorical ids too, not in their categories' order). String ids and channels are hashed once
per distinct object (``_distinct_objects``), then only their distinct values sorted; categorical
ids use their codes and hash no id per touch. Hashing millions of Python strings is what string
ids cost (benchmarks/bench_attribution.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from abm.lib.timeconv import series_ns

DAY_NS = 86_400 * 10**9
# The high bit of int64 flipped: signed order as unsigned, so differences never overflow.
_SIGN = np.uint64(1 << 63)
# Packed sort keys are uint64 below the top bit; ts keeps at least _MIN_TS_BITS of them (the
# journey key is factorised otherwise).
_MAX_KEY_BITS = 63
_MIN_TS_BITS = 12


@dataclass(frozen=True)
class Journeys:
    """Counted touches in journey order; row arrays are aligned, journey arrays indexed by group."""

    rows: np.ndarray  # positions in the input frame
    group: np.ndarray  # journey number 0..G-1 per row, non-decreasing
    starts: np.ndarray  # first row of each journey
    sizes: np.ndarray  # touches per journey
    value: np.ndarray  # conversion value per journey (0 when non-converting)
    converting: np.ndarray  # per journey

    @property
    def ends(self) -> np.ndarray:
        return self.starts + self.sizes - 1

    def per_row(self, per_journey: np.ndarray) -> np.ndarray:
        return per_journey[self.group]


class JourneySet:
    """Journeys of one (touches, conversions, window) for every model; arrays built on first use.

    ``paths``: converting journeys (counted touches) and non-converting ones (all their touches),
    the chain Markov counts. ``journeys``: the converting ones only, the rows every model returns.
    Channel codes index ``channels``, the sorted channel names of the input.
    """

    def __init__(
        self, touches: pd.DataFrame, paths: Journeys, path_ts: np.ndarray, path_jid: np.ndarray
    ) -> None:
        self.touches = touches
        self.paths = paths
        self._path_ts = path_ts
        self._path_jid = path_jid  # the int64 journey keys per paths row

    @cached_property
    def _converting_rows(self) -> np.ndarray | None:
        """Mask of the paths rows that belong to converting journeys; None when all do."""
        if self.paths.converting.all():
            return None
        return np.repeat(self.paths.converting, self.paths.sizes)

    @cached_property
    def journeys(self) -> Journeys:
        keep = self._converting_rows
        if keep is None:
            return self.paths
        p = self.paths
        sizes = p.sizes[p.converting]
        starts = np.cumsum(sizes) - sizes
        rows = p.rows[keep]
        return Journeys(
            rows, numbers(starts, len(rows)), starts, sizes, p.value[p.converting], sizes > 0
        )

    def _converting(self, per_path_row: np.ndarray) -> np.ndarray:
        keep = self._converting_rows
        return per_path_row if keep is None else per_path_row[keep]

    @cached_property
    def _channel_codes(self) -> tuple[np.ndarray, pd.Index]:
        """Code per input row into the sorted channel names (-1 for a missing channel)."""
        channel = self.touches["channel"]
        if isinstance(channel.dtype, pd.CategoricalDtype):
            codes = channel.cat.codes.to_numpy()
            rank, names = _sort_rank(pd.Index(channel.cat.categories))
            return (codes, names) if rank is None else (rank.astype(np.int32)[codes], names)
        # A plain object array hashes ~2x faster than a pandas "str" column.
        codes, names = _factorize_sorted(channel.to_numpy(dtype=object))
        # Narrow codes, as a categorical's: less memory to gather through shuffled rows.
        return codes.astype(np.int8 if len(names) < 127 else np.int32), names

    @property
    def channels(self) -> pd.Index:
        return self._channel_codes[1]

    @cached_property
    def path_codes(self) -> np.ndarray:
        codes = self._channel_codes[0][self.paths.rows]
        if (codes < 0).any():
            raise ValueError("every touch needs a channel")
        return codes

    @cached_property
    def codes(self) -> np.ndarray:
        return self._converting(self.path_codes)

    @cached_property
    def ts(self) -> np.ndarray:
        """Epoch ns per converting row."""
        return self._converting(self._path_ts)

    @cached_property
    def is_mqa(self) -> np.ndarray:
        if "is_mqa" not in self.touches:
            raise ValueError("w_shaped needs an is_mqa column on touches")
        is_mqa = self.touches["is_mqa"]
        if is_mqa.dtype != bool:
            is_mqa = is_mqa.fillna(False).astype(bool)
        return is_mqa.to_numpy()[self.journeys.rows]

    @cached_property
    def columns(self) -> dict[str, pd.Series]:
        """The input columns of the output rows, taken once and shared (copy-on-write) by every
        model's frame."""
        names = ["touch_id", "channel"] + (["playbook_id"] if "playbook_id" in self.touches else [])
        rows = self.journeys.rows
        columns = {c: pd.Series(self._taken(c, rows), copy=False) for c in names}
        jid = self.touches["journey_id"]
        if jid.dtype == np.int64:  # the keys already in order: no gather through shuffled rows
            jid = pd.Series(self._converting(self._path_jid), copy=False)
        else:  # each journey's id once, then repeated: one gather per journey, not per row
            starts, group = self.journeys.starts, self.journeys.group
            jid = pd.Series(jid.array.take(rows[starts]).take(group), copy=False)
        return {"journey_id": jid, **columns}

    def _taken(self, column: str, rows: np.ndarray):
        """The column's values at ``rows``. A str column of channels comes from its few distinct
        names by the rows' codes: gathering string objects through shuffled rows took 0.15 s of
        a 1.1 s run at 4M rows, this 0.04 s (a categorical's take gathers codes already)."""
        values = self.touches[column].array
        by_code = column == "channel" and isinstance(values, pd.arrays.StringArray)
        if not by_code or values.dtype.storage != "python":
            return values.take(rows)
        try:
            codes = self.codes
        except ValueError:  # a missing channel: the models that need none still return it
            return values.take(rows)
        return values._from_backing_data(self.channels.to_numpy(dtype=object)[codes])

    @cached_property
    def row_value(self) -> np.ndarray:
        return self.journeys.per_row(self.journeys.value)


def prepare_journeys(
    touches: pd.DataFrame, conversions: pd.DataFrame, *, window_days: float | None = None
) -> JourneySet:
    """Order, group and window ``touches`` against ``conversions`` once for every model.

    A touch counts when ``conversion ts - window_days <= ts <= conversion ts``; journeys without a
    conversion keep all their touches (Markov's non-converting paths).
    """
    jid, conv_jid = _journey_keys(touches["journey_id"], conversions["journey_id"])
    ts = series_ns(touches["ts"])
    touch_id = touches["touch_id"]
    order = None
    if not _in_journey_order(jid, ts, touch_id):
        order, jid = _journey_order(jid, ts, touch_id)
        ts = ts[order]

    conv_order = np.argsort(conv_jid, kind="stable")
    conv_jid = conv_jid[conv_order]
    if (conv_jid[1:] == conv_jid[:-1]).any():
        raise ValueError("conversions must have one row per journey_id")
    # A sentinel conversion that matches nothing keeps the lookups below free of special cases.
    conv_jid = np.append(conv_jid, 0)
    conv_ts = np.append(series_ns(conversions["ts"])[conv_order], 0)
    conv_value = np.append(conversions["value"].to_numpy(dtype=float)[conv_order], 0.0)

    starts = starts_of_runs(jid)
    sizes = np.diff(np.append(starts, len(jid)))
    at = np.searchsorted(conv_jid[:-1], jid[starts])
    found = conv_jid[at] == jid[starts]
    found[at == len(conv_jid) - 1] = False
    value = np.where(found, conv_value[at], 0.0)
    before = np.repeat(conv_ts[at], sizes)
    np.subtract(ts, before, out=before)  # <= 0 when at or before the conversion
    keep = before <= 0
    if window_days is not None:
        keep &= before >= -round(float(window_days) * DAY_NS)
    del before
    keep |= ~np.repeat(found, sizes)  # non-converting journeys keep every touch

    if keep.all():
        rows = np.arange(len(jid)) if order is None else order
        paths = Journeys(rows, numbers(starts, len(jid)), starts, sizes, value, found)
        # jid may be a view of the input: the output's journey_id must not write into it.
        return JourneySet(touches, paths, ts, jid if order is not None else jid.copy())
    kept = np.flatnonzero(keep)
    counts = np.add.reduceat(keep, starts, dtype=np.intp) if len(starts) else sizes
    present = np.flatnonzero(counts)
    sizes = counts[present]
    starts = np.cumsum(sizes) - sizes
    paths = Journeys(
        rows=kept if order is None else order[kept],
        group=numbers(starts, len(kept)),
        starts=starts,
        sizes=sizes,
        value=value[present],
        converting=found[present],
    )
    return JourneySet(touches, paths, ts[kept], jid[kept])


def starts_of_runs(sorted_keys: np.ndarray) -> np.ndarray:
    """First row of each run of equal keys."""
    new = np.empty(len(sorted_keys), dtype=bool)
    new[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return np.flatnonzero(new)


def numbers(starts: np.ndarray, n_rows: int) -> np.ndarray:
    """Dense group number 0..G-1 per row from the groups' first rows."""
    group = np.zeros(n_rows, dtype=np.intp)
    group[starts[1:]] = 1
    return np.cumsum(group, out=group)


def _in_journey_order(jid: np.ndarray, ts: np.ndarray, touch_id: pd.Series) -> bool:
    if len(jid) < 2:
        return True
    j0, j1, t0, t1 = jid[:-1], jid[1:], ts[:-1], ts[1:]
    if not (j1 >= j0).all():
        return False
    same = j1 == j0
    if ((t1 < t0) & same).any():
        return False
    tie = np.flatnonzero(same & (t1 == t0))
    if not len(tie):
        return True
    tid = _tie_key(touch_id, np.concatenate([tie, tie + 1]))
    return bool((tid[len(tie) :] > tid[: len(tie)]).all())


def _journey_order(
    jid: np.ndarray, ts: np.ndarray, touch_id: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Row order by (journey, ts, touch_id), and the journey keys in that order.

    One ``np.sort`` of a uint64 packing (journey, coarse ts, row) in that order of bits: sorting
    values is ~5x faster than ``argsort``, and the journey comes back out of the sorted key
    without a gather. Rows of a journey in the same coarse tick (or at the same instant) are
    then put in exact (ts, touch_id) order. When such runs are too many (dense touches, wide
    journey keys) it falls back to an argsort whose key keeps more bits of ts.
    """
    n = len(jid)
    row_bits = (n - 1).bit_length()
    journey, uniques = _journey_codes(jid, _MAX_KEY_BITS - row_bits)
    journey_bits = int(journey.max()).bit_length()
    ts_bits = _MAX_KEY_BITS - row_bits - journey_bits
    tick, shift = _ticks(ts, ts_bits)
    journey <<= np.uint64(ts_bits + row_bits)
    tick <<= np.uint64(row_bits)
    key = np.bitwise_or(journey, tick, out=journey)
    del tick
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    order = (key & np.uint64((1 << row_bits) - 1)).astype(np.intp)
    key >>= np.uint64(row_bits)  # (journey, tick)
    run = _equal_key_runs(key)
    if shift and len(run) > n // 4:
        return _argsort_order(jid, ts, touch_id)
    _order_runs(order, run, key, ts, touch_id)
    key >>= np.uint64(ts_bits)
    return order, _journey_ids(key, jid, uniques)


def _argsort_order(
    jid: np.ndarray, ts: np.ndarray, touch_id: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """The same order from an argsort of (journey, ts) packed without the row: finer ticks."""
    journey, uniques = _journey_codes(jid, _MAX_KEY_BITS)
    ts_bits = _MAX_KEY_BITS - int(journey.max()).bit_length()
    tick, _ = _ticks(ts, ts_bits)
    journey <<= np.uint64(ts_bits)
    key = np.bitwise_or(journey, tick, out=journey)
    del tick
    order = np.argsort(key)
    key = key[order]
    _order_runs(order, _equal_key_runs(key), key, ts, touch_id)
    key >>= np.uint64(ts_bits)
    return order, _journey_ids(key, jid, uniques)


def _journey_codes(jid: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Journey keys as small uint64 (offsets from the smallest), or factorised when too wide to
    leave ts at least ``_MIN_TS_BITS`` of ``bits``; then also the sorted uniques."""
    journey = _unsigned(jid)
    journey -= journey.min()
    if int(journey.max()).bit_length() <= bits - _MIN_TS_BITS:
        return journey, None
    codes, uniques = pd.factorize(jid, sort=True)
    return codes.astype(np.uint64), np.asarray(uniques)


def _journey_ids(journey: np.ndarray, jid: np.ndarray, uniques: np.ndarray | None) -> np.ndarray:
    """Journey keys in sorted order back from the codes of ``_journey_codes``."""
    if uniques is not None:
        return uniques[journey.astype(np.intp)]
    journey += np.uint64(int(jid.min()) + (1 << 63))  # the offset _unsigned gave the smallest
    journey ^= _SIGN
    return journey.view(np.int64)


def _ticks(ts: np.ndarray, bits: int) -> tuple[np.ndarray, int]:
    """ts as uint64 offsets from the earliest, shifted right until they fit in ``bits``."""
    tick = _unsigned(ts)
    tick -= tick.min()
    shift = max(0, int(tick.max()).bit_length() - bits)
    if shift:
        tick >>= np.uint64(shift)
    return tick, shift


def _equal_key_runs(sorted_key: np.ndarray) -> np.ndarray:
    """Positions in runs of equal keys."""
    tie = sorted_key[1:] == sorted_key[:-1]
    if not tie.any():
        return np.empty(0, dtype=np.intp)
    in_run = np.zeros(len(sorted_key), dtype=bool)
    in_run[1:] |= tie
    in_run[:-1] |= tie
    return np.flatnonzero(in_run)


def _order_runs(
    order: np.ndarray, at: np.ndarray, key: np.ndarray, ts: np.ndarray, touch_id: pd.Series
) -> None:
    """Put the rows at positions ``at`` (runs of equal key) in exact (ts, touch_id) order; key
    first keeps each run in its place."""
    if len(at):
        rows = order[at]
        order[at] = rows[np.lexsort((_tie_key(touch_id, rows), ts[rows], key[at]))]


def _unsigned(values: np.ndarray) -> np.ndarray:
    """An order-preserving uint64 copy of an int64 array."""
    return values.astype(np.int64).view(np.uint64) ^ _SIGN


def _tie_key(touch_id: pd.Series, rows: np.ndarray) -> np.ndarray:
    """Sortable touch_id of ``rows`` only: strings are factorised for the few ties, not all rows."""
    values = touch_id.to_numpy()[rows]
    if pd.api.types.is_numeric_dtype(touch_id):
        return values
    return pd.factorize(values, sort=True)[0]


def _journey_keys(touch_ids: pd.Series, conv_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys for journey ids, in the ids' order; other ids (uuids, strings) become their
    rank among the distinct ids, categorical ones their category's."""
    if pd.api.types.is_integer_dtype(touch_ids) and pd.api.types.is_integer_dtype(conv_ids):
        return touch_ids.to_numpy(dtype=np.int64), conv_ids.to_numpy(dtype=np.int64)
    if isinstance(touch_ids.dtype, pd.CategoricalDtype):
        return _category_keys(touch_ids, conv_ids)
    both = [ids.to_numpy() for ids in (touch_ids, conv_ids)]
    if all(values.dtype == object for values in both):  # strings (a "str" column too), uuids
        values = np.concatenate(both)
    else:
        values = pd.concat([touch_ids, conv_ids], ignore_index=True)
    codes, _ = _factorize_sorted(values)
    return codes[: len(touch_ids)], codes[len(touch_ids) :]


def _category_keys(touch_ids: pd.Series, conv_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Keys from the touches' category codes: only the categories are sorted and hashed, not an
    id per touch. Conversions of ids without a category (no touch) get keys past them."""
    categories = touch_ids.cat.categories
    codes = touch_ids.cat.codes.to_numpy().astype(np.int64)
    # Not dtype equality: unordered categoricals are equal with their categories in any order.
    if isinstance(conv_ids.dtype, pd.CategoricalDtype) and conv_ids.cat.categories.equals(
        categories
    ):
        conv = conv_ids.cat.codes.to_numpy().astype(np.int64)
    else:
        conv = categories.get_indexer(conv_ids).astype(np.int64)
        other = (conv < 0) & conv_ids.notna().to_numpy()
        if other.any():
            conv[other] = len(categories) + pd.factorize(conv_ids[other])[0]
    rank, _ = _sort_rank(categories)
    if rank is not None:
        codes = rank[codes]
        inside = conv < len(categories)
        conv[inside] = rank[conv[inside]]
    return codes, conv


def _factorize_sorted(values: pd.Series | np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values, sort=True)``: codes into the sorted uniques, -1 for missing.

    Hashes with ``sort=False`` and sorts the uniques only: for strings pandas' own sort (an
    object argsort of the uniques, then every code remapped) takes ~1.5x as long as this one.
    An object array is hashed by object first (``_distinct_objects``)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        codes, uniques, in_order = _factorize_objects(np.ascontiguousarray(values))
        if in_order:
            return codes, uniques
    else:
        codes, uniques = pd.factorize(values)
    rank, uniques = _sort_rank(pd.Index(uniques))
    return (codes, uniques) if rank is None else (rank[codes], uniques)


def _factorize_objects(values: np.ndarray) -> tuple[np.ndarray, pd.Index | np.ndarray, bool]:
    """``pd.factorize`` of an object array, each distinct object hashed once; whether the
    uniques are sorted already (strings only, none missing: one sort gives codes and order)."""
    by_object, first_at = _distinct_objects(values)
    if first_at is None:
        return *pd.factorize(values), False
    distinct = values[first_at]
    if pd.api.types.infer_dtype(distinct, skipna=False) == "string":
        codes, uniques = _sorted_string_codes(distinct)
        return codes[by_object], uniques, True
    codes, uniques = pd.factorize(distinct)
    return codes[by_object], uniques, False


def _distinct_objects(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A code per row by *object*, and each object's first row; no rows when most rows are
    objects of their own.

    Repeated strings are mostly one object each (pandas' CSV reader, ``take``, a categorical's
    ``astype(str)`` share them): their addresses, as integers, factorise several times faster
    than pandas hashes millions of strings (it hashes and compares every one). The same object
    is the same value, so only one per object need be hashed or compared by value. When most
    objects are distinct (a driver's fresh strings) this gains nothing: hash the values whole."""
    # The array's slots as integers, read-only, while ``values`` keeps every object alive.
    addresses = np.frombuffer(memoryview(values).cast("B"), dtype=np.intp)
    by_object, objects = _by_address(addresses)
    if objects > len(values) // 2:
        return by_object, None
    first_at = np.empty(objects, dtype=np.intp)
    first_at[by_object[::-1]] = np.arange(len(values) - 1, -1, -1)
    return by_object, first_at


def _by_address(addresses: np.ndarray) -> tuple[np.ndarray, int]:
    """A code per address and how many distinct. Objects lie at least 16 bytes apart (CPython
    aligns them so): when their addresses span under 4 slots of 16 bytes a row, a table of
    those slots (5 bytes a slot) numbers them in two passes (0.19 s for 5M rows of 1M
    objects, where hashing took 0.28 s); else ``pd.factorize``."""
    if len(addresses):
        low = int(addresses.min())
        span = (int(addresses.max()) - low) >> 4
        if span < min(4 * len(addresses), 1 << 31) and not (addresses & 15).any():
            slot = (addresses - low) >> 4
            present = np.zeros(span + 1, dtype=bool)
            present[slot] = True
            number = np.cumsum(present, dtype=np.int32)
            return number[slot].astype(np.intp) - 1, int(number[-1])
    codes, objects = pd.factorize(addresses)
    return codes, len(objects)


def _sorted_string_codes(strings: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """For an object array of str: the code of each into the sorted distinct values, and them."""
    order = _string_order(strings)
    ordered = strings[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    codes = np.empty(len(order), dtype=np.intp)
    codes[order] = np.cumsum(new) - 1
    return codes, pd.Index(ordered[new])


def _string_order(strings: np.ndarray) -> np.ndarray:
    """argsort of str objects in Python's order (by code point): numpy's UTF-8 strings sort
    ~1.5x faster than Python's list sort of the objects, which takes the strings UTF-8 cannot
    hold (lone surrogates) and those with a NUL (numpy compares them only up to it: "\x00Z"
    after "\x00a"). Short ASCII ones (ids) sort as integers, faster still."""
    order = _short_ascii_order(strings)
    if order is not None:
        return order
    if "\x00" not in "".join(strings):
        try:
            return np.argsort(np.array(strings, dtype=StringDType()))
        except UnicodeEncodeError:
            pass
    names = strings.tolist()
    return np.array(sorted(range(len(names)), key=names.__getitem__), dtype=np.intp)


def _sort_rank(uniques: pd.Index) -> tuple[np.ndarray | None, pd.Index]:
    """Rank of each distinct value in sorted order (the last entry keeps -1, a missing value's
    code, at -1) and the sorted values; no rank when they are sorted already."""
    if uniques.is_monotonic_increasing:
        return None, uniques
    if pd.api.types.infer_dtype(uniques, skipna=False) == "string":
        by_value = _string_order(uniques.to_numpy(dtype=object))
    else:  # mixed types too, in pandas' order (numbers before strings)
        by_value = np.argsort(pd.factorize(uniques, sort=True)[0])
    rank = np.full(len(uniques) + 1, -1, dtype=np.intp)
    rank[by_value] = np.arange(len(uniques))
    return rank, uniques[by_value]


def _short_ascii_order(strings: np.ndarray) -> np.ndarray | None:
    """argsort of ASCII strings of at most 16 characters as two big-endian 64-bit integers
    (two stable integer sorts: 0.21 s for 1M ids, numpy's string sort 0.57 s); None for
    others. Bytes drop trailing NULs, so "a" and "a\x00" pack alike: None when such a pair
    ties (Python puts the shorter first)."""
    if not len(strings) or max(map(len, strings)) > 16:
        return None
    try:
        packed = np.array(strings, dtype="S16")
    except UnicodeEncodeError:
        return None
    halves = packed.view(">u8").reshape(-1, 2)
    order = np.argsort(halves[:, 1], kind="stable")
    order = order[np.argsort(halves[order, 0], kind="stable")]
    ordered = packed[order]
    tied = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(tied) and (strings[order[tied]] != strings[order[tied + 1]]).any():
        return None
    return order
