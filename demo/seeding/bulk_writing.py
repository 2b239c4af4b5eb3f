"""Writing numpy columns as rows in bulk: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max

from accounts.models import (
    Account,
    Contact,
    Lead,
    Opportunity,
    OpportunityStageChange,
)
from playbooks.models import (
    Activity,
    Enrolment,
    EnrolmentStageChange,
)

# --- writing -----------------------------------------------------------------------------------


@contextmanager
def _indexes_rebuilt(model: type[models.Model]) -> Iterator[None]:
    """Drop the table's secondary indexes (and on PostgreSQL its unique and foreign-key
    constraints), let the caller load it, then recreate them from their saved definitions.

    Building an index once over a million rows is several times faster than updating it row by
    row, and adding a foreign key validates it with one join instead of a trigger per row (PostgreSQL
    manual, "Populating a Database"). DDL is transactional on both backends, so a failure
    rolls the drop back with everything else.
    """
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Run the checks deferred so far: a table with pending trigger events cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid) ORDER BY 1",
                [table],
            )
            indexes = cursor.fetchall()
            for name, _ in constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL ORDER BY name",
                [table],
            )
            constraints, indexes = [], cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
        else:
            constraints, indexes = [], []
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def _bulk_load_settings() -> Iterator[None]:
    """On SQLite, a page cache big enough for the activity indexes (else they thrash the disk)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _reset_sequences() -> None:
    written = [Account, Contact, Enrolment, EnrolmentStageChange, Opportunity]
    written += [OpportunityStageChange, Lead, Activity]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), written):
            cursor.execute(sql)


def _insert(*, model: type[models.Model], columns: dict[str, Any]) -> None:
    """Write columns of equal length (scalars are repeated) as rows of `model`, in bulk.

    Values by field type: integers and foreign keys as int arrays where -1 is NULL, datetimes as
    epoch seconds, dates as epoch days, decimals as floats, JSON as Python objects.
    """
    size = next(len(v) for v in columns.values() if isinstance(v, list | np.ndarray))
    if size == 0:
        return
    fields = [model._meta.get_field(name) for name in columns]
    prepared = {
        f.column: _db_values(db_field=f, values=values, size=size)
        for f, values in zip(fields, columns.values(), strict=True)
    }
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in prepared)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {table} ({names}) FROM STDIN"
            _copy(raw_cursor=cursor.cursor, copy_sql=copy_sql, prepared=prepared, size=size)
        else:
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(prepared))})"
            lists = [_python_list(v) for v in prepared.values()]
            # Lists, not a generator: Django's executemany peeks with itertools.tee, which makes a
            # lazily zipped million rows about twice as slow.
            for start in range(0, size, INSERT_CHUNK):
                rows = list(zip(*(c[start : start + INSERT_CHUNK] for c in lists), strict=True))
                cursor.cursor.executemany(sql, rows)


COPY_CHUNK = INSERT_CHUNK = 200_000
SQLITE_CACHE_KIB = 512 * 1024


def _copy(*, raw_cursor: Any, copy_sql: str, prepared: dict[str, Any], size: int) -> None:
    frame = pd.DataFrame(prepared, copy=False)
    sql = f"{copy_sql} WITH (FORMAT csv, NULL '\\N')"
    for start in range(0, size, COPY_CHUNK):
        buffer = io.StringIO()
        frame.iloc[start : start + COPY_CHUNK].to_csv(
            buffer, header=False, index=False, na_rep="\\N"
        )
        buffer.seek(0)
        raw_cursor.copy_expert(sql, buffer)


def _db_values(*, db_field: models.Field, values: Any, size: int) -> Any:
    if isinstance(values, str):
        return [str(values)] * size  # str() turns a choices member into its plain value
    if isinstance(values, bool | float):
        return np.full(size, values)
    if isinstance(values, int):
        values = np.full(size, values, dtype=np.int64)
    if isinstance(db_field, models.DateTimeField):
        return _datetime_text(np.asarray(values, dtype=np.int64))
    if isinstance(db_field, models.DateField):
        days = np.asarray(values, dtype=np.int64)
        return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
    if isinstance(db_field, models.JSONField):
        return [json.dumps(v) for v in values]
    if isinstance(db_field, models.DecimalField):
        return np.round(np.asarray(values, dtype=float), db_field.decimal_places)
    if isinstance(values, np.ndarray) and values.dtype.kind == "i" and db_field.null:
        values = values.astype(np.int64)
        return pd.arrays.IntegerArray(values, values < 0)
    return values


def _datetime_text(seconds: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' in UTC (how Django stores datetimes on SQLite); None for -1."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    text.view(np.uint32).reshape(len(text), -1)[:, 10] = ord(" ")
    if connection.vendor == "postgresql":
        text = np.char.add(text, "+00")
    text = text.astype(object)
    text[seconds < 0] = None
    return text


def _python_list(values: Any) -> list:
    if isinstance(values, pd.arrays.IntegerArray):
        return values.to_numpy(dtype=object, na_value=None).tolist()
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values)
