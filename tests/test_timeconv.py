"""abm/lib/timeconv.py: naive means UTC; NaT is iNaT in int64 and NaN in floats."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from abm.lib.timeconv import instant_ns, series_ns, series_ns_float, to_utc

NOON_NS = pd.Timestamp("2026-03-02 12:00", tz="UTC").value


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02 12:00",
        dt.datetime(2026, 3, 2, 12),  # noqa: DTZ001 - naive is read as UTC
        dt.datetime(2026, 3, 2, 13, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        pd.Timestamp("2026-03-02 07:00", tz="America/New_York"),
        pd.Timestamp("2026-03-02 12:00", tz="UTC").as_unit("s"),
    ],
)
def test_it_reads_naive_as_utc_and_converts_aware(value):
    assert to_utc(value) == pd.Timestamp("2026-03-02 12:00", tz="UTC")
    assert str(to_utc(value).tz) == "UTC"
    assert instant_ns(value) == NOON_NS


def test_a_date_is_its_midnight_utc():
    assert to_utc(dt.date(2026, 3, 2)) == pd.Timestamp("2026-03-02", tz="UTC")
    assert instant_ns(dt.date(2026, 3, 2)) == pd.Timestamp("2026-03-02", tz="UTC").value


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(pd.to_datetime(["2026-03-02 12:00", None], utc=True)),
        pd.Series(pd.to_datetime(["2026-03-02 12:00", None])),  # naive
        pd.Series(pd.to_datetime(["2026-03-02 12:00", None], utc=True)).dt.as_unit("us"),
        pd.Series(pd.to_datetime(["2026-03-02 07:00", None]).tz_localize("America/New_York")),
        pd.Series([pd.Timestamp("2026-03-02 12:00", tz="UTC"), None], dtype=object),
    ],
)
def test_series_ns_keeps_nat_as_inat_and_floats_as_nan(values):
    ints = series_ns(values)
    assert ints.dtype == np.int64
    assert ints.tolist() == [NOON_NS, pd.NaT.value]
    floats = series_ns_float(values)
    assert floats[0] == float(NOON_NS)
    assert np.isnan(floats[1])


def test_series_ns_does_not_copy_an_aware_ns_column():
    values = pd.Series(pd.to_datetime(["2026-03-02 12:00"], utc=True)).dt.as_unit("ns")
    assert np.shares_memory(series_ns(values), values.array.asi8)
