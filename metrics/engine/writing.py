"""Store the engine's frames in their tables: recompute and overwrite, so a re-run changes nothing.

``write_slot`` replaces one slot's rows, ``write_finish`` Markov's credits and the rollups; the
runner wraps each in one transaction, so a slot is stored whole or not at all. On PostgreSQL rows
go in with binary COPY (no text formatting or parsing of 1.5M credit rows); elsewhere (SQLite,
the test suite) with a plain executemany.
"""

from __future__ import annotations

import io
import json
import math
import struct
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Model, QuerySet
from psycopg2.extras import execute_values

from accounts.models import Account
from metrics.models import (
    AttributionCredit,
    EngagementHistory,
    EngagementScore,
    EngineSlot,
    JourneyStageChange,
    MetricRollup,
    SlotMarkovCount,
    SlotRollup,
)

_BATCH = 5_000


def replace_rows(queryset: QuerySet, frame: pd.DataFrame) -> int:
    """Delete what `queryset` selects and insert `frame` (columns = the model's column names)."""
    queryset._raw_delete(queryset.db)  # result tables: no signals or cascades, plain DELETE
    return insert_rows(queryset.model, frame)


def insert_rows(model: type[Model], frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    if connection.vendor != "postgresql":
        return _execute_many(model, frame)
    fields = {f.column: f for f in model._meta.concrete_fields}
    columns = [(name, fields[name]) for name in frame.columns]
    payload = copy_binary([_encode(frame[name], f) for name, f in columns])
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name, _ in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)", payload
        )
    return len(frame)


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


# --- One slot ---------------------------------------------------------------------------------


def write_slot(result, *, slot: int, slots: int, account_ids, history_start, now) -> None:
    """Replace everything stored for the slot's accounts with ``result`` (compute.slot)."""
    ids = [int(pk) for pk in account_ids]
    write_engagement(
        result.scores,
        result.history,
        result.engaged_in_period,
        ids=ids,
        history_start=history_start,
        now=now,
    )
    write_stages(result.changes, now)
    replace_rows(AttributionCredit.objects.filter(account_id__in=ids), result.credits)
    replace_rows(SlotRollup.objects.filter(slot=slot), result.rollup.assign(slot=slot))
    replace_rows(SlotMarkovCount.objects.filter(slot=slot), result.markov_counts.assign(slot=slot))
    EngineSlot.objects.update_or_create(slot=slot, defaults={"slots": slots, "computed_at": now})


def write_finish(markov: pd.DataFrame, rollup: pd.DataFrame, *, slots: int) -> None:
    """Markov's credits, every rollup row, and no slot left from a layout with more slots."""
    replace_rows(AttributionCredit.objects.filter(model="markov"), markov)
    replace_rows(MetricRollup.objects.all(), rollup)
    for model in (SlotRollup, SlotMarkovCount, EngineSlot):
        model.objects.filter(slot__gte=slots).delete()


def write_engagement(
    scores: pd.DataFrame, history: pd.DataFrame, engaged: set, *, ids, history_start, now
) -> None:
    """Today's scores (on the accounts too) and the daily history from ``history_start``."""
    replace_rows(
        EngagementScore.objects.filter(account_id__in=ids),
        pd.DataFrame(
            {
                "account_id": scores["account_id"].to_numpy(),
                "score": scores["score"].round(4).to_numpy(),
                "by_channel": [
                    {k: round(v, 4) for k, v in d.items()} for d in scores["by_channel"]
                ],
                "engaged_contacts": scores["engaged_contacts"].to_numpy(),
                "spike": scores["spike"].to_numpy(),
                "top_activities": scores["top_activities"].to_list(),
                "engaged_in_period": scores["account_id"].isin(engaged).to_numpy(),
                "computed_at": now,
            }
        ),
    )
    _update_accounts(
        scores["account_id"].to_numpy(),
        scores["score"].round(4).to_numpy(),
        scores["spike"].to_numpy(),
    )
    replace_rows(
        EngagementHistory.objects.filter(account_id__in=ids, date__gte=history_start),
        pd.DataFrame(
            {
                "account_id": history["account_id"].to_numpy(),
                "date": pd.to_datetime(history["date"]).dt.date.to_numpy(),
                "score": history["score"].round(4).to_numpy(),
            }
        ),
    )


def _update_accounts(ids: np.ndarray, scores: np.ndarray, spikes: np.ndarray) -> None:
    """Copy each account's score and spike flag onto it, touching only rows that changed."""
    if connection.vendor != "postgresql":
        rows = [
            Account(pk=int(pk), engagement_score=float(score), spike=bool(spike))
            for pk, score, spike in zip(ids, scores, spikes, strict=True)
        ]
        Account.objects.bulk_update(rows, ["engagement_score", "spike"], batch_size=2_000)
        return
    table = connection.ops.quote_name(Account._meta.db_table)
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"UPDATE {table} AS a SET engagement_score = v.score, spike = v.spike "
            "FROM (VALUES %s) AS v (id, score, spike) WHERE a.id = v.id "
            "AND (a.engagement_score <> v.score OR a.spike <> v.spike)",
            list(zip(ids.tolist(), scores.tolist(), spikes.tolist(), strict=True)),
            template="(%s::bigint, %s::double precision, %s::boolean)",
            page_size=20_000,
        )


def write_stages(changes: pd.DataFrame, now: pd.Timestamp) -> None:
    """Move the accounts to their new stage and keep each change with the run's time."""
    if changes.empty:
        return
    # A re-run as of the same instant replaces its own changes: A -> B then B -> C is A -> C.
    at_now = JourneyStageChange.objects.filter(changed_at=now)
    changing = set(changes["account_id"].tolist())
    replaced = {a: f for a, f in at_now.values_list("account_id", "from_stage") if a in changing}
    if replaced:
        at_now.filter(account_id__in=list(replaced)).delete()
        from_stage = changes["account_id"].map(replaced).fillna(changes["from_stage"])
        changes = changes.assign(from_stage=from_stage)
        moved = changes["from_stage"] != changes["to_stage"]
        changes.loc[~moved].pipe(_set_stages)
        changes = changes.loc[moved]
    _set_stages(changes)
    insert_rows(
        JourneyStageChange,
        pd.DataFrame(
            {
                "account_id": changes["account_id"].to_numpy(),
                "from_stage": changes["from_stage"].to_numpy(),
                "to_stage": changes["to_stage"].to_numpy(),
                "changed_at": now,
            }
        ),
    )


def _set_stages(changes: pd.DataFrame) -> None:
    by_stage = changes.groupby("to_stage")["account_id"].apply(list)
    for stage, ids in by_stage.items():
        Account.objects.filter(pk__in=[int(i) for i in ids]).update(stage=stage)


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


def _field_dtype(dtype: np.dtype, length: int):
    if dtype.kind == "S":
        return f"S{length}"
    return dtype


def _encode(series: pd.Series, model_field) -> _Column:
    kind = model_field.get_internal_type()
    null = series.isna().to_numpy()
    if kind == "JSONField":
        text = [None if v is None else b"\x01" + json.dumps(v).encode() for v in series]
        return _text(np.array(text, dtype=object), null=np.array([t is None for t in text]))
    if kind in ("CharField", "TextField"):
        return _text(series, null=null)
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
