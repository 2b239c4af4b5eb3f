"""Instants as pandas/numpy see them: aware UTC timestamps and epoch nanoseconds. Pure, no Django.

A naive value is taken to be UTC already (the database and the loaders store UTC), never local time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def to_utc(value: dt.date | dt.datetime | pd.Timestamp | str) -> pd.Timestamp:
    """``value`` as an aware UTC Timestamp; a date is its midnight UTC."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def instant_ns(value: dt.date | dt.datetime | pd.Timestamp | str) -> int:
    """Epoch nanoseconds of one instant (see ``to_utc``)."""
    return to_utc(value).as_unit("ns").value


def series_ns(values: pd.Series) -> np.ndarray:
    """Epoch nanoseconds (int64) of a datetime column; NaT becomes ``iNaT`` (the smallest int64).

    A column that is already tz-aware and in ns is read without a copy, so callers must not write
    into the result.
    """
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = pd.to_datetime(values, utc=True)
    array = values.array
    return array.asi8 if array.unit == "ns" else array.as_unit("ns").asi8


def series_ns_float(values: pd.Series) -> np.ndarray:
    """Epoch nanoseconds as floats, NaN for NaT, so differences of missing instants stay NaN."""
    values = pd.to_datetime(values, utc=True)
    ns = values.array.as_unit("ns").asi8.astype(float)
    ns[values.isna().to_numpy()] = np.nan
    return ns
