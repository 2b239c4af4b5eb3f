"""Multi-touch attribution: per-touch weights and credit for the models of DOMAIN.md "Attribution".

Pure pandas/numpy: a loader builds the frames from querysets, a service stores the results. Every
model is vectorised over all journeys at once (one sort, group offsets, ``np.bincount``); the only
Python loop is over channels for the Markov removal effects.

Decisions where DOMAIN.md is silent:

- Order within a journey: ``ts``, then ``touch_id`` for ties. ``touch_id`` must be unique within a
  journey. Input that is already in (journey_id, ts, touch_id) order skips the sort, so loaders
  should ``ORDER BY`` it.
- A touch counts when ``conversion ts - window_days <= ts <= conversion ts`` (both ends inclusive);
  without ``window_days`` only the upper bound applies (the caller windows). Naive timestamps are
  read as UTC.
- Rows: one per counted touch of a converting journey, including touches a model gives weight 0
  (the middle of first_touch), so every model returns the same rows for the same data. Filter on
  ``weight > 0`` for touches with credit.
- time_decay: ``days_before_conversion`` is the exact timestamp difference in days (a float).
- w_shaped: the mqa touch is the first counted touch with ``is_mqa``; without one it is the median
  touch, 0-based index ``(n - 1) // 2`` in journey order (the lower median when n is even: the 2nd
  of 4). Anchors on the same touch add up; the .1 goes equally to the non-anchor touches, or, when
  there are none, equally to the distinct anchor touches (n=2 without mqa: .65 / .35).
- markov: journeys in ``touches`` without a conversion are non-converting paths (all their touches,
  no window); a converting journey with no counted touch is no path at all. Removing a channel
  redirects every transition into it to null. Removal effects are clipped at 0 (float noise).
  A journey whose touches all have removal effect 0 falls back to linear weights.
- shapley: simplified Shapley of Zhao et al. (2018) as DOMAIN.md states it.
- Conversions must be unique per journey_id; zero-value conversions get weights and credit 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.lib.timeconv import series_ns

MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "u_shaped",
    "w_shaped",
    "markov",
    "shapley",
)

_DAY_NS = 86_400 * 10**9
_OUTPUT = ["journey_id", "touch_id", "channel", "weight", "credit"]


@dataclass(frozen=True)
class _Journeys:
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


def credit(
    touches: pd.DataFrame, conversions: pd.DataFrame, model: str, **params: float | None
) -> pd.DataFrame:
    """Per-touch weight and credit of ``model`` for every converting journey.

    ``params``: ``window_days`` (all models), ``half_life_days`` (time_decay, default 7).
    """
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}; expected one of {MODELS}")
    window_days = params.pop("window_days", None)
    half_life_days = params.pop("half_life_days", 7.0)
    if params:
        raise TypeError(f"unknown parameters: {sorted(params)}")

    j = _journeys(touches, conversions, window_days, with_non_converting=model == "markov")
    if model == "markov":
        codes, channels = _channel_codes(touches, j.rows)
        effects = _removal_effects(j, codes, len(channels))
        j, codes = _converting_only(j, codes)
        weight = _markov_weights(j, codes, effects)
    elif model == "shapley":
        codes, channels = _channel_codes(touches, j.rows)
        weight = _shapley_weights(j, codes, len(channels))
    elif model == "time_decay":
        weight = _time_decay_weights(j, touches, float(half_life_days))
    elif model == "w_shaped":
        weight = _w_shaped_weights(j, touches)
    else:
        weight = _positional_weights(j, model)
    return _output(touches, j, weight)


def markov_removal_effects(
    touches: pd.DataFrame, conversions: pd.DataFrame, *, window_days: float | None = None
) -> pd.Series:
    """Removal effect ``RE_k = 1 - P_without_k / P`` per channel seen in the paths."""
    j = _journeys(touches, conversions, window_days, with_non_converting=True)
    codes, channels = _channel_codes(touches, j.rows)
    effects = _removal_effects(j, codes, len(channels))
    seen = np.bincount(codes, minlength=len(channels)) > 0
    return pd.Series(
        effects[seen], index=pd.Index(channels[seen], name="channel"), name="removal_effect"
    )


# --- Journeys -------------------------------------------------------------------------------


def _journeys(
    touches: pd.DataFrame,
    conversions: pd.DataFrame,
    window_days: float | None,
    *,
    with_non_converting: bool,
) -> _Journeys:
    jid, conv_jid = _journey_keys(touches["journey_id"], conversions["journey_id"])
    ts = series_ns(touches["ts"])
    tid = _sort_key(touches["touch_id"])
    order = None if _in_journey_order(jid, ts, tid) else _journey_order(jid, ts, tid)
    if order is not None:
        jid, ts = jid[order], ts[order]

    conv_order = np.argsort(conv_jid, kind="stable")
    conv_jid = conv_jid[conv_order]
    if (conv_jid[1:] == conv_jid[:-1]).any():
        raise ValueError("conversions must have one row per journey_id")
    # A sentinel conversion that matches nothing keeps the lookups below free of special cases.
    conv_jid = np.append(conv_jid, 0)
    conv_ts = np.append(series_ns(conversions["ts"])[conv_order], 0)
    conv_value = np.append(conversions["value"].to_numpy(dtype=float)[conv_order], 0.0)

    starts = _starts(jid)
    sizes = np.diff(np.append(starts, len(jid)))
    at = np.searchsorted(conv_jid[:-1], jid[starts])
    found = conv_jid[at] == jid[starts]
    found[at == len(conv_jid) - 1] = False
    value = np.where(found, conv_value[at], 0.0)
    before = np.repeat(conv_ts[at], sizes)
    np.subtract(ts, before, out=before)  # <= 0 when at or before the conversion
    keep = before <= 0
    if window_days is not None:
        keep &= before >= -round(float(window_days) * _DAY_NS)
    del before
    row_found = np.repeat(found, sizes)
    keep &= row_found
    if with_non_converting:
        keep |= ~row_found

    if keep.all():
        rows = np.arange(len(jid)) if order is None else order
        return _Journeys(rows, _numbers(starts, len(jid)), starts, sizes, value, found)
    kept = np.flatnonzero(keep)
    counts = np.add.reduceat(keep, starts, dtype=np.intp) if len(starts) else sizes
    present = np.flatnonzero(counts)
    sizes = counts[present]
    starts = np.cumsum(sizes) - sizes
    return _Journeys(
        rows=kept if order is None else order[kept],
        group=_numbers(starts, len(kept)),
        starts=starts,
        sizes=sizes,
        value=value[present],
        converting=found[present],
    )


def _converting_only(j: _Journeys, codes: np.ndarray) -> tuple[_Journeys, np.ndarray]:
    """Drop the non-converting journeys Markov needed for its chain, with their channel codes."""
    if j.converting.all():
        return j, codes
    keep = np.repeat(j.converting, j.sizes)
    sizes = j.sizes[j.converting]
    starts = np.cumsum(sizes) - sizes
    rows = j.rows[keep]
    value = j.value[j.converting]
    journeys = _Journeys(rows, _numbers(starts, len(rows)), starts, sizes, value, sizes > 0)
    return journeys, codes[keep]


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    """First row of each run of equal keys."""
    new = np.empty(len(sorted_keys), dtype=bool)
    new[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return np.flatnonzero(new)


def _numbers(starts: np.ndarray, n_rows: int) -> np.ndarray:
    """Dense group number 0..G-1 per row from the groups' first rows."""
    group = np.zeros(n_rows, dtype=np.intp)
    group[starts[1:]] = 1
    return np.cumsum(group, out=group)


def _in_journey_order(jid: np.ndarray, ts: np.ndarray, tid: np.ndarray) -> bool:
    if len(jid) < 2:
        return True
    j0, j1, t0, t1 = jid[:-1], jid[1:], ts[:-1], ts[1:]
    if not (j1 >= j0).all():
        return False
    same = j1 == j0
    return bool(((t1 > t0) | ~same | ((t1 == t0) & (tid[1:] > tid[:-1]))).all())


def _journey_order(jid: np.ndarray, ts: np.ndarray, tid: np.ndarray) -> np.ndarray:
    """Row order by (journey, ts, touch_id); one packed-key argsort is ~3x faster than lexsort."""
    journey, _ = pd.factorize(jid, sort=True)
    by_ts = np.argsort(ts)
    sorted_ts = ts[by_ts]
    new = np.empty(len(ts), dtype=bool)
    new[:1] = True
    np.not_equal(sorted_ts[1:], sorted_ts[:-1], out=new[1:])
    ts_rank = np.empty(len(ts), dtype=np.int64)
    ts_rank[by_ts] = np.cumsum(new) - 1
    key = journey.astype(np.int64) * (int(new.sum()) + 1) + ts_rank
    order = np.argsort(key)
    key = key[order]
    # Touches of a journey at the same instant: order those runs by touch_id.
    tie = key[1:] == key[:-1]
    if tie.any():
        in_run = np.zeros(len(key), dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        at = np.flatnonzero(in_run)
        rows = order[at]
        order[at] = rows[np.lexsort((tid[rows], key[at]))]
    return order


def _journey_keys(touch_ids: pd.Series, conv_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys for journey ids; non-integer ids (uuids, strings) are factorised together."""
    if pd.api.types.is_integer_dtype(touch_ids) and pd.api.types.is_integer_dtype(conv_ids):
        return touch_ids.to_numpy(dtype=np.int64), conv_ids.to_numpy(dtype=np.int64)
    codes, _ = pd.factorize(pd.concat([touch_ids, conv_ids], ignore_index=True), sort=True)
    return codes[: len(touch_ids)], codes[len(touch_ids) :]


def _sort_key(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy()
    return pd.factorize(values, sort=True)[0]


def _channel_codes(touches: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    channel = touches["channel"]
    if isinstance(channel.dtype, pd.CategoricalDtype):
        codes, channels = channel.cat.codes.to_numpy()[rows], channel.cat.categories
    else:
        codes, channels = pd.factorize(channel.to_numpy()[rows], sort=True)
    if (codes < 0).any():
        raise ValueError("every touch needs a channel")
    return codes, pd.Index(channels)


# --- Models ---------------------------------------------------------------------------------


def _positional_weights(j: _Journeys, model: str) -> np.ndarray:
    n = j.sizes
    if model == "linear":
        return j.per_row(1.0 / n)
    if model == "u_shaped":
        w = j.per_row(0.2 / np.maximum(n - 2, 1))
        w[j.starts] = w[j.ends] = np.select([n == 1, n == 2], [1.0, 0.5], default=0.4)
        return w
    w = np.zeros(len(j.rows))
    w[j.starts if model == "first_touch" else j.ends] = 1.0
    return w


def _time_decay_weights(j: _Journeys, touches: pd.DataFrame, half_life_days: float) -> np.ndarray:
    # 2^(-age/h) is proportional to 2^((ts - ts_last)/h): relative to the journey's last touch,
    # which also keeps a long journey from underflowing to 0 / 0.
    ts = series_ns(touches["ts"])[j.rows]
    w = np.exp2((ts - j.per_row(ts[j.ends])) / (_DAY_NS * half_life_days))
    return w / j.per_row(np.bincount(j.group, weights=w))


def _w_shaped_weights(j: _Journeys, touches: pd.DataFrame) -> np.ndarray:
    if "is_mqa" not in touches:
        raise ValueError("w_shaped needs an is_mqa column on touches")
    is_mqa = touches["is_mqa"]
    if is_mqa.dtype != bool:
        is_mqa = is_mqa.fillna(False).astype(bool)
    n, last = j.sizes, j.sizes - 1
    mqa = last // 2  # position in the journey; the median touch unless a touch made it mqa
    hits = np.flatnonzero(is_mqa.to_numpy()[j.rows])
    if len(hits):
        first_hits = hits[_starts(j.group[hits])]
        mqa[j.group[first_hits]] = first_hits - j.starts[j.group[first_hits]]
    middle = (mqa > 0) & (mqa < last)
    anchors = 1 + (n > 1) + middle  # distinct anchor touches
    others = n - anchors
    to_others = np.where(others > 0, 0.1 / np.maximum(others, 1), 0.0)
    to_anchors = np.where(others > 0, 0.0, 0.1 / anchors)

    w = j.per_row(to_others)
    # Scatter anchors from last to first so that coinciding anchors take the combined weight.
    w[j.ends] = 0.3 + 0.3 * (mqa == last) + to_anchors
    w[(j.starts + mqa)[middle]] = (0.3 + to_anchors)[middle]
    w[j.starts] = 0.3 + 0.3 * (mqa == 0) + 0.3 * (n == 1) + to_anchors
    return w


def _shapley_weights(j: _Journeys, codes: np.ndarray, n_channels: int) -> np.ndarray:
    key = j.group * n_channels + codes
    per_channel = _count_by(key, len(j.starts) * n_channels)
    # Summing 1/count over a journey's touches counts its distinct channels.
    distinct = np.rint(np.bincount(j.group, weights=1.0 / per_channel))
    return 1.0 / (distinct[j.group] * per_channel)


def _count_by(key: np.ndarray, size: int) -> np.ndarray:
    """How many rows share each row's key (dense bincount while that stays small)."""
    if size <= 4 * len(key) + 1024:
        return np.bincount(key, minlength=size)[key]
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse]


def _removal_effects(j: _Journeys, codes: np.ndarray, n_channels: int) -> np.ndarray:
    """Removal effect per channel code from the absorbing chain start, channels, conversion, null."""
    if not len(codes):
        return np.zeros(n_channels)
    return _effects_from_matrix(_transition_matrix(j, codes, n_channels))


def _transition_matrix(j: _Journeys, codes: np.ndarray, n_channels: int) -> np.ndarray:
    """Transition counts between the states channels 0..c-1, start, conversion and null."""
    c = n_channels
    start, conversion, null = c, c + 1, c + 2  # channel states are the codes 0..c-1
    # Transitions between different consecutive channels of a journey (repeats collapse).
    step = codes[1:] != codes[:-1]
    step[j.starts[1:] - 1] = False
    at = np.flatnonzero(step)
    pairs = codes[at].astype(np.intp) * c + codes[at + 1]
    counts = np.zeros((c + 3, c + 3))
    counts[:c, :c] = np.bincount(pairs, minlength=c * c).reshape(c, c)
    counts[start, :c] = np.bincount(codes[j.starts], minlength=c)
    ending = codes[j.ends].astype(np.intp) * 2 + j.converting
    counts[:c, [null, conversion]] = np.bincount(ending, minlength=2 * c).reshape(c, 2)
    return counts


def _effects_from_matrix(counts: np.ndarray) -> np.ndarray:
    c = len(counts) - 3
    start, conversion = c, c + 1
    effects = np.zeros(c)
    out = counts.sum(axis=1, keepdims=True)
    prob = counts / np.where(out == 0, 1, out)
    transient = c + 1  # the channels and start
    q, r = prob[:transient, :transient], prob[:transient, conversion]
    identity = np.eye(transient)
    base = np.linalg.solve(identity - q, r)[start]
    if base <= 0:
        return effects
    for k in range(c):
        removed = q.copy()
        removed[:, k] = 0.0  # transitions into k now go to null
        effects[k] = 1.0 - np.linalg.solve(identity - removed, r)[start] / base
    return np.clip(effects, 0.0, None)


# --- Markov statistics that add up over disjoint sets of journeys (the sharded engine) --------

_START, _CONVERSION, _NULL = "(start)", "(conversion)", "(null)"


def markov_transition_counts(
    touches: pd.DataFrame, conversions: pd.DataFrame, *, window_days: float | None = None
) -> pd.DataFrame:
    """The Markov chain's transition counts, ``from_state, to_state, count`` (non-zero only);
    states are channel names and "(start)", "(conversion)", "(null)". Counts of disjoint sets of
    journeys add up to the counts of their union (``removal_effects_from_counts``)."""
    j = _journeys(touches, conversions, window_days, with_non_converting=True)
    codes, channels = _channel_codes(touches, j.rows)
    names = np.array([*map(str, channels), _START, _CONVERSION, _NULL], dtype=object)
    if not len(codes):
        return _empty_counts()
    matrix = _transition_matrix(j, codes, len(channels))
    source, target = np.nonzero(matrix)
    return pd.DataFrame(
        {"from_state": names[source], "to_state": names[target], "count": matrix[source, target]}
    )


def removal_effects_from_counts(counts: pd.DataFrame) -> pd.Series:
    """Removal effect per channel (sorted by name) from summed ``markov_transition_counts``."""
    totals = counts.groupby(["from_state", "to_state"], sort=False)["count"].sum()
    states = set(totals.index.get_level_values(0)) | set(totals.index.get_level_values(1))
    channels = sorted(states - {_START, _CONVERSION, _NULL})
    if not channels:
        return pd.Series([], index=pd.Index([], name="channel"), name="removal_effect", dtype=float)
    at = {name: i for i, name in enumerate([*channels, _START, _CONVERSION, _NULL])}
    matrix = np.zeros((len(at), len(at)))
    source = [at[s] for s in totals.index.get_level_values(0)]
    target = [at[t] for t in totals.index.get_level_values(1)]
    np.add.at(matrix, (source, target), totals.to_numpy(dtype=float))
    effects = _effects_from_matrix(matrix)
    return pd.Series(effects, index=pd.Index(channels, name="channel"), name="removal_effect")


def _empty_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "from_state": pd.Series(dtype=object),
            "to_state": pd.Series(dtype=object),
            "count": pd.Series(dtype=float),
        }
    )


def _markov_weights(j: _Journeys, codes: np.ndarray, effects: np.ndarray) -> np.ndarray:
    w = effects[codes]
    total = np.bincount(j.group, weights=w, minlength=len(j.starts))
    if (total <= 0).any():  # no channel of the journey matters (float noise): linear instead
        w[j.per_row(total <= 0)] = 1.0
        total = np.bincount(j.group, weights=w, minlength=len(j.starts))
    w /= j.per_row(total)
    return w


# --- Output ---------------------------------------------------------------------------------


def _output(touches: pd.DataFrame, j: _Journeys, weight: np.ndarray) -> pd.DataFrame:
    extra = ["playbook_id"] if "playbook_id" in touches else []
    columns = {c: touches[c].array.take(j.rows) for c in ["journey_id", "touch_id", "channel"]}
    columns["weight"] = weight
    columns["credit"] = j.per_row(j.value)
    columns["credit"] *= weight
    columns.update({c: touches[c].array.take(j.rows) for c in extra})
    return pd.DataFrame(columns, columns=_OUTPUT + extra, copy=False)
