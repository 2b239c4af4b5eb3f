"""Additive Markov statistics for a sharded engine: transition counts summed over disjoint sets of
journeys, and removal effects from them (metrics/attribution_markov.py)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.attribution import (
    credit,
    markov_removal_effects,
    markov_transition_counts,
    removal_effects_from_counts,
)
from metrics.attribution_journeys import prepare_journeys
from metrics.attribution_markov import transition_counts_by

CONVERTED = pd.Timestamp("2024-03-01", tz="UTC")
CHANNELS = ["webinar", "email", "phone", "event", "ads", "content"]


def random_frames(seed, journeys=80, touches=500):
    """Journeys of random channels (repeats included), a third of them never converting, some
    touches after the conversion or before a 30-day window."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "journey_id": rng.integers(0, journeys, touches),
            "touch_id": np.arange(touches),
            "ts": CONVERTED - pd.to_timedelta(rng.integers(-5, 45, touches), "D"),
            "channel": rng.choice(CHANNELS, touches, p=[0.3, 0.25, 0.15, 0.15, 0.1, 0.05]),
        }
    )
    converting = np.flatnonzero(rng.random(journeys) < 0.65)
    conversions = pd.DataFrame(
        {"journey_id": converting, "ts": CONVERTED, "value": rng.uniform(1, 100, len(converting))}
    )
    return frame, conversions


def shard(touches, conversions, journeys):
    return (
        touches[touches["journey_id"].isin(journeys)],
        conversions[conversions["journey_id"].isin(journeys)],
    )


def summed(*counts):
    total = pd.concat(counts).groupby(["from_state", "to_state"])["count"].sum()
    return total[total != 0]


def as_series(counts):
    return counts.set_index(["from_state", "to_state"])["count"].sort_index()


def test_transition_counts_of_the_documented_example():
    # Paths: email > event > conversion, email > null, event > conversion; repeats collapse.
    touches = pd.DataFrame(
        {
            "journey_id": [1, 1, 1, 2, 9],
            "touch_id": [1, 2, 3, 4, 5],
            "ts": CONVERTED - pd.to_timedelta([5, 3, 1, 2, 3], "D"),
            "channel": ["email", "email", "event", "event", "email"],
        }
    )
    conversions = pd.DataFrame({"journey_id": [1, 2], "ts": CONVERTED, "value": [90.0, 60.0]})

    counts = markov_transition_counts(touches, conversions)

    assert list(counts.columns) == ["from_state", "to_state", "count"]
    assert counts["count"].dtype == float
    assert as_series(counts).to_dict() == {
        ("(start)", "email"): 2.0,
        ("(start)", "event"): 1.0,
        ("email", "(null)"): 1.0,
        ("email", "event"): 1.0,
        ("event", "(conversion)"): 2.0,
    }
    # P = 2/3 * 1/2 + 1/3 = 2/3; without email 1/3 (RE 1/2), without event 0 (RE 1).
    assert removal_effects_from_counts(counts).to_dict() == pytest.approx(
        {"email": 0.5, "event": 1.0}
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("window_days", [None, 30])
def test_counts_of_disjoint_shards_add_up_to_the_counts_of_the_whole(seed, window_days):
    touches, conversions = random_frames(seed)
    rng = np.random.default_rng(100 + seed)
    shard_of = rng.integers(0, 3, 80)  # journey -> shard, some shards may lack a channel

    parts = [
        markov_transition_counts(
            *shard(touches, conversions, np.flatnonzero(shard_of == k)), window_days=window_days
        )
        for k in range(3)
    ]
    whole = markov_transition_counts(touches, conversions, window_days=window_days)

    assert summed(*parts).to_dict() == as_series(whole).to_dict()
    from_summed = removal_effects_from_counts(summed(*parts).reset_index())
    direct = markov_removal_effects(touches, conversions, window_days=window_days)
    assert list(from_summed.index) == sorted(direct.index)
    np.testing.assert_allclose(from_summed, direct, rtol=0, atol=1e-12)


def test_effects_do_not_depend_on_which_shard_saw_a_channel_first():
    touches, conversions = random_frames(3)
    categorical = touches.assign(channel=pd.Categorical(touches["channel"], categories=CHANNELS))
    first, second = np.arange(40), np.arange(40, 80)

    forward = summed(
        markov_transition_counts(*shard(categorical, conversions, first)),
        markov_transition_counts(*shard(touches, conversions, second)),
    )
    backward = summed(
        markov_transition_counts(*shard(touches, conversions, second)),
        markov_transition_counts(*shard(categorical, conversions, first)),
    )

    effects = removal_effects_from_counts(forward.reset_index())
    assert list(effects.index) == sorted(CHANNELS)
    assert effects.name == "removal_effect"
    pd.testing.assert_series_equal(
        effects, removal_effects_from_counts(backward.reset_index()), check_exact=True
    )


def test_the_markov_model_weights_touches_by_the_effects_of_the_counts():
    touches, conversions = random_frames(4)
    effects = removal_effects_from_counts(markov_transition_counts(touches, conversions))

    result = credit(touches, conversions, "markov")

    raw = result["channel"].map(effects).to_numpy()
    expected = raw / result.assign(raw=raw).groupby("journey_id")["raw"].transform("sum")
    np.testing.assert_allclose(result["weight"], expected, rtol=1e-12)


def test_shard_without_converting_journeys_and_empty_shard():
    touches, conversions = random_frames(1)
    idle = sorted(set(touches["journey_id"]) - set(conversions["journey_id"]))

    only_idle = markov_transition_counts(*shard(touches, conversions, idle))
    empty = markov_transition_counts(touches.iloc[:0], conversions)

    assert set(only_idle["to_state"]) - set(CHANNELS) == {"(null)"}
    assert list(empty.columns) == ["from_state", "to_state", "count"]
    assert empty.empty
    assert removal_effects_from_counts(only_idle).eq(0).all()
    assert removal_effects_from_counts(empty).empty


@given(seed=st.integers(0, 2**32 - 1), shards=st.integers(1, 5), touches=st.integers(0, 120))
@settings(max_examples=40, deadline=None)
def test_any_split_of_the_journeys_gives_the_same_effects(seed, shards, touches):
    frame, conversions = random_frames(seed % 2**32, journeys=25, touches=touches)
    shard_of = np.random.default_rng(seed).integers(0, shards, 25)

    parts = [
        markov_transition_counts(
            *shard(frame, conversions, np.flatnonzero(shard_of == k)), window_days=30
        )
        for k in range(shards)
    ]
    whole = markov_transition_counts(frame, conversions, window_days=30)

    assert summed(*parts).to_dict() == as_series(whole).to_dict()
    from_summed = removal_effects_from_counts(summed(*parts).reset_index())
    direct = markov_removal_effects(frame, conversions, window_days=30)
    assert list(from_summed.index) == list(direct.index)
    np.testing.assert_allclose(from_summed, direct, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("window_days", [None, 30])
def test_counts_by_group_in_one_pass_are_each_groups_counts_alone(seed, window_days):
    """What a batch of slots stores per slot: one pass over every journey, counted per group,
    gives each group the counts its journeys give alone (a group without journeys, none)."""
    touches, conversions = random_frames(seed)
    group_of = np.random.default_rng(200 + seed).integers(0, 4, 80)  # journey -> group
    journeys = prepare_journeys(touches, conversions, window_days=window_days)

    by_group = transition_counts_by(journeys, group_of[touches["journey_id"].to_numpy()], 5)

    assert set(by_group["group"]) <= {0, 1, 2, 3}  # group 4 holds no journey
    for k in range(4):
        alone = markov_transition_counts(
            *shard(touches, conversions, np.flatnonzero(group_of == k)), window_days=window_days
        )
        mine = by_group[by_group["group"] == k].drop(columns="group")
        assert as_series(mine).to_dict() == as_series(alone).to_dict()
