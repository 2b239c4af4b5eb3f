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
    columns = list(frame.columns)
    frame = frame.astype(object).where(frame.notna(), None)
    fields = {f.column: f.attname for f in model._meta.concrete_fields}
    rows = (
        model(**{fields[c]: v for c, v in zip(columns, values, strict=True)})
        for values in frame.itertuples(index=False, name=None)
    )
    model.objects.bulk_create(rows, batch_size=_BATCH)
    return len(frame)


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
