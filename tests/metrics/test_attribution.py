"""Attribution models against hand-computed weights from DOMAIN.md, plus invariants."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.attribution import MODELS, credit, markov_removal_effects

CONVERTED = pd.Timestamp("2024-03-01", tz="UTC")


def frames(journeys, values=None, non_converting=()):
    """Touches (touch_id, days before conversion, channel, is_mqa) of journey 1, 2, ...; every
    journey in `journeys` converts at CONVERTED, those in `non_converting` never do."""
    rows = []
    for journey_id, touches in [*enumerate(journeys, 1), *non_converting]:
        for touch_id, days, channel, *mqa in touches:
            ts = CONVERTED - pd.Timedelta(days=days)
            rows.append((journey_id, touch_id, ts, channel, bool(mqa and mqa[0])))
    touches = pd.DataFrame(rows, columns=["journey_id", "touch_id", "ts", "channel", "is_mqa"])
    conversions = pd.DataFrame(
        {
            "journey_id": range(1, len(journeys) + 1),
            "ts": CONVERTED,
            "value": values or [100.0] * len(journeys),
        }
    )
    return touches, conversions


def weights_by_touch(result):
    return dict(zip(result["touch_id"], result["weight"], strict=True))


ONE = [(1, 5, "email")]
TWO = [(1, 5, "email"), (2, 1, "event")]
THREE = [(1, 5, "email"), (2, 3, "event"), (3, 1, "webinar")]
FIVE = [(1, 9, "email"), (2, 7, "event"), (3, 5, "webinar"), (4, 3, "phone"), (5, 1, "content")]
TIED = [(2, 3, "email"), (1, 3, "event")]  # same ts: touch 1 comes first
AFTER = [(1, 5, "email"), (2, -1, "event")]  # touch 2 is after the conversion


@pytest.mark.parametrize(
    ("model", "touches", "expected"),
    [
        ("first_touch", ONE, {1: 1}),
        ("first_touch", TWO, {1: 1, 2: 0}),
        ("first_touch", THREE, {1: 1, 2: 0, 3: 0}),
        ("first_touch", TIED, {1: 1, 2: 0}),
        ("first_touch", AFTER, {1: 1}),
        ("last_touch", ONE, {1: 1}),
        ("last_touch", TWO, {1: 0, 2: 1}),
        ("last_touch", FIVE, {1: 0, 2: 0, 3: 0, 4: 0, 5: 1}),
        ("last_touch", TIED, {1: 0, 2: 1}),
        ("last_touch", AFTER, {1: 1}),
        ("linear", ONE, {1: 1}),
        ("linear", TWO, {1: 0.5, 2: 0.5}),
        ("linear", THREE, {1: 1 / 3, 2: 1 / 3, 3: 1 / 3}),
        ("linear", FIVE, {1: 0.2, 2: 0.2, 3: 0.2, 4: 0.2, 5: 0.2}),
        ("linear", AFTER, {1: 1}),
        ("u_shaped", ONE, {1: 1}),
        ("u_shaped", TWO, {1: 0.5, 2: 0.5}),
        ("u_shaped", THREE, {1: 0.4, 2: 0.2, 3: 0.4}),
        ("u_shaped", FIVE, {1: 0.4, 2: 0.2 / 3, 3: 0.2 / 3, 4: 0.2 / 3, 5: 0.4}),
        ("u_shaped", TIED, {1: 0.5, 2: 0.5}),
        ("shapley", ONE, {1: 1}),
        ("shapley", THREE, {1: 1 / 3, 2: 1 / 3, 3: 1 / 3}),
        # email has 1/2 of the conversion, split over its two touches.
        (
            "shapley",
            [(1, 5, "email"), (2, 3, "event"), (3, 1, "email")],
            {1: 0.25, 2: 0.5, 3: 0.25},
        ),
        (
            "shapley",
            [(1, 7, "email"), (2, 5, "event"), (3, 3, "phone"), (4, 1, "email")],
            {1: 1 / 6, 2: 1 / 3, 3: 1 / 3, 4: 1 / 6},
        ),
        (
            "shapley",
            [(1, 5, "email"), (2, 3, "email"), (3, 1, "email")],
            {1: 1 / 3, 2: 1 / 3, 3: 1 / 3},
        ),
    ],
)
def test_positional_and_shapley_weights_match_hand_computation(model, touches, expected):
    result = credit(*frames([touches]), model)

    assert weights_by_touch(result) == pytest.approx(expected)
    assert result["credit"].to_list() == pytest.approx([100 * w for w in result["weight"]])


@pytest.mark.parametrize(
    ("touches", "params", "expected"),
    [
        ([(1, 3, "email")], {}, {1: 1}),
        # 2^(-14/7) = .25, 2^(-7/7) = .5, 2^0 = 1; normalised by 1.75.
        ([(1, 14, "email"), (2, 7, "event"), (3, 0, "phone")], {}, {1: 1 / 7, 2: 2 / 7, 3: 4 / 7}),
        ([(1, 2, "email"), (2, 2, "event")], {}, {1: 0.5, 2: 0.5}),
        # 3.5 days apart: 2^-0.5 against 1.
        (
            [(1, 4.5, "email"), (2, 1, "event")],
            {},
            {1: 0.7071067811865476 / 1.7071067811865476, 2: 1 / 1.7071067811865476},
        ),
        ([(1, 14, "email"), (2, 0, "event")], {"half_life_days": 14}, {1: 1 / 3, 2: 2 / 3}),
        # A year apart does not underflow: the older touch gets 2^(-365/7) of the newer one.
        ([(1, 366, "email"), (2, 1, "event")], {}, {1: 2 ** (-365 / 7), 2: 1}),
    ],
)
def test_time_decay_halves_weight_every_half_life(touches, params, expected):
    result = credit(*frames([touches]), "time_decay", **params)

    assert weights_by_touch(result) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("touches", "expected"),
    [
        ([(1, 5, "email")], {1: 1}),
        ([(1, 5, "email", True)], {1: 1}),
        # No mqa touch, median index (2 - 1) // 2 = 0: .3 + .3 + .05 against .3 + .05.
        ([(1, 5, "email"), (2, 1, "event")], {1: 0.65, 2: 0.35}),
        ([(1, 5, "email"), (2, 1, "event", True)], {1: 0.35, 2: 0.65}),
        # n = 3 without mqa: anchors first, median (index 1), last, the .1 split over all three.
        ([(1, 5, "email"), (2, 3, "event"), (3, 1, "phone")], {1: 1 / 3, 2: 1 / 3, 3: 1 / 3}),
        # n = 4 without mqa: median index 1; touch 3 alone gets the .1.
        (
            [(1, 7, "email"), (2, 5, "event"), (3, 3, "phone"), (4, 1, "content")],
            {1: 0.3, 2: 0.3, 3: 0.1, 4: 0.3},
        ),
        # mqa on the 4th of 5: touches 2 and 3 share the .1.
        (
            [
                (1, 9, "email"),
                (2, 7, "event"),
                (3, 5, "phone"),
                (4, 3, "content", True),
                (5, 1, "email"),
            ],
            {1: 0.3, 2: 0.05, 3: 0.05, 4: 0.3, 5: 0.3},
        ),
        # mqa on the first touch: .6 there, the three middle touches share the .1.
        (
            [
                (1, 9, "email", True),
                (2, 7, "event"),
                (3, 5, "phone"),
                (4, 3, "content"),
                (5, 1, "email"),
            ],
            {1: 0.6, 2: 0.1 / 3, 3: 0.1 / 3, 4: 0.1 / 3, 5: 0.3},
        ),
        (
            [
                (1, 9, "email"),
                (2, 7, "event"),
                (3, 5, "phone"),
                (4, 3, "content"),
                (5, 1, "email", True),
            ],
            {1: 0.3, 2: 0.1 / 3, 3: 0.1 / 3, 4: 0.1 / 3, 5: 0.6},
        ),
        # The mqa touch came after the conversion: outside the journey, so the median (index 2).
        (
            [
                (1, 9, "email"),
                (2, 7, "event"),
                (3, 5, "phone"),
                (4, 3, "content"),
                (5, 1, "email"),
                (6, -2, "event", True),
            ],
            {1: 0.3, 2: 0.05, 3: 0.3, 4: 0.05, 5: 0.3},
        ),
        # Two mqa flags: the first one in journey order counts.
        (
            [
                (1, 9, "email"),
                (2, 7, "event", True),
                (3, 5, "phone", True),
                (4, 3, "content"),
                (5, 1, "email"),
            ],
            {1: 0.3, 2: 0.3, 3: 0.05, 4: 0.05, 5: 0.3},
        ),
    ],
)
def test_w_shaped_weights_match_hand_computation(touches, expected):
    result = credit(*frames([touches]), "w_shaped")

    assert weights_by_touch(result) == pytest.approx(expected)


def test_w_shaped_ignores_an_mqa_touch_outside_the_window():
    touches = [(1, 40, "email", True), (2, 9, "event"), (3, 5, "phone"), (4, 1, "email")]

    result = credit(*frames([touches]), "w_shaped", window_days=30)

    # Touch 1 is out; median of three is index 1 (touch 3); n=3 anchors all, .1 / 3 each.
    assert weights_by_touch(result) == pytest.approx({2: 1 / 3, 3: 1 / 3, 4: 1 / 3})


def test_w_shaped_requires_the_mqa_flag():
    touches, conversions = frames([TWO])

    with pytest.raises(ValueError, match="is_mqa"):
        credit(touches.drop(columns="is_mqa"), conversions, "w_shaped")


def test_markov_weights_come_from_removal_effects():
    # Paths: email > event > conversion, email > null, event > conversion.
    # start: email 2/3, event 1/3; email: event 1/2, null 1/2; event: conversion 1.
    # P = 2/3 * 1/2 + 1/3 = 2/3. Without email: 1/3, RE = 1/2. Without event: 0, RE = 1.
    touches, conversions = frames(
        [[(1, 5, "email"), (2, 1, "event")], [(3, 2, "event")]],
        values=[90.0, 60.0],
        non_converting=[(9, [(4, 3, "email")])],
    )

    effects = markov_removal_effects(touches, conversions)
    result = credit(touches, conversions, "markov")

    assert effects.to_dict() == pytest.approx({"email": 0.5, "event": 1.0})
    assert weights_by_touch(result) == pytest.approx({1: 1 / 3, 2: 2 / 3, 3: 1.0})
    assert result["credit"].to_list() == pytest.approx([30.0, 60.0, 60.0])
    assert 9 not in set(result["journey_id"])


def test_markov_keeps_channel_effects_when_a_channel_only_appears_in_non_converting_paths():
    # "display" sorts first but never converts: the converting journey must still read
    # email's and event's effects, the same as in test_markov_weights_come_from_removal_effects.
    touches, conversions = frames(
        [[(1, 5, "email"), (2, 1, "event")], [(3, 2, "event")]],
        values=[90.0, 60.0],
        non_converting=[(9, [(4, 3, "email")]), (8, [(5, 3, "display")])],
    )

    result = credit(touches, conversions, "markov")

    # start now also goes to display (1/4), which is a dead end: P = 2/4 * 1/2 + 1/4 = 1/2;
    # without email 1/4 (RE 1/2), without event 0 (RE 1), without display 1/2 (RE 0).
    assert markov_removal_effects(touches, conversions).to_dict() == pytest.approx(
        {"display": 0.0, "email": 0.5, "event": 1.0}
    )
    assert weights_by_touch(result) == pytest.approx({1: 1 / 3, 2: 2 / 3, 3: 1.0})


def test_markov_gives_a_single_channel_world_everything():
    touches, conversions = frames(
        [[(1, 5, "email"), (2, 3, "email"), (3, 1, "email")], [(4, 2, "email")]],
        non_converting=[(9, [(5, 3, "email")])],
    )

    effects = markov_removal_effects(touches, conversions)
    result = credit(touches, conversions, "markov")

    assert effects.to_dict() == {"email": 1.0}
    assert weights_by_touch(result) == pytest.approx({1: 1 / 3, 2: 1 / 3, 3: 1 / 3, 4: 1})


def test_markov_effects_are_zero_without_converting_paths():
    # Journey 1 never converts; journey 2 converts, but its touches all come after the conversion.
    touches, conversions = frames([[(3, -1, "email")]], non_converting=[(9, TWO)])

    result = credit(touches, conversions, "markov")

    assert result.empty
    assert markov_removal_effects(touches, conversions).to_dict() == {"email": 0, "event": 0}


def test_markov_gives_nothing_to_a_channel_that_never_leads_to_conversion():
    touches, conversions = frames([[(1, 5, "email")]], non_converting=[(9, [(2, 3, "event")])])

    effects = markov_removal_effects(touches, conversions)

    assert effects.to_dict() == pytest.approx({"email": 1.0, "event": 0.0})


def test_markov_splits_linearly_when_every_effect_in_a_journey_is_zero(monkeypatch):
    # Exact arithmetic never gets here (a converting path raises its channels' effects), but
    # rounding can; the journey then falls back to linear instead of dividing 0 by 0.
    monkeypatch.setattr(
        "metrics.attribution._removal_effects", lambda j, codes, n_channels: np.zeros(n_channels)
    )

    result = credit(*frames([THREE]), "markov")

    assert weights_by_touch(result) == pytest.approx({1: 1 / 3, 2: 1 / 3, 3: 1 / 3})


def brute_force_removal_effects(paths):
    """Conversion probability by iterating the transition matrix to convergence."""
    channels = sorted({c for path, _ in paths for c in path})
    states = ["start", *channels, "conversion", "null"]
    index = {s: i for i, s in enumerate(states)}
    counts = np.zeros((len(states), len(states)))
    for path, converted in paths:
        collapsed = [c for i, c in enumerate(path) if i == 0 or path[i - 1] != c]
        chain = ["start", *collapsed, "conversion" if converted else "null"]
        for a, b in zip(chain, chain[1:], strict=False):
            counts[index[a], index[b]] += 1

    def probability(removed=None):
        matrix = counts.copy()
        if removed is not None:
            matrix[:, index["null"]] += matrix[:, index[removed]]
            matrix[:, index[removed]] = 0
        out = matrix.sum(axis=1, keepdims=True)
        matrix = np.divide(matrix, out, out=np.zeros_like(matrix), where=out > 0)
        matrix[index["conversion"], index["conversion"]] = 1
        matrix[index["null"], index["null"]] = 1
        dist = np.zeros(len(states))
        dist[index["start"]] = 1
        for _ in range(5000):
            dist = dist @ matrix
        return dist[index["conversion"]]

    base = probability()
    return {c: 1 - probability(c) / base for c in channels}


def test_markov_removal_effects_match_brute_force_on_random_paths():
    rng = np.random.default_rng(7)
    channels = ["email", "event", "phone", "webinar"]
    journeys, non_converting, paths, touch_id = [], [], [], 0
    for journey in range(40):
        path = list(rng.choice(channels, size=rng.integers(1, 6)))
        touches = []
        for days, channel in zip(range(len(path), 0, -1), path, strict=True):
            touch_id += 1
            touches.append((touch_id, days, str(channel)))
        converted = rng.random() < 0.5
        if converted:
            journeys.append(touches)
        else:
            non_converting.append((1000 + journey, touches))
        paths.append((path, converted))

    effects = markov_removal_effects(*frames(journeys, non_converting=non_converting))

    assert effects.to_dict() == pytest.approx(brute_force_removal_effects(paths), abs=1e-9)


@pytest.mark.parametrize("model", MODELS)
def test_zero_value_conversions_get_weights_but_no_credit(model):
    result = credit(*frames([THREE], values=[0.0]), model)

    assert result["weight"].sum() == pytest.approx(1)
    assert (result["credit"] == 0).all()


@pytest.mark.parametrize("model", MODELS)
def test_a_journey_without_touches_before_conversion_gets_no_rows(model):
    result = credit(*frames([[(1, -1, "email")], ONE]), model)

    assert result["journey_id"].to_list() == [2]


@pytest.mark.parametrize(
    ("days_before", "counted"),
    [(30, True), (30 + 1 / 86_400, False), (0, True), (-1 / 86_400, False)],
)
def test_window_includes_both_ends(days_before, counted):
    touches = [(1, 10, "email"), (2, days_before, "event")]

    result = credit(*frames([touches]), "linear", window_days=30)

    assert (2 in set(result["touch_id"])) is counted


def test_without_a_window_old_touches_count():
    result = credit(*frames([[(1, 400, "email"), (2, 1, "event")]]), "linear")

    assert weights_by_touch(result) == {1: 0.5, 2: 0.5}


def test_it_carries_playbook_id_through():
    touches, conversions = frames([TWO])
    touches["playbook_id"] = [7, None]

    result = credit(touches, conversions, "first_touch")

    assert list(result.columns) == [
        "journey_id",
        "touch_id",
        "channel",
        "weight",
        "credit",
        "playbook_id",
    ]
    assert result["playbook_id"].iloc[0] == 7
    assert pd.isna(result["playbook_id"].iloc[1])


def test_it_accepts_string_journey_ids_and_categorical_channels():
    touches, conversions = frames([TWO, ONE], values=[100.0, 50.0])
    touches["journey_id"] = touches["journey_id"].map({1: "opp-b", 2: "opp-a"})
    conversions["journey_id"] = ["opp-b", "opp-a"]
    touches["channel"] = touches["channel"].astype("category")

    result = credit(touches, conversions, "shapley")

    assert result.set_index("touch_id")["credit"].to_dict() == {1: 50.0, 2: 50.0}  # journey opp-b
    assert result.groupby("journey_id")["credit"].sum().to_dict() == {"opp-a": 50.0, "opp-b": 100.0}


def test_unknown_model_is_an_error():
    with pytest.raises(ValueError, match="unknown attribution model"):
        credit(*frames([ONE]), "last_non_direct")


def test_duplicate_conversions_are_an_error():
    touches, conversions = frames([ONE])

    with pytest.raises(ValueError, match="one row per journey"):
        credit(touches, pd.concat([conversions, conversions]), "linear")


@pytest.mark.parametrize("model", MODELS)
def test_empty_touches_give_an_empty_result(model):
    touches, conversions = frames([ONE])

    result = credit(touches.iloc[:0], conversions, model)

    assert result.empty
    assert list(result.columns) == ["journey_id", "touch_id", "channel", "weight", "credit"]


# --- Properties ---------------------------------------------------------------------------------

journey_strategy = st.lists(
    st.tuples(
        st.integers(min_value=-3, max_value=40),  # days before conversion; < 0 is after it
        st.sampled_from(["email", "event", "phone", "webinar"]),
        st.booleans(),
    ),
    min_size=0,
    max_size=7,
)
world_strategy = st.lists(
    st.tuples(journey_strategy, st.one_of(st.none(), st.floats(0, 1e6))), min_size=1, max_size=8
)


def world_frames(world):
    rows, conversions, touch_id = [], [], 0
    for journey_id, (journey, value) in enumerate(world, 1):
        for days, channel, mqa in journey:
            touch_id += 1
            rows.append((journey_id, touch_id, CONVERTED - pd.Timedelta(days=days), channel, mqa))
        if value is not None:
            conversions.append((journey_id, CONVERTED, value))
    touches = pd.DataFrame(rows, columns=["journey_id", "touch_id", "ts", "channel", "is_mqa"])
    touches = touches.astype({"journey_id": "int64", "touch_id": "int64", "is_mqa": bool})
    touches["ts"] = pd.to_datetime(touches["ts"], utc=True)
    conversions = pd.DataFrame(conversions, columns=["journey_id", "ts", "value"])
    conversions = conversions.astype({"journey_id": "int64", "value": float})
    conversions["ts"] = pd.to_datetime(conversions["ts"], utc=True)
    return touches, conversions


@pytest.mark.parametrize("model", MODELS)
@given(world=world_strategy, seed=st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_weights_sum_to_one_and_credits_to_value_in_any_row_order(model, world, seed):
    touches, conversions = world_frames(world)
    value = conversions.set_index("journey_id")["value"]

    result = credit(touches, conversions, model, window_days=30)
    shuffled = credit(
        touches.sample(frac=1, random_state=seed % 2**32),
        conversions.sample(frac=1, random_state=seed % 2**32),
        model,
        window_days=30,
    )

    by_journey = result.groupby("journey_id")[["weight", "credit"]].sum()
    assert np.allclose(by_journey["weight"], 1)
    assert np.allclose(by_journey["credit"], value.loc[by_journey.index], rtol=1e-9, atol=1e-6)
    total = value.loc[by_journey.index].sum()
    assert result.groupby("channel")["credit"].sum().sum() == pytest.approx(total, abs=1e-6)
    key = ["journey_id", "touch_id"]
    left, right = result.sort_values(key), shuffled.sort_values(key)
    assert left[key].to_numpy().tolist() == right[key].to_numpy().tolist()
    assert np.allclose(left["weight"], right["weight"], rtol=1e-12, atol=0)
