"""Multi-touch attribution: per-touch weights and credit for the models of DOMAIN.md "Attribution".

Pure pandas/numpy: a loader builds the frames from querysets, a service stores the results. Every
model is vectorised over all journeys at once (group offsets, ``np.bincount``) on one journey
set-up (``prepare_journeys``) that ``credit_models`` shares between models; the only Python loop is
over channels for the Markov removal effects (metrics/attribution_markov.py).

Decisions where DOMAIN.md is silent:

- Order within a journey: ``ts``, then ``touch_id`` for ties. ``touch_id`` must be unique within a
  journey. Journeys in ``journey_id`` order, by value for any dtype (a categorical's too, not its
  categories' order). Input already in (journey_id, ts, touch_id) order skips the sort; any
  other order or dtype costs one packed-key sort (metrics/attribution_journeys.py).
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
  redirects every transition into it to null. Removal effects are clipped at 0 (float noise); they
  come from additive transition counts (``markov_transition_counts``), channels in name order.
  A journey whose touches all have removal effect 0 falls back to linear weights.
- shapley: simplified Shapley of Zhao et al. (2018) as DOMAIN.md states it.
- Conversions must be unique per journey_id; zero-value conversions get weights and credit 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from abm.lib.heap import keeps_heap
from metrics.attribution_journeys import Journeys, JourneySet, prepare_journeys, starts_of_runs
from metrics.attribution_markov import (
    compact,
    effects_from_matrix,
    markov_transition_counts,
    removal_effects_from_counts,
    seen_channels,
    transition_matrix,
)

__all__ = [
    "MODELS",
    "JourneySet",
    "credit",
    "credit_models",
    "markov_removal_effects",
    "markov_transition_counts",
    "prepare_journeys",
    "removal_effects_from_counts",
]

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


def credit(
    touches: pd.DataFrame, conversions: pd.DataFrame, model: str, **params: float | None
) -> pd.DataFrame:
    """Per-touch weight and credit of ``model`` for every converting journey.

    ``params``: ``window_days`` (all models), ``half_life_days`` (time_decay, default 7).
    """
    return credit_models(touches, conversions, (model,), **params)[model]


@keeps_heap  # its temporaries reuse heap pages (abm/lib/heap.py)
def credit_models(
    touches: pd.DataFrame,
    conversions: pd.DataFrame,
    models: Iterable[str] = MODELS,
    *,
    journeys: JourneySet | None = None,
    **params: float | None,
) -> dict[str, pd.DataFrame]:
    """``credit`` of several models from one journey set-up, by model name; ``journeys``: the
    set-up ``prepare_journeys`` made of the same frames, to share it with other callers.

    The frames share their input columns (copy-on-write), so the set-up and those columns are
    paid once instead of once per model.
    """
    models = (models,) if isinstance(models, str) else tuple(models)
    for model in models:
        if model not in MODELS:
            raise ValueError(f"unknown attribution model {model!r}; expected one of {MODELS}")
    window_days = params.pop("window_days", None)
    half_life_days = params.pop("half_life_days", 7.0)
    if params:
        raise TypeError(f"unknown parameters: {sorted(params)}")
    js = journeys or prepare_journeys(touches, conversions, window_days=window_days)
    return {model: _output(js, _weights(js, model, half_life_days)) for model in models}


@keeps_heap
def markov_removal_effects(
    touches: pd.DataFrame, conversions: pd.DataFrame, *, window_days: float | None = None
) -> pd.Series:
    """Removal effect ``RE_k = 1 - P_without_k / P`` per channel seen in the paths (by name)."""
    counts = markov_transition_counts(touches, conversions, window_days=window_days)
    return removal_effects_from_counts(counts)


def _weights(js: JourneySet, model: str, half_life_days: float | None) -> np.ndarray:
    j = js.journeys
    if model == "markov":
        effects = _removal_effects(js.paths, js.path_codes, len(js.channels))
        return _markov_weights(j, js.codes, effects)
    if model == "shapley":
        return _shapley_weights(j, js.codes, len(js.channels))
    if model == "time_decay":
        return _time_decay_weights(j, js.ts, float(half_life_days))
    if model == "w_shaped":
        return _w_shaped_weights(j, js.is_mqa)
    return _positional_weights(j, model)


# --- Models ---------------------------------------------------------------------------------


def _positional_weights(j: Journeys, model: str) -> np.ndarray:
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


def _time_decay_weights(j: Journeys, ts: np.ndarray, half_life_days: float) -> np.ndarray:
    # 2^(-age/h) is proportional to 2^((ts - ts_last)/h): relative to the journey's last touch,
    # which also keeps a long journey from underflowing to 0 / 0.
    w = np.exp2((ts - j.per_row(ts[j.ends])) / (_DAY_NS * half_life_days))
    return w / j.per_row(np.bincount(j.group, weights=w))


def _w_shaped_weights(j: Journeys, is_mqa: np.ndarray) -> np.ndarray:
    n, last = j.sizes, j.sizes - 1
    mqa = last // 2  # position in the journey; the median touch unless a touch made it mqa
    hits = np.flatnonzero(is_mqa)
    if len(hits):
        first_hits = hits[starts_of_runs(j.group[hits])]
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


def _shapley_weights(j: Journeys, codes: np.ndarray, n_channels: int) -> np.ndarray:
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


def _removal_effects(j: Journeys, codes: np.ndarray, n_channels: int) -> np.ndarray:
    """Removal effect per channel code, 0 for channels in no path; the same matrix, in the same
    (name) order, as ``removal_effects_from_counts`` builds from the counts frame."""
    matrix = transition_matrix(j, codes, n_channels)
    effects = np.zeros(n_channels)
    effects[seen_channels(matrix)] = effects_from_matrix(compact(matrix))
    return effects


def _markov_weights(j: Journeys, codes: np.ndarray, effects: np.ndarray) -> np.ndarray:
    w = effects[codes]
    total = np.bincount(j.group, weights=w, minlength=len(j.starts))
    if (total <= 0).any():  # no channel of the journey matters (float noise): linear instead
        w[j.per_row(total <= 0)] = 1.0
        total = np.bincount(j.group, weights=w, minlength=len(j.starts))
    w /= j.per_row(total)
    return w


# --- Output ---------------------------------------------------------------------------------


def _output(js: JourneySet, weight: np.ndarray) -> pd.DataFrame:
    columns = dict(js.columns)
    extra = [c for c in columns if c not in _OUTPUT]
    columns["weight"] = pd.Series(weight, copy=False)
    columns["credit"] = pd.Series(js.row_value * weight, copy=False)
    return pd.DataFrame(columns, columns=_OUTPUT + extra, copy=False)
