"""One journey set-up for every model: credit_models against credit, and results that do not
depend on the input's row order or dtypes (metrics/attribution_journeys.py)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.attribution import MODELS, credit, credit_models, prepare_journeys
from metrics.attribution_journeys import _by_address, _factorize_sorted, _string_order

CONVERTED = pd.Timestamp("2024-03-01", tz="UTC")
CHANNELS = ["webinar", "email", "phone", "event", "ads"]  # not in name order on purpose


def random_frames(seed, journeys=60, touches=400, *, tick_s=3600, span_s=40 * 86_400):
    """Touches on a grid of ``tick_s`` (many share an instant) over ``span_s`` before
    CONVERTED, a few after; a third of the journeys never convert, the others up to a tenth of
    the span before CONVERTED. touch_ids are shuffled so ties need them."""
    rng = np.random.default_rng(seed)
    journey = rng.integers(0, journeys, touches)
    seconds = rng.integers(-span_s // 10, span_s, touches) // tick_s * tick_s
    ts = CONVERTED - pd.to_timedelta(seconds, "s")
    frame = pd.DataFrame(
        {
            "journey_id": journey,
            "touch_id": rng.permutation(touches) + 1,
            "ts": ts,
            "channel": pd.Categorical(rng.choice(CHANNELS, touches), categories=CHANNELS),
            "is_mqa": rng.random(touches) < 0.1,
            "playbook_id": rng.integers(1, 5, touches),
        }
    )
    converting = np.flatnonzero(rng.random(journeys) < 0.65)
    conversions = pd.DataFrame(
        {
            "journey_id": converting,
            "ts": CONVERTED - pd.to_timedelta(rng.integers(0, span_s // 10, len(converting)), "s"),
            "value": rng.uniform(0, 1000, len(converting)).round(2),
        }
    )
    return frame, conversions


def expected_order(touches, conversions, window_days):
    """(journey_id, touch_id) of the counted touches, by a plain pandas sort and merge."""
    merged = touches.merge(conversions, on="journey_id", suffixes=("", "_conv"))
    counted = merged["ts"] <= merged["ts_conv"]
    if window_days is not None:
        counted &= merged["ts"] >= merged["ts_conv"] - pd.Timedelta(days=window_days)
    ordered = merged[counted].sort_values(["journey_id", "ts", "touch_id"])
    return list(zip(ordered["journey_id"], ordered["touch_id"], strict=True))


def plain(frame):
    """Channel as plain strings, for comparing categorical and string input."""
    return frame.assign(channel=frame["channel"].astype(object))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("window_days", [None, 10])
def test_credit_models_returns_what_credit_returns_for_each_model(seed, window_days):
    touches, conversions = random_frames(seed)
    shuffled = touches.sample(frac=1, random_state=seed)

    together = credit_models(shuffled, conversions, window_days=window_days, half_life_days=3)

    assert list(together) == list(MODELS)
    for model in MODELS:
        alone = credit(shuffled, conversions, model, window_days=window_days, half_life_days=3)
        pd.testing.assert_frame_equal(together[model], alone, check_exact=True)


def test_credit_models_computes_only_the_models_asked_for():
    touches, conversions = random_frames(0)

    result = credit_models(touches, conversions, ["shapley", "linear"])

    assert list(result) == ["shapley", "linear"]
    with pytest.raises(ValueError, match="unknown attribution model"):
        credit_models(touches, conversions, ["linear", "last_non_direct"])
    with pytest.raises(TypeError, match="unknown parameters"):
        credit_models(touches, conversions, ["linear"], half_life=3)


def test_a_model_frame_can_change_without_touching_the_others_or_the_input():
    touches, conversions = random_frames(1)
    conversions["ts"] = touches["ts"].max()  # every touch counts, in input order: no copies
    touches = touches.sort_values(["journey_id", "ts", "touch_id"], ignore_index=True)
    result = credit_models(touches, conversions, ["first_touch", "linear"])
    before, linear = touches.copy(), result["linear"].copy()

    result["first_touch"].loc[:, "journey_id"] = -1
    result["first_touch"].loc[:, "touch_id"] = -1
    result["first_touch"].loc[:, "weight"] = 9.0

    pd.testing.assert_frame_equal(result["linear"], linear)
    pd.testing.assert_frame_equal(touches, before)


@pytest.mark.parametrize("seed", range(3))
def test_row_order_and_dtypes_do_not_change_any_model(seed):
    touches, conversions = random_frames(seed)
    ordered = touches.sort_values(["journey_id", "ts", "touch_id"], ignore_index=True)
    shuffled = touches.sample(frac=1, random_state=seed, ignore_index=True)
    names = {j: f"opp-{j:03d}" for j in range(60)}
    variants = {
        "shuffled categorical": (shuffled, conversions),
        "shuffled strings": (plain(shuffled), conversions.sample(frac=1, random_state=seed)),
        "categories in name order": (
            shuffled.assign(channel=shuffled["channel"].cat.reorder_categories(sorted(CHANNELS))),
            conversions,
        ),
        "string journey ids": (
            plain(shuffled).assign(journey_id=shuffled["journey_id"].map(names)),
            conversions.assign(journey_id=conversions["journey_id"].map(names)),
        ),
        "string touch ids": (
            shuffled.assign(touch_id=shuffled["touch_id"].map("t{:05d}".format)),
            conversions,
        ),
    }
    reference = credit_models(ordered, conversions, window_days=20)

    for name, (variant, variant_conversions) in variants.items():
        result = credit_models(variant, variant_conversions, window_days=20)
        for model in MODELS:
            got, want = plain(result[model]), plain(reference[model])
            if name == "string journey ids":
                want = want.assign(journey_id=want["journey_id"].map(names))
            if name == "string touch ids":
                want = want.assign(touch_id=want["touch_id"].map("t{:05d}".format))
            pd.testing.assert_frame_equal(got, want, check_exact=True, obj=f"{name} {model}")


def named_ids(touches, conversions, dtype, conversion_dtype=None):
    """Journey j as "opp-j" (unpadded: "opp-10" sorts before "opp-9"), the touches' ids of
    ``dtype`` ("str", object or a categorical with categories out of name order), the
    conversions' of ``conversion_dtype`` (the touches' by default), with a conversion of a
    journey without touches ("opp-none"); and the integer frames whose ids are the names'
    ranks, and the names by rank."""
    names = np.array([f"opp-{j}" for j in range(60)] + ["opp-none"], dtype=object)
    rank = pd.Series(names).rank(method="first").astype(int).to_numpy() - 1
    conversions = pd.concat(
        [conversions, pd.DataFrame({"journey_id": [60], "ts": [CONVERTED], "value": [5.0]})],
        ignore_index=True,
    ).sample(frac=1, random_state=1, ignore_index=True)
    shuffled_names = np.random.default_rng(0).permutation(names)
    categories = {
        "category": pd.CategoricalDtype(shuffled_names),
        "category, categories in another order": pd.CategoricalDtype(names[::-1]),
        "category of the touches' ids only": pd.CategoricalDtype(
            shuffled_names[shuffled_names != "opp-none"]
        ),
    }

    def ids(journeys, kind):
        values = pd.Series(names[journeys.to_numpy()], dtype=object)
        return values.astype(categories.get(kind, kind))

    named = (
        touches.assign(journey_id=ids(touches["journey_id"], dtype)),
        conversions.assign(journey_id=ids(conversions["journey_id"], conversion_dtype or dtype)),
    )
    ranked = (
        touches.assign(journey_id=rank[touches["journey_id"]]),
        conversions.assign(journey_id=rank[conversions["journey_id"]]),
    )
    return named, ranked, names[np.argsort(rank)]


@pytest.mark.parametrize(
    ("dtype", "conversion_dtype"),
    [
        ("str", None),
        (object, None),
        # Categorical ids in value order, not in their categories' order.
        ("category", None),
        ("category", "str"),
        ("category", "category, categories in another order"),
        ("category of the touches' ids only", "str"),
    ],
)
def test_journey_ids_of_any_dtype_give_the_journeys_in_id_order(dtype, conversion_dtype):
    touches, conversions = random_frames(7)
    shuffled = touches.sample(frac=1, random_state=7, ignore_index=True)
    (named, named_conversions), (ranked, ranked_conversions), by_rank = named_ids(
        shuffled, conversions, dtype, conversion_dtype
    )

    result = credit_models(named, named_conversions, window_days=20)
    reference = credit_models(ranked, ranked_conversions, window_days=20)

    for model in MODELS:
        got = result[model]
        if dtype is not object:  # object columns of strings come back as "str" (pandas infers)
            assert got["journey_id"].dtype == named["journey_id"].dtype
        want = reference[model].assign(journey_id=by_rank[reference[model]["journey_id"]])
        pd.testing.assert_frame_equal(
            got.astype({"journey_id": object}),
            want.astype({"journey_id": object}),
            check_exact=True,
            obj=model,
        )
    journeys = list(pd.unique(result["linear"]["journey_id"]))
    assert journeys == sorted(journeys)
    assert len(journeys) > 20


@pytest.mark.parametrize("dtype", ["str", "category", "category of the touches' ids only"])
def test_a_journey_id_twice_in_conversions_is_an_error_whatever_its_dtype(dtype):
    touches, conversions = random_frames(8)
    (named, named_conversions), _, _ = named_ids(touches, conversions, dtype, "str")
    named_conversions = pd.concat(
        [named_conversions, named_conversions[named_conversions["journey_id"] == "opp-none"]]
    )

    with pytest.raises(ValueError, match="one row per journey"):
        credit(named, named_conversions, "linear")


def test_mixed_journey_ids_come_in_pandas_order_numbers_first():
    touches, conversions = random_frames(9, journeys=4, touches=40)
    ids = np.array([3, "b", 1, "a"], dtype=object)
    touches["journey_id"] = ids[touches["journey_id"]]
    conversions = pd.DataFrame({"journey_id": ids, "ts": CONVERTED, "value": 10.0})

    result = credit(touches.sample(frac=1, random_state=9), conversions, "linear")

    assert list(pd.unique(result["journey_id"])) == [1, 3, "a", "b"]


@pytest.mark.parametrize(
    ("journey_offset", "tick_s", "span_s"),
    [
        # Small journey keys: one packed sort; ties at the same instant.
        (0, 3600, 40 * 86_400),
        # Keys too wide to pack: factorised first.
        (-(2**50), 3600, 40 * 86_400),
        # Wide keys and a touch a year back leave ts a coarse tick (~40 min); touches seconds
        # apart share it, so the finer argsort takes over.
        (2**38, 1, 600),
    ],
)
@pytest.mark.parametrize("window_days", [None, 30])
def test_journeys_are_in_journey_ts_touch_order(journey_offset, tick_s, span_s, window_days):
    touches, conversions = random_frames(5, journeys=40, touches=600, tick_s=tick_s, span_s=span_s)
    touches.loc[0, "ts"] -= pd.Timedelta(days=400)
    # Journey 0 keeps its id, the others move by the offset: the keys span it.
    touches["journey_id"] += np.where(touches["journey_id"] > 0, journey_offset, 0)
    conversions["journey_id"] += np.where(conversions["journey_id"] > 0, journey_offset, 0)
    shuffled = touches.sample(frac=1, random_state=3, ignore_index=True)

    result = credit(shuffled, conversions, "linear", window_days=window_days)

    got = list(zip(result["journey_id"], result["touch_id"], strict=True))
    assert got == expected_order(touches, conversions, window_days)
    assert len(got) > 100


def test_markov_paths_keep_every_touch_of_non_converting_journeys():
    touches, conversions = random_frames(2)

    shuffled = touches.sample(frac=1, random_state=2, ignore_index=True)

    js = prepare_journeys(shuffled, conversions, window_days=5)

    paths = js.paths
    path_journeys = shuffled["journey_id"].to_numpy()[paths.rows[paths.starts]]
    idle = ~np.isin(path_journeys, conversions["journey_id"])
    idle_ids = set(path_journeys[idle])
    assert idle_ids == set(touches["journey_id"]) - set(conversions["journey_id"])
    assert paths.sizes[idle].tolist() == [
        (touches["journey_id"] == j).sum() for j in path_journeys[idle]
    ]
    assert list(js.journeys.rows) == list(paths.rows[np.repeat(~idle, paths.sizes)])


# --- Properties ---------------------------------------------------------------------------------


@given(
    seed=st.integers(0, 2**32 - 1),
    journeys=st.integers(1, 30),
    touches=st.integers(0, 150),
    model=st.sampled_from(MODELS),
)
@settings(max_examples=60, deadline=None)
def test_shuffled_string_input_gives_what_sorted_categorical_input_gives(
    seed, journeys, touches, model
):
    frame, conversions = random_frames(seed, journeys=journeys, touches=touches, tick_s=86_400)
    ordered = frame.sort_values(["journey_id", "ts", "touch_id"], ignore_index=True)
    shuffled = plain(frame.sample(frac=1, random_state=seed))

    want = credit(ordered, conversions, model, window_days=7)
    got = credit(shuffled, conversions, model, window_days=7)

    pd.testing.assert_frame_equal(plain(got), plain(want), check_exact=True)


_STRINGS = ["email", "Email", "phone", "", "é", "a", "a\x00", "\U0001f600", "\ud800"]


@given(data=st.data(), stride=st.sampled_from([1, 2]))
@settings(max_examples=150, deadline=None)
def test_hashing_by_object_first_gives_pandas_sorted_factorize(data, stride):
    """Shared objects, equal strings in distinct objects, strings UTF-8 cannot hold, missing
    values and numbers among them, a strided view: pd.factorize(values, sort=True)'s codes and
    uniques."""
    alphabet = data.draw(st.lists(st.sampled_from(_STRINGS), min_size=1, unique=True))
    # Mostly shared, as strings repeated in a column mostly are (hashing by object applies).
    picks = data.draw(
        st.lists(
            st.tuples(st.sampled_from(alphabet), st.sampled_from([True, True, True, False])),
            max_size=60,
        )
    )
    others = data.draw(st.lists(st.sampled_from([None, float("nan"), 2, 1]), max_size=3))
    shared = {}
    values = np.empty(len(picks), dtype=object)
    for i, (value, share) in enumerate(picks):
        # A distinct str object of the same value when not shared.
        values[i] = shared.setdefault(value, value) if share else (value + ".")[:-1]
    values = np.concatenate([values, np.array(others, dtype=object)])[::stride]
    codes, uniques = _factorize_sorted(values)
    want_codes, want_uniques = pd.factorize(values, sort=True)
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == list(want_uniques)


def test_strings_each_an_object_of_their_own_are_hashed_by_value():
    values = np.array([f"opp-{i % 7}" for i in range(100)], dtype=object)  # 100 objects
    codes, uniques = _factorize_sorted(values[::-1])
    assert codes.tolist() == [(99 - row) % 7 for row in range(100)]
    assert list(uniques) == [f"opp-{i}" for i in range(7)]


@pytest.mark.parametrize(
    "alphabet", [["b", "a\x00", "a", "é", "\U0001f600", ""], ["b", "\ud800", "a"]]
)
def test_repeated_strings_come_sorted_by_code_point(alphabet):
    """The path a string column takes (one object per value, some copies): numpy's sort, and
    Python's for strings UTF-8 cannot hold."""
    rng = np.random.default_rng(7)
    values = np.array(alphabet, dtype=object)[rng.integers(0, len(alphabet), 500)]
    values[::7] = [(value + ".")[:-1] for value in values[::7]]  # equal values, other objects
    codes, uniques = _factorize_sorted(values)
    want_codes, want_uniques = pd.factorize(values, sort=True)
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == sorted(alphabet) == list(want_uniques)


@pytest.mark.parametrize("dtype", ["str", object])
@pytest.mark.parametrize("missing", [False, True])
def test_string_channels_come_out_as_the_input_has_them_at_each_touch(dtype, missing):
    touches, conversions = random_frames(5)
    touches = touches.sample(frac=1, random_state=5, ignore_index=True)
    touches["channel"] = touches["channel"].astype(dtype)
    if missing:  # models that need no channel still give the rows, the channel missing
        touches.loc[touches.index[:7], "channel"] = None
    models = ("first_touch", "linear") if missing else MODELS

    result = credit_models(touches, conversions, models, window_days=20)

    at = touches.set_index("touch_id")["channel"]
    for model in models:
        got = result[model]["channel"]
        want = at.reindex(result[model]["touch_id"]).reset_index(drop=True)
        if dtype == "str":
            assert got.dtype == touches["channel"].dtype, model
        assert got.isna().any() == missing
        # A missing channel as pandas has it in either column (NaN for an object's None).
        got, want = (s.astype(object).fillna("(none)") for s in (got, want))
        pd.testing.assert_series_equal(got, want, check_names=False, obj=model)


# Short ASCII strings sort as packed integers; NULs, long and non-ASCII ones take other paths.
_SORTABLE = st.text(alphabet=st.sampled_from(["\x00", "\x01", "a", "b", "Z", "~", "\x7f", "é"]))


@given(st.lists(st.one_of(_SORTABLE.filter(lambda t: len(t) <= 17), _SORTABLE), max_size=40))
@settings(max_examples=300, deadline=None)
def test_strings_come_in_python_order_whatever_their_length_or_characters(strings):
    values = np.array(strings, dtype=object)
    assert values[_string_order(values)].tolist() == sorted(strings)


def test_ids_padded_alike_still_come_shorter_first():
    values = np.array(["a\x00", "b", "a", "a\x00\x00"], dtype=object)
    assert values[_string_order(values)].tolist() == ["a", "a\x00", "a\x00\x00", "b"]


@pytest.mark.parametrize("spread", [16, 48, 1 << 20, 8])  # near, apart, far, not 16-aligned
def test_addresses_number_alike_as_factorize_partitions_them(spread):
    rng = np.random.default_rng(spread)
    objects = 4096 + spread * rng.permutation(300)
    addresses = objects[rng.integers(0, 300, 2_000)].astype(np.intp)

    codes, distinct = _by_address(addresses)

    want, uniques = pd.factorize(addresses)
    assert distinct == len(uniques)
    # Same address, same code; other address, other code.
    assert len(set(zip(codes.tolist(), want.tolist(), strict=True))) == len(uniques)
    assert codes.min() == 0
    assert codes.max() == distinct - 1
