"""Markov attribution statistics: transition counts and removal effects (DOMAIN.md "Markov").

Pure numpy/pandas. Transition counts are additive: counted per journey, so the counts of disjoint
sets of journeys (shards) summed per (from_state, to_state) are the counts of their union, and
``removal_effects_from_counts`` on the sum equals the effects computed on all journeys at once.
The matrix orders channels by name, so results do not depend on which shard saw a channel first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.attribution_journeys import Journeys, JourneySet, prepare_journeys

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_SPECIAL = (START, CONVERSION, NULL)
COUNT_COLUMNS = ["from_state", "to_state", "count"]


def markov_transition_counts(
    touches: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    window_days: float | None = None,
    journeys: JourneySet | None = None,
) -> pd.DataFrame:
    """Transitions ``from_state, to_state, count`` of the Markov chain over these journeys
    (``journeys``: their set-up, if the caller made it already).

    States are channel names and "(start)", "(conversion)", "(null)"; only non-zero counts.
    """
    js = journeys or prepare_journeys(touches, conversions, window_days=window_days)
    if not len(js.paths.rows):
        return _empty_counts()
    return counts_frame(transition_matrix(js.paths, js.path_codes, len(js.channels)), js.channels)


def removal_effects_from_counts(counts: pd.DataFrame) -> pd.Series:
    """Removal effect ``RE_k = 1 - P_without_k / P`` per channel of (possibly summed) counts."""
    counts = counts.groupby(["from_state", "to_state"], sort=False)["count"].sum().reset_index()
    states = pd.Index(pd.unique(counts[["from_state", "to_state"]].to_numpy().ravel()))
    channels = states[~states.isin(_SPECIAL)].sort_values()
    c = len(channels)
    index = {name: i for i, name in enumerate(channels)} | {
        START: c,
        CONVERSION: c + 1,
        NULL: c + 2,
    }
    matrix = np.zeros((c + 3, c + 3))
    at_from = counts["from_state"].map(index).to_numpy(dtype=np.intp)
    at_to = counts["to_state"].map(index).to_numpy(dtype=np.intp)
    np.add.at(matrix, (at_from, at_to), counts["count"].to_numpy(dtype=float))
    return pd.Series(
        effects_from_matrix(matrix), index=pd.Index(channels, name="channel"), name="removal_effect"
    )


def transition_matrix(j: Journeys, codes: np.ndarray, n_channels: int) -> np.ndarray:
    """Counts between states: channels are the codes 0..c-1, then start, conversion, null."""
    return transition_matrices(j, codes, n_channels, np.zeros(len(codes), dtype=np.intp), 1)[0]


def transition_matrices(
    j: Journeys, codes: np.ndarray, n_channels: int, row_group: np.ndarray, groups: int
) -> np.ndarray:
    """``transition_matrix`` of each group of journeys, stacked (``groups``, states, states);
    ``row_group``: the group 0..groups-1 of each row of ``codes``, one per journey."""
    c = n_channels
    start, conversion, null = c, c + 1, c + 2
    counts = np.zeros((groups, c + 3, c + 3))
    if not len(codes):
        return counts
    codes = codes.astype(np.intp)
    row_group = row_group.astype(np.intp)
    # Transitions between different consecutive channels of a journey (repeats collapse).
    step = codes[1:] != codes[:-1]
    step[j.starts[1:] - 1] = False
    at = np.flatnonzero(step)
    pairs = (row_group[at] * c + codes[at]) * c + codes[at + 1]
    counts[:, :c, :c] = np.bincount(pairs, minlength=groups * c * c).reshape(groups, c, c)
    first = row_group[j.starts] * c + codes[j.starts]
    counts[:, start, :c] = np.bincount(first, minlength=groups * c).reshape(groups, c)
    ending = (row_group[j.ends] * c + codes[j.ends]) * 2 + j.converting
    by_end = np.bincount(ending, minlength=groups * c * 2).reshape(groups, c, 2)
    counts[:, :c, null] = by_end[:, :, 0]
    counts[:, :c, conversion] = by_end[:, :, 1]
    return counts


def transition_counts_by(js: JourneySet, touch_group: np.ndarray, groups: int) -> pd.DataFrame:
    """Transition counts per group of journeys: ``group, from_state, to_state, count``, only
    non-zero counts. ``touch_group``: the group 0..groups-1 of each row of the touches ``js``
    was prepared from, the same for every touch of a journey (a slot of accounts: counts add
    up, so each slot keeps its own and a changed slot replaces only its part)."""
    if not len(js.paths.rows):
        return _empty_counts().assign(group=pd.Series(dtype=np.int64))
    matrices = transition_matrices(
        js.paths, js.path_codes, len(js.channels), touch_group[js.paths.rows], groups
    )
    states = np.array([*js.channels, *_SPECIAL], dtype=object)
    at_group, at_from, at_to = np.nonzero(matrices)
    return pd.DataFrame(
        {
            "group": at_group.astype(np.int64),
            "from_state": states[at_from],
            "to_state": states[at_to],
            "count": matrices[at_group, at_from, at_to],
        }
    )


def seen_channels(matrix: np.ndarray) -> np.ndarray:
    """Mask of the channels in a path: every one of them has a transition out."""
    return matrix[:-3].sum(axis=1) > 0


def compact(matrix: np.ndarray) -> np.ndarray:
    """The matrix without the channels no path went through (as the counts frame has it)."""
    keep = np.append(seen_channels(matrix), [True, True, True])
    return matrix[np.ix_(keep, keep)]


def counts_frame(matrix: np.ndarray, channels: pd.Index) -> pd.DataFrame:
    states = np.array([*channels, *_SPECIAL], dtype=object)
    at_from, at_to = np.nonzero(matrix)
    return pd.DataFrame(
        {
            "from_state": states[at_from],
            "to_state": states[at_to],
            "count": matrix[at_from, at_to],
        }
    )


def effects_from_matrix(counts: np.ndarray) -> np.ndarray:
    """Removal effect per channel row of a counts matrix (channels, start, conversion, null),
    solved exactly on the absorbing chain; clipped at 0 (float noise)."""
    c = len(counts) - 3
    effects = np.zeros(c)
    start, conversion = c, c + 1
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


def _empty_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "from_state": pd.Series(dtype=object),
            "to_state": pd.Series(dtype=object),
            "count": pd.Series(dtype=float),
        }
    )
