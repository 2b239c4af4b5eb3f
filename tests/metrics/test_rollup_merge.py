"""The finish's rollup write: ``merge_rows`` rewrites only the rows that differ, matched on
every column or on a stored digest of them."""

import datetime as dt

import pandas as pd
import pytest
from django.db import connection

from abm.lib.table_copy import copy_out_bigints, merge_rows, row_digests
from metrics.models import MetricRollup

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the merge is PostgreSQL's"
)


def rollup_rows(values: dict, owner_id: int) -> pd.DataFrame:
    """Up to four rollup rows with NULLs, dates and JSON, valued by ``values``."""
    n = len(values)
    return pd.DataFrame(
        {
            "metric": ["spend", "spend", "holdout", "leads"][:n],
            "period": [None, dt.date(2026, 2, 1), None, dt.date(2026, 3, 1)][:n],
            "model": "",
            "kind": "",
            "channel": ["", "email", "", "event"][:n],
            "playbook_id": pd.array([None] * n, dtype="Int64"),
            "tier": pd.array([None, 1, 0, None][:n], dtype="Int64"),
            "owner_id": pd.array([None, owner_id, None, None][:n], dtype="Int64"),
            "segment": "",
            "value": list(values.values()),
            "count": 1.0,
            "data": [{"n": 1} for _ in values],
        }
    )


def stored() -> dict:
    return {(r.metric, r.channel): (r.pk, r.value) for r in MetricRollup.objects.all()}


@needs_postgresql
@pytest.mark.django_db
@pytest.mark.parametrize("digest", [None, "digest"])
def test_merging_the_rollups_writes_only_the_rows_that_differ(alice, digest):
    MetricRollup.objects.all().delete()
    first = rollup_rows({"a": 1.5, "b": 2.0, "c": 3.0}, alice.pk)
    assert merge_rows(MetricRollup, first, digest=digest) == 3
    before = stored()
    # The first row again (its NULLs match), the second changed, the third gone, a fourth new.
    again = rollup_rows({"a": 1.5, "b": 2.5, "c": 3.0, "d": 4.0}, alice.pk).drop(2)
    written = merge_rows(MetricRollup, again, digest=digest)
    after = stored()
    assert written == 4  # the old second and the third deleted; the new second and fourth
    assert set(after) == {("spend", ""), ("spend", "email"), ("leads", "event")}
    assert after[("spend", "")] == before[("spend", "")]  # the same row, not rewritten
    assert after[("spend", "email")][1] == 2.5
    assert after[("spend", "email")][0] != before[("spend", "email")][0]
    assert after[("leads", "event")][1] == 4.0


@pytest.mark.django_db
def test_each_row_stores_the_digest_of_its_values(alice):
    MetricRollup.objects.all().delete()
    frame = rollup_rows({"a": 1.5, "b": 2.0, "c": 3.0, "d": 4.0}, alice.pk)
    merge_rows(MetricRollup, frame, digest="digest")
    digests = dict(zip(frame["value"], row_digests(frame), strict=True))
    assert len(set(digests.values())) == 4
    assert {r.value: r.digest for r in MetricRollup.objects.all()} == digests
    # Any one value changed changes the digest: a JSON key, a date, a NULL, a number.
    for column, value in (
        ("data", {"n": 2}),
        ("period", dt.date(2026, 2, 2)),
        ("tier", 2),
        ("count", 1.0000001),
    ):
        changed = frame.copy()
        changed.at[1, column] = value
        assert row_digests(changed)[1] != digests[2.0], column
        assert (row_digests(changed)[[0, 2, 3]] == row_digests(frame)[[0, 2, 3]]).all()


@pytest.mark.django_db
def test_rows_stored_without_digests_are_all_replaced(alice):
    """Rows from before the digest column (all 0), alike or not, give way to the frame's."""
    MetricRollup.objects.all().delete()
    MetricRollup.objects.bulk_create(
        [MetricRollup(metric="spend", value=1.5, count=1.0, digest=0) for _ in range(2)]
    )
    frame = rollup_rows({"a": 1.5, "b": 2.0}, alice.pk)
    merge_rows(MetricRollup, frame, digest="digest")
    rows = sorted(MetricRollup.objects.values_list("channel", "value", "digest"))
    assert rows == sorted(
        zip(frame["channel"], frame["value"], row_digests(frame).tolist(), strict=True)
    )


def scope_rows(scope: int, values: list[float]) -> pd.DataFrame:
    """Rows of ``scoped(scope)``: the rows of one tier."""
    n = len(values)
    return pd.DataFrame(
        {
            "metric": "spend",
            "period": dt.date(2026, 2, 1),
            "model": "",
            "kind": "",
            "channel": ["email", "event", "webinar"][:n],
            "playbook_id": pd.array([None] * n, dtype="Int64"),
            "tier": pd.array([scope] * n, dtype="Int64"),
            "owner_id": pd.array([None] * n, dtype="Int64"),
            "segment": "",
            "value": values,
            "count": 1.0,
            "data": [{} for _ in values],
        }
    )


def scoped(scope: int):
    return MetricRollup.objects.filter(tier=scope)


def merge_scope(scope: int, values: list[float]) -> int:
    within = scoped(scope)
    return merge_rows(within, scope_rows(scope, values), digest="digest")


@pytest.mark.django_db
def test_a_scoped_merge_leaves_the_rows_outside_its_scope_alone():
    merge_scope(0, [1.0, 2.0])
    merge_scope(1, [1.0, 2.0])
    before = {(r.tier, r.channel, r.value): r.pk for r in MetricRollup.objects.all()}

    merge_scope(0, [1.0, 3.0, 4.0])  # the first row again, the second changed, a third new

    after = {(r.tier, r.channel, r.value): r.pk for r in MetricRollup.objects.all()}
    assert set(after) == {
        (0, "email", 1.0),
        (0, "event", 3.0),
        (0, "webinar", 4.0),
        (1, "email", 1.0),
        (1, "event", 2.0),
    }
    assert after[(1, "email", 1.0)] == before[(1, "email", 1.0)]
    assert after[(1, "event", 2.0)] == before[(1, "event", 2.0)]
    if connection.vendor == "postgresql":  # elsewhere the scope is replaced whole
        assert after[(0, "email", 1.0)] == before[(0, "email", 1.0)]
        assert merge_scope(1, [1.0, 2.0]) == 0  # nothing changed, nothing written


@needs_postgresql
@pytest.mark.django_db
def test_copying_out_two_bigint_columns_reads_what_the_orm_reads():
    merge_scope(0, [1.0, 2.0, 3.0])
    merge_scope(1, [5.0])
    query = scoped(0).order_by("pk").values_list("pk", "digest")

    ids, digests = copy_out_bigints(query)

    assert list(zip(ids.tolist(), digests.tolist(), strict=True)) == list(query)
    assert len(ids) == 3
    for nothing in (scoped(9), MetricRollup.objects.filter(tier__in=[])):
        empty = copy_out_bigints(nothing.values_list("pk", "digest"))
        assert [a.tolist() for a in empty] == [[], []]


@pytest.mark.django_db
def test_a_merge_into_some_rows_without_a_digest_is_refused():
    merge_scope(1, [1.0, 2.0])

    with pytest.raises(ValueError, match="digest"):
        merge_rows(scoped(2), scope_rows(2, [3.0]))
    assert sorted(MetricRollup.objects.values_list("tier", "value")) == [(1, 1.0), (1, 2.0)]
