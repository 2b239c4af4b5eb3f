"""A slot's rollup rows packed into one value: they come back as they went in, and many packs
sum per key as pandas sums the same rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abm.lib.table_copy import insert_rows
from metrics.engine.compute import packs
from metrics.engine.compute.packs import DIMS, pack_slots, sum_packs, unpack
from metrics.models import SlotRollupPack

TEXT_VALUES = ["", "email", "événement", "linkedin ads", "x" * 24]
# At most one row per key within a slot, as a slot's rollup has them.
rows = st.fixed_dictionaries(
    {
        "slot": st.integers(0, 3),
        "metric": st.sampled_from(["spend", "credit", "budget_weight"]),
        "period": st.one_of(st.none(), st.dates(dt.date(1960, 1, 1), dt.date(2100, 12, 31))),
        "model": st.sampled_from(["", "linear", "w_shaped"]),
        "kind": st.sampled_from(["", "won", "pipeline"]),
        "channel": st.sampled_from(TEXT_VALUES),
        "playbook_id": st.one_of(st.none(), st.integers(1, 2**40)),
        "tier": st.one_of(st.none(), st.integers(0, 3)),
        "owner_id": st.one_of(st.none(), st.integers(1, 2**62)),
        "segment": st.sampled_from(["", "target", "non_target"]),
        "value": st.floats(-1e9, 1e9, allow_nan=False),
        "count": st.floats(0, 1e6, allow_nan=False),
    }
)


def rollup_frame(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=["slot", *DIMS, "value", "count"])
    frame = frame.drop_duplicates(["slot", *DIMS])
    for name in ("playbook_id", "tier", "owner_id"):
        frame[name] = pd.array(frame[name].tolist(), dtype="Int64")
    frame["period"] = frame["period"].astype(object)
    return frame.reset_index(drop=True)


def as_records(frame: pd.DataFrame, *extra: str) -> list[tuple]:
    """Rows as tuples with None for every missing value, in frame order."""
    out = []
    for row in frame[[*DIMS, "value", "count", *extra]].astype(object).itertuples(index=False):
        out.append(tuple(None if v is None or v is pd.NA or v != v else v for v in row))
    return out


def unpacked(data: bytes) -> pd.DataFrame:
    columns, texts = unpack(data)
    frame = {name: [texts[name][c] for c in columns[name]] for name in packs.TEXTS}
    frame["period"] = [
        None if d == packs.NULL else dt.date(1970, 1, 1) + dt.timedelta(days=int(d))
        for d in columns["period"]
    ]
    for name in packs.INTEGERS:
        frame[name] = [None if v == packs.NULL else int(v) for v in columns[name]]
    frame.update({name: columns[name].tolist() for name in packs.MEASURES})
    return pd.DataFrame(frame)


@settings(max_examples=60, deadline=None)
@given(st.lists(rows, min_size=1, max_size=60))
def test_each_slot_packs_its_own_rows_and_they_come_back_as_they_went_in(records):
    frame = rollup_frame(records)

    packed = pack_slots(frame)

    assert packed["slot"].tolist() == sorted(frame["slot"].unique().tolist())
    for slot, count, data in packed.itertuples(index=False):
        mine = frame.loc[frame["slot"] == slot]
        assert count == len(mine)
        assert sorted(as_records(unpacked(data)), key=repr) == sorted(as_records(mine), key=repr)


@settings(max_examples=60, deadline=None)
@given(st.lists(rows, min_size=0, max_size=80), st.integers(1, 50))
def test_packs_sum_per_key_as_pandas_sums_their_rows(records, every):
    frame = rollup_frame(records) if records else rollup_frame([])
    expected = (
        frame.groupby(DIMS, dropna=False, sort=False)
        .agg(value=("value", "sum"), count=("count", "sum"), rows=("value", "size"))
        .reset_index()
    )
    data = pack_slots(frame)["data"].tolist() if len(frame) else []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(packs, "SUM_EVERY", every)  # partial sums along the way, then their sum
        summed = sum_packs(data)

    assert len(summed) == len(expected)
    got = {r[:9]: r[9:] for r in as_records(summed, "rows")}
    for key, (value, count, n) in {r[:9]: r[9:] for r in as_records(expected, "rows")}.items():
        assert got[key][2] == n
        assert got[key][0] == pytest.approx(value, rel=1e-12, abs=1e-6)
        assert got[key][1] == pytest.approx(count, rel=1e-12, abs=1e-6)


def test_a_slot_without_rollup_rows_has_no_pack():
    assert pack_slots(rollup_frame([])).empty


def test_no_packs_sum_to_no_rows():
    summed = sum_packs([])
    assert summed.empty
    assert list(summed.columns) == [*DIMS, "value", "count", "rows"]


@pytest.mark.django_db
def test_a_pack_is_stored_and_read_back_byte_for_byte():
    """Binary COPY on PostgreSQL, executemany elsewhere: a NUL at the end of a value too."""
    values = [b"\x00", b"ab\x00\x00", b"", bytes(range(256)) * 3]
    frame = pd.DataFrame({"slot": range(4), "rows": 0, "data": values})

    insert_rows(SlotRollupPack, frame)

    stored = dict(SlotRollupPack.objects.values_list("slot", "data"))
    assert {slot: bytes(data) for slot, data in stored.items()} == dict(enumerate(values))
