"""Binary COPY of rows of many layouts (JSON of every length): the rows go in whole, whichever
way the stream is built (abm/lib/table_copy.py)."""

import datetime as dt

import pandas as pd
import pytest
from django.db import connection

from abm.lib import table_copy
from metrics.models import MetricRollup

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="binary COPY is PostgreSQL's"),
]


def many_layouts(n: int) -> pd.DataFrame:
    """Rows whose texts, JSON and NULLs vary in length from row to row."""
    return pd.DataFrame(
        {
            "metric": "spend",
            "period": [None if i % 3 == 0 else dt.date(2026, 1 + i % 12, 1) for i in range(n)],
            "model": "",
            "kind": "",
            "channel": ["é" * (i % 7) + "x" * (i % 5) for i in range(n)],
            "playbook_id": pd.array([None if i % 2 else i for i in range(n)], dtype="Int64"),
            "tier": pd.array([i % 4 for i in range(n)], dtype="Int64"),
            "owner_id": pd.array([None] * n, dtype="Int64"),
            "segment": "",
            "value": [i / 7 for i in range(n)],
            "count": [float(i) for i in range(n)],
            "data": [{"n": list(range(i % 11)), "s": "ü" * (i % 13)} for i in range(n)],
        }
    )


def stored() -> list[tuple]:
    rows = MetricRollup.objects.order_by("value").values_list(
        "period", "channel", "playbook_id", "tier", "value", "count", "data"
    )
    return list(rows)


@pytest.mark.parametrize("bytes_at_a_time", [64, 4 << 20])
def test_rows_of_many_layouts_go_in_as_rows_of_few_do(monkeypatch, bytes_at_a_time):
    frame = many_layouts(300)
    monkeypatch.setattr(table_copy, "_MANY_LAYOUTS", 10**9)  # a structured array per layout
    table_copy.insert_rows(MetricRollup, frame)
    grouped = stored()
    MetricRollup.objects.all().delete()

    monkeypatch.setattr(table_copy, "_MANY_LAYOUTS", 0)  # every field put in place
    monkeypatch.setattr(table_copy, "_SCATTER_BYTES", bytes_at_a_time)
    table_copy.insert_rows(MetricRollup, frame)

    assert stored() == grouped
    assert len(grouped) == 300
    expected = frame.iloc[7]
    assert grouped[7] == (
        expected["period"],
        expected["channel"],
        None,
        3,
        1.0,
        7.0,
        expected["data"],
    )
