"""Write a DataFrame into a model's table: binary COPY on PostgreSQL, a plain executemany elsewhere.

Any app's bulk writer goes through here (the metrics engine's result tables, the activity import's
staging table). The frame's columns are the model's column names; values are encoded per model
field, so a column of a temporary table can borrow the field of the column it mirrors
(``copy_frame``).
"""

from __future__ import annotations

import io
import json
import math
import struct
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Model, QuerySet

_BATCH = 5_000
# Rows of more layouts than this go in by ``_scattered``, this many bytes at a time.
_MANY_LAYOUTS = 256
_SCATTER_BYTES = 4 << 20


def replace_rows(queryset: QuerySet, frame: pd.DataFrame) -> int:
    """Delete what `queryset` selects and insert `frame` (columns = the model's column names)."""
    queryset._raw_delete(queryset.db)  # result tables: no signals or cascades, plain DELETE
    return insert_rows(queryset.model, frame)


def insert_rows(model: type[Model], frame: pd.DataFrame) -> int:
    """Append `frame` (columns = the model's column names) to the model's table."""
    if frame.empty:
        return 0
    if connection.vendor != "postgresql":
        return _execute_many(model, frame)
    fields = {f.column: f for f in model._meta.concrete_fields}
    return copy_frame(model._meta.db_table, frame, fields)


def merge_rows(
    rows: type[Model] | QuerySet, frame: pd.DataFrame, *, digest: str | None = None
) -> int:
    """Make ``rows`` (a model's whole table, or with a digest the rows a queryset selects) hold
    exactly ``frame``'s rows (no two alike), writing only
    the rows that differ: a table most of whose rows each run recomputes unchanged keeps them,
    with no dead rows to vacuum. On PostgreSQL the frame goes into a temporary table and two
    hash anti-joins on every column (NULL matching NULL) delete what is gone and insert what is
    new; elsewhere it is ``replace_rows``. Returns the rows deleted and inserted.

    ``digest``: a 64-bit integer column of the model this fills with a hash of the rest of each
    row (``row_digests``). Rows are then matched on it alone and only the changed rows are
    encoded and sent: at 48 000 rollup rows of which a few thousand change, a third of the
    time."""
    scoped = isinstance(rows, QuerySet)
    if scoped and digest is None:
        raise ValueError("a merge into some of a table's rows matches them on their digest")
    scope = rows if scoped else rows.objects.all()
    model = scope.model
    if digest is not None:
        frame = frame.assign(**{digest: row_digests(frame)})
    if connection.vendor != "postgresql":
        return replace_rows(scope, frame)
    if digest is not None:
        return _merge_by_digest(scope, frame, digest)
    fields = {f.column: f for f in model._meta.concrete_fields}
    table, staged = connection.ops.quote_name(model._meta.db_table), "merge_staged_rows"
    names = [connection.ops.quote_name(name) for name in frame.columns]
    columns = ", ".join(names)
    # Equality on the columns without NULLs is what PostgreSQL hashes on; the others are checked.
    same = " AND ".join(
        f"a.{q} IS NOT DISTINCT FROM b.{q}" if fields[name].null else f"a.{q} = b.{q}"
        for name, q in zip(frame.columns, names, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staged} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        copy_frame(staged, frame, fields)
        cursor.execute(
            f"DELETE FROM {table} a WHERE NOT EXISTS (SELECT 1 FROM {staged} b WHERE {same})"
        )
        deleted = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged} a "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} b WHERE {same})"
        )
        inserted = cursor.rowcount
        cursor.execute(f"DROP TABLE {staged}")
    return deleted + inserted


def row_digests(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's values (pandas' keyed SipHash: the same in every process),
    as signed integers for a bigint column. Two different rows share one with a chance of
    about 1 in 10^10 for 50 000 rows against 50 000."""
    hashed = pd.DataFrame(
        {name: _column_hashes(frame[name]) for name in frame.columns}, index=frame.index
    )
    return pd.util.hash_pandas_object(hashed, index=False).to_numpy().view(np.int64)


def _column_hashes(values: pd.Series) -> np.ndarray:
    try:  # hashes each distinct value once
        return pd.util.hash_pandas_object(values, index=False).to_numpy()
    except TypeError:  # JSON values (dicts): as sorted JSON text
        texts = ["{}" if v == {} else json.dumps(v, sort_keys=True, default=str) for v in values]
        return pd.util.hash_pandas_object(pd.Series(texts, dtype=object), index=False).to_numpy()


def _merge_by_digest(scope: QuerySet, frame: pd.DataFrame, digest: str) -> int:
    model = scope.model
    ids, digests = copy_out_bigints(scope.values_list("pk", digest))
    new, stored = pd.Index(frame[digest].to_numpy(dtype=np.int64)), pd.Index(digests)
    # A stored row the frame has again stays; the rest go: gone, or stored twice (rows written
    # before digests, all 0), which come back from the frame, so no two rows are alike.
    staying = stored.isin(new) & ~stored.duplicated(keep=False)  # hashed: 780 000 in 25 ms
    fresh = frame.loc[~new.isin(digests[staying])]
    gone = np.sort(ids[~staying])  # in key order, as every deleter locks them
    fields = {f.column: f for f in model._meta.concrete_fields}
    if len(gone) > max(_BATCH, len(ids) // 2):  # mostly changed (a first run): all anew
        scope._raw_delete(scope.db)
        return len(ids) + copy_frame(model._meta.db_table, frame, fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(gone), _BATCH):
            cursor.execute(
                f"DELETE FROM {table} WHERE id = ANY(%s)", [gone[start : start + _BATCH].tolist()]
            )
    return len(gone) + copy_frame(model._meta.db_table, fresh, fields)


# One row of a binary COPY of two bigint columns: field count, then each field's length and value.
_TWO_BIGINTS = np.dtype([("n", ">i2"), ("l0", ">i4"), ("v0", ">i8"), ("l1", ">i4"), ("v1", ">i8")])


def copy_out_bigints(queryset: QuerySet) -> tuple[np.ndarray, np.ndarray]:
    """The two non-NULL bigint columns ``queryset`` selects, as arrays: a binary COPY read by
    numpy (fetching 775 000 pairs as Python tuples took 0.6 s of a slot write's 1.4 s)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. ``pk__in=[]``: no query to send
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        query = cursor.mogrify(sql, params).decode()
        out = io.BytesIO()
        cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", out)
    body = out.getbuffer()[len(_HEADER) : -2]  # no header extension is written; -1 ends it
    rows = np.frombuffer(body, dtype=_TWO_BIGINTS)
    return rows["v0"].astype(np.int64), rows["v1"].astype(np.int64)


def _execute_many(model: type[Model], frame: pd.DataFrame) -> int:
    """A plain executemany: model instances and bulk_create cost seconds per 50k result rows."""
    fields = {f.column: f for f in model._meta.concrete_fields}
    frame = frame.astype(object).where(frame.notna(), None)
    columns = []
    for name in frame.columns:
        prepare = fields[name].get_db_prep_save
        columns.append(
            [None if v is None else prepare(v, connection=connection) for v in frame[name]]
        )
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    marks = ", ".join(["%s"] * len(frame.columns))
    rows = list(zip(*columns, strict=True))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[start : start + _BATCH]
            )
    return len(rows)


def copy_frame(table: str, frame: pd.DataFrame, fields: dict) -> int:
    """COPY `frame` into `table` (any table, e.g. a temporary one); `fields` maps each column to
    the model field whose type it has. PostgreSQL only."""
    if frame.empty:
        return 0
    payload = copy_binary([encode_column(frame[name], fields[name]) for name in frame.columns])
    names = ", ".join(connection.ops.quote_name(name) for name in frame.columns)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN WITH (FORMAT binary)",
            payload,
        )
    return len(frame)


# --- PostgreSQL binary COPY -------------------------------------------------------------------
# Text COPY of 1.5M credit rows spends more time formatting and parsing numbers and timestamps
# than storing them; the binary format is fixed-width big-endian fields numpy writes directly.

_PG_EPOCH = pd.Timestamp("2000-01-01", tz="UTC")
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)


@dataclass
class _Column:
    """One encoded column: per-row field length (-1 for NULL) and per-row value."""

    lengths: np.ndarray  # int32
    values: np.ndarray  # fixed dtype per row; for text an "S<max>" array


def copy_binary(columns: list[_Column]) -> io.BytesIO:
    """A COPY ... (FORMAT binary) stream of the rows. Rows are grouped by their layout (the length
    of each field), so each group is one numpy structured array written in one go."""
    n = len(columns[0].lengths)
    lengths = np.stack([c.lengths for c in columns], axis=1)
    varying = [i for i in range(len(columns)) if (lengths[:, i] != lengths[0, i]).any()]
    key = np.zeros(n, dtype=np.int64)
    for i in varying:  # lengths are small: pack them into one integer per row
        key = key * (int(lengths[:, i].max()) + 2) + lengths[:, i] + 1
    layout, layouts = pd.factorize(key)
    if len(layouts) > _MANY_LAYOUTS:
        return io.BytesIO(b"".join([_HEADER, *_scattered(columns, lengths), b"\xff\xff"]))
    chunks = [_HEADER]
    order = np.argsort(layout, kind="stable")
    bounds = np.searchsorted(layout[order], np.arange(len(layouts) + 1))
    for g in range(len(layouts)):
        rows = order[bounds[g] : bounds[g + 1]]
        first = lengths[rows[0]]
        spec = [("n", ">i2")]
        for i, column in enumerate(columns):
            spec.append((f"l{i}", ">i4"))
            if first[i] > 0:  # NULL (-1) and empty text (0) carry no bytes
                spec.append((f"v{i}", _field_dtype(column.values.dtype, int(first[i]))))
        record = np.empty(len(rows), dtype=spec)
        record["n"] = len(columns)
        for i, column in enumerate(columns):
            record[f"l{i}"] = first[i]
            if first[i] > 0:
                record[f"v{i}"] = column.values[rows]
        chunks.append(record.tobytes())
    chunks.append(b"\xff\xff")
    return io.BytesIO(b"".join(chunks))


def _scattered(columns: list[_Column], lengths: np.ndarray):
    """The rows in frame order, each field's bytes put in place in a buffer of a few MB at a
    time: rows of JSON come in as many layouts as rows, and a structured array per layout
    took longer than the rest of their write."""
    sizes = np.maximum(lengths, 0).astype(np.int64)
    row_sizes = 2 + 4 * len(columns) + sizes.sum(axis=1)
    ends = np.cumsum(row_sizes)
    start = 0
    while start < len(row_sizes):
        base = ends[start] - row_sizes[start]
        stop = max(start + 1, int(np.searchsorted(ends, base + _SCATTER_BYTES, side="right")))
        rows = slice(start, stop)
        out = np.zeros(int(ends[stop - 1] - base), dtype=np.uint8)
        at = ends[rows] - row_sizes[rows] - base
        _put(out, at, np.full(stop - start, len(columns), dtype=">i2"))
        at = at + 2
        for i, column in enumerate(columns):
            _put(out, at, lengths[rows, i].astype(">i4"))
            at = at + 4
            _put_leading(out, at, column.values[rows], sizes[rows, i])
            at = at + sizes[rows, i]
        yield out.tobytes()
        start = stop


def _put(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Each row's value, all of one width, at its offset."""
    width = values.dtype.itemsize
    out[at[:, None] + np.arange(width)] = values.view(np.uint8).reshape(-1, width)


def _put_leading(out: np.ndarray, at: np.ndarray, values: np.ndarray, sizes: np.ndarray) -> None:
    """Each row's first ``sizes`` bytes of its value at its offset (NULL: none)."""
    width = values.dtype.itemsize
    if width == 0 or not sizes.any():
        return
    raw = np.ascontiguousarray(values).view(np.uint8).reshape(-1, width)
    rows = np.repeat(np.arange(len(sizes)), sizes)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    out[at[rows] + within] = raw[rows, within]


def _field_dtype(dtype: np.dtype, length: int):
    if dtype.kind == "S":
        return f"S{length}"
    return dtype


_EMPTY_JSONB = b"\x01{}"


def _jsonb(value) -> bytes:
    """Binary jsonb (version 1, then the text); most rollup rows carry an empty dict."""
    if isinstance(value, dict) and not value:
        return _EMPTY_JSONB
    return b"\x01" + json.dumps(value).encode()


def encode_column(series: pd.Series, model_field) -> _Column:
    kind = model_field.get_internal_type()
    null = series.isna().to_numpy()
    if kind == "JSONField":
        text = [None if v is None else _jsonb(v) for v in series]
        return _text(np.array(text, dtype=object), null=np.array([t is None for t in text]))
    if kind in ("CharField", "TextField"):
        return _text(series, null=null)
    if kind == "BinaryField":
        return _binary(series, null=null)
    if kind == "BooleanField":
        return _fixed(series.fillna(False).to_numpy(dtype=bool), "?", null)
    if kind == "FloatField":
        return _fixed(series.to_numpy(dtype=float, na_value=np.nan), ">f8", null)
    if kind == "DecimalField":
        return _numeric(series.to_numpy(dtype=float, na_value=np.nan), model_field, null)
    if kind == "DateTimeField":
        stamps = pd.DatetimeIndex(pd.to_datetime(series, utc=True))
        micros = (stamps - _PG_EPOCH) // pd.Timedelta(microseconds=1)
        return _fixed(np.asarray(micros.fillna(0), dtype=np.int64), ">i8", null)
    if kind == "DateField":
        days = pd.to_datetime(series).to_numpy().astype("datetime64[D]").astype(np.int64)
        return _fixed(days - _PG_EPOCH_DAYS, ">i4", null)
    # Integers and foreign keys: the width of the column PostgreSQL has.
    db_type = model_field.db_type(connection).split()[0]
    width = {"bigint": ">i8", "integer": ">i4", "smallint": ">i2"}[db_type]
    if pd.api.types.is_float_dtype(series):  # nullable ids read as floats: exact below 2**53
        values = np.nan_to_num(series.to_numpy(dtype=float)).astype(np.int64)
    else:
        values = pd.array(series, dtype="Int64").to_numpy(dtype=np.int64, na_value=0)
    return _fixed(values, width, null)


def _fixed(values: np.ndarray, dtype: str, null: np.ndarray) -> _Column:
    dtype = np.dtype(dtype)
    lengths = np.where(null, -1, dtype.itemsize).astype(np.int32)
    return _Column(lengths, values.astype(dtype))


def _text(series, *, null: np.ndarray) -> _Column:
    codes, uniques = pd.factorize(pd.Series(series, dtype=object), use_na_sentinel=True)
    encoded = [u if isinstance(u, bytes) else str(u).encode() for u in uniques]
    table = np.array(encoded + [b""], dtype=f"S{max([len(e) for e in encoded] + [1])}")
    sizes = np.array([len(e) for e in encoded] + [-1], dtype=np.int32)
    lengths = sizes[codes]
    lengths[null] = -1
    return _Column(lengths, table[codes])


def _binary(series, *, null: np.ndarray) -> _Column:
    """Bytes as they are: each row's length says where its value ends (a NUL at the end of a
    value is kept, where numpy's fixed-width bytes would pad and strip it)."""
    values = [b"" if missing else bytes(v) for v, missing in zip(series, null, strict=True)]
    lengths = np.array([len(v) for v in values], dtype=np.int32)
    lengths[null] = -1
    return _Column(lengths, np.array(values, dtype=f"S{max([len(v) for v in values] + [1])}"))


def _numeric(values: np.ndarray, model_field, null: np.ndarray) -> _Column:
    """NUMERIC as base-10000 digit groups: a fixed count per row (PostgreSQL strips the leading
    and trailing zero groups), the scale a whole group so rounding stays decimal."""
    scale = model_field.decimal_places
    fraction_groups = math.ceil(scale / 4)
    integer_groups = math.ceil((model_field.max_digits - scale) / 4)
    groups = integer_groups + fraction_groups
    if model_field.max_digits + 4 * fraction_groups - scale > 18:
        raise ValueError(f"{model_field} is too wide for int64 digit groups")
    # Whole and fractional parts apart: x * 10**scale in floats loses the last digit of large x.
    magnitude = np.abs(np.nan_to_num(values))
    whole = np.floor(magnitude)
    part = np.rint((magnitude - whole) * 10**scale).astype(np.int64)
    scaled = whole.astype(np.int64) * 10**scale + part
    scaled *= 10 ** (4 * fraction_groups - scale)
    record = np.zeros((len(values), 4 + groups), dtype=">i2")
    record[:, 0] = groups
    record[:, 1] = integer_groups - 1  # weight of the first group
    record[:, 2] = np.where(values < 0, 0x4000, 0)
    record[:, 3] = scale
    for g in range(groups):
        record[:, 4 + g] = (scaled // 10_000 ** (groups - 1 - g)) % 10_000
    lengths = np.where(null, -1, 2 * (4 + groups)).astype(np.int32)
    return _Column(lengths, record.view(np.dtype((np.void, 2 * (4 + groups)))).ravel())
