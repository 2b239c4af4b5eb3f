"""Store metric results in bulk: recompute and overwrite, so a re-run changes nothing.

Callers wrap these in one transaction, so readers never see half a run.
"""

import io
import json

import pandas as pd
from django.db import connection
from django.db.models import JSONField, Model, QuerySet

_BATCH = 5_000
_INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
}


def replace_rows(queryset: QuerySet, frame: pd.DataFrame) -> int:
    """Delete what `queryset` selects and insert `frame` (columns = the model's column names)."""
    model = queryset.model
    queryset._raw_delete(queryset.db)  # no signals or cascades on result tables: plain DELETE
    return insert_rows(model, frame)


def insert_rows(model: type[Model], frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    if connection.vendor == "postgresql":
        return _copy_in(model, frame)
    return _execute_many(model, frame)


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


def _copy_in(model: type[Model], frame: pd.DataFrame) -> int:
    fields = {f.column: f for f in model._meta.concrete_fields}
    converted = {}
    for column in frame.columns:
        field = fields[column]
        if isinstance(field, JSONField):
            converted[column] = frame[column].map(json.dumps)
        elif field.is_relation or field.get_internal_type() in _INTEGER_TYPES:
            # Nullable integers arrive as floats ("3.0"), which COPY rejects for bigint.
            converted[column] = frame[column].astype("Int64")
    frame = frame.assign(**converted)
    buffer = io.StringIO()
    frame.to_csv(
        buffer, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S.%f%z"
    )
    buffer.seek(0)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
        )
    return len(frame)
