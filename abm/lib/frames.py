"""Bring rows from the database into DataFrames fast, for the pure computation modules.

PostgreSQL streams the query with COPY ... TO STDOUT (one round trip, parsed by pandas in C);
other databases read it with a chunked values_list.
"""

import io

import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

_CHUNK = 50_000


def frame_from_queryset(
    queryset: QuerySet,
    columns: dict[str, str],
    *,
    datetimes: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    texts: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
) -> pd.DataFrame:
    """`columns` maps output column -> ORM lookup; datetimes come back tz-aware UTC.

    ``categories``: text columns of few distinct values, as categoricals (sorted categories,
    NULL and "" missing): the parser builds them from its tokens faster than it makes a string
    per row, and grouping, matching and hashing them later reads small integer codes."""
    names, lookups = list(columns), list(columns.values())
    rows = queryset.values_list(*lookups)
    if connection.vendor == "postgresql":
        frame = _copy_out(rows, names, categories)
    else:
        frame = pd.DataFrame.from_records(rows.iterator(chunk_size=_CHUNK), columns=names)
        for name in categories:
            values = frame[name].astype(object)
            frame[name] = pd.Categorical(values.where(values != ""))
    for name in datetimes:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    for name in numbers:
        frame[name] = pd.to_numeric(frame[name]).astype("float64")
    for name in texts:
        frame[name] = frame[name].astype(object).fillna("").astype(str)
    return frame


def _copy_out(rows: QuerySet, names: list[str], categories: tuple[str, ...] = ()) -> pd.DataFrame:
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # .none(), or an empty IN list: no query to run
        return pd.DataFrame(
            {name: pd.Series(dtype="category" if name in categories else object) for name in names}
        )
    buffer = io.BytesIO()  # bytes as they come: pandas decodes them faster than psycopg2
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.copy_expert(f"COPY ({raw.mogrify(sql, params).decode()}) TO STDOUT WITH CSV", buffer)
    buffer.seek(0)
    # CSV reads both NULL and "" as NaN; loaders fill their text columns back to "".
    dtype = dict.fromkeys(categories, "category")
    return pd.read_csv(buffer, names=names, header=None, dtype=dtype or None)
