"""Every slot's packed rollup rows (``SlotRollupPack``) as plain rows, for tests to compare and
sum in their own way."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.engine.compute.packs import INTEGERS, NULL, TEXTS, unpack
from metrics.models import SlotRollupPack

_EPOCH = dt.date(1970, 1, 1)


def slot_rollup_rows() -> pd.DataFrame:
    return pd.DataFrame(slot_rollup_records())


def slot_rollup_records() -> list[dict]:
    """slot, the key columns (None for NULL) and the two measures, one per packed row."""
    rows = []
    for slot, data in SlotRollupPack.objects.order_by("slot").values_list("slot", "data"):
        columns, texts = unpack(data)
        for i in range(len(columns["value"])):
            row = {"slot": slot}
            for name in TEXTS:
                row[name] = texts[name][int(columns[name][i])]
            day = int(columns["period"][i])
            row["period"] = None if day == NULL else _EPOCH + dt.timedelta(days=day)
            for name in INTEGERS:
                value = int(columns[name][i])
                row[name] = None if value == NULL else value
            row["value"], row["count"] = float(columns["value"][i]), float(columns["count"][i])
            rows.append(row)
    return rows
