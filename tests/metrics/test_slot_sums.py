"""The slots' sums kept between runs: an incremental run moves them by its slots' difference, and
they always equal the slots' packed rows summed afresh, row by row."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from django.conf import settings
from django.db import connection

from demo.seeding import seed_demo
from metrics.engine.params import EngineParams
from metrics.engine.runner import Stopwatch, recompute_all, recompute_changed
from metrics.engine.slot_sums import moved_sums, row_keys
from metrics.engine.slots import run_slots
from metrics.models import EngineSlot, SlotRollupSum
from tests.factories import ActivityFactory
from tests.metrics.engine_snapshot import assert_same_figures, stored_figures
from tests.metrics.slot_packs import slot_rollup_records
from tests.metrics.test_slots import NOW, clean_run


@pytest.fixture
def seeded(db):
    seed_demo(accounts=40, seed=21, today=NOW.date())


_KEY = "metric, period, model, kind, channel, playbook_id, tier, owner_id, segment"


def _summed_afresh() -> dict:
    """Every slot's packed rows summed per key, row by row."""
    sums = {}
    for row in slot_rollup_records():
        key = tuple(_norm(row[name]) for name in _KEY.split(", "))
        value, count, rows = sums.get(key, (0.0, 0.0, 0))
        sums[key] = (value + row["value"], count + row["count"], rows + 1)
    return sums


def _stored_sums() -> dict:
    rows = SlotRollupSum.objects.values_list(*_KEY.split(", "), "value", "count", "rows")
    return {tuple(_norm(v) for v in row[:9]): row[9:] for row in rows}


def _norm(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _assert_sums_are_the_slots(stored: dict, summed: dict) -> None:
    assert stored.keys() == summed.keys()
    for key, (value, count, rows) in stored.items():
        assert math.isclose(value, summed[key][0], rel_tol=1e-9, abs_tol=1e-9), key
        assert math.isclose(count, summed[key][1], rel_tol=1e-9, abs_tol=1e-9), key
        assert rows == summed[key][2], key


def _slot_of(account_pk: int, slots: int) -> int:
    return account_pk % slots


def test_an_incremental_run_moves_the_stored_sums_and_they_stay_the_slots_sum(seeded):
    clean_run(slots=8)
    _assert_sums_are_the_slots(_stored_sums(), _summed_afresh())
    account = next(iter(_accounts_by_slot(8).values()))
    ActivityFactory(account=account, channel="webinar", kind="webinar_attended")

    result = recompute_changed([account.pk], now=NOW)

    assert (result["sums"], result["slots_computed"]) == ("moved", 1)
    assert EngineSlot.objects.filter(summed=False).count() == 0
    _assert_sums_are_the_slots(_stored_sums(), _summed_afresh())
    incremental = stored_figures()
    recompute_all(now=NOW, slots=8)
    assert_same_figures(stored_figures(), incremental)


def test_a_slot_written_without_a_finish_makes_the_next_finish_sum_every_slot(seeded):
    """A sharded run's shard writes its slots and no finish has counted them yet: the next
    incremental run cannot move the sums by its own slots alone."""
    clean_run(slots=8)
    accounts = list(_accounts_by_slot(8).values())
    first, second = accounts[0], accounts[1]
    ActivityFactory(account=first, channel="email", kind="email_click")
    params = EngineParams.from_settings(settings)
    run_slots([_slot_of(first.pk, 8)], 8, pd.Timestamp(NOW), params, Stopwatch())
    ActivityFactory(account=second, channel="event", kind="meeting")

    result = recompute_changed([second.pk], now=NOW)

    assert result["sums"] == "summed"
    _assert_sums_are_the_slots(_stored_sums(), _summed_afresh())
    incremental = stored_figures()
    recompute_all(now=NOW, slots=8)
    assert_same_figures(stored_figures(), incremental)


def test_more_than_an_eighth_of_the_slots_changed_are_summed_afresh(seeded):
    clean_run(slots=4)
    accounts = list(_accounts_by_slot(4).values())[:3]
    for account in accounts:
        ActivityFactory(account=account, channel="email", kind="email_click")

    result = recompute_changed([a.pk for a in accounts], now=NOW)

    assert (result["sums"], result["slots_computed"]) == ("summed", 3)
    _assert_sums_are_the_slots(_stored_sums(), _summed_afresh())


def test_moved_sums_subtract_before_add_after_and_drop_keys_no_row_counts():
    def frame(rows):
        out = pd.DataFrame(rows, columns=["metric", "period", "value", "count", "rows"]).assign(
            model="", kind="", channel="", playbook_id=None, tier=None, owner_id=None
        )
        out["segment"] = ""
        out.insert(0, "key", row_keys(out))
        return out

    stored = frame(
        [("spend", "2026-05-01", 100.0, 4.0, 3), ("spend", "2026-06-01", 50.0, 2.0, 1)]
        + [("won", "2026-06-01", 9.0, 1.0, 2)]
    )
    before = frame([("spend", "2026-06-01", 50.0, 2.0, 1), ("won", "2026-06-01", 4.0, 1.0, 1)])
    after = frame([("won", "2026-06-01", 6.0, 1.0, 1), ("mqa", "2026-06-01", 1.0, 1.0, 1)])

    moved, changed = moved_sums(stored, before, after)

    by_metric = {
        (m, p): (v, c, r)
        for m, p, v, c, r in moved[["metric", "period", "value", "count", "rows"]].itertuples(
            index=False
        )
    }
    assert by_metric == {
        ("spend", "2026-05-01"): (100.0, 4.0, 3),  # not in the slots: kept as stored
        ("won", "2026-06-01"): (11.0, 1.0, 2),  # 9 - 4 + 6
        ("mqa", "2026-06-01"): (1.0, 1.0, 1),  # new
    }  # the June spend row: its only slot row is gone
    assert sorted(changed) == sorted(
        row_keys(frame([(m, "2026-06-01", 0, 0, 0) for m in ("spend", "won", "mqa")]))
    )


def test_a_key_is_the_same_text_whichever_database_typed_the_frame():
    common = {"metric": ["won"], "model": [""], "kind": ["won"], "channel": ["email"]}
    from_csv = pd.DataFrame(
        {**common, "period": ["2026-06-01"], "playbook_id": [float("nan")], "tier": [1.0]}
        | {"owner_id": [7], "segment": [""]}
    )
    from_rows = pd.DataFrame(
        {**common, "period": [dt.date(2026, 6, 1)], "playbook_id": [None], "tier": [1]}
        | {"owner_id": [7.0], "segment": [""]}
    )
    assert row_keys(from_csv).tolist() == row_keys(from_rows).tolist()
    assert row_keys(from_csv).tolist() == ["won|2026-06-01||won|email||1|7|"]


def _accounts_by_slot(slots: int) -> dict:
    from accounts.models import Account

    out = {}
    for account in Account.objects.order_by("pk"):
        out.setdefault(account.pk % slots, account)
    return out


def test_a_full_run_that_changes_no_sum_rewrites_no_sum_row(seeded):
    """The stored sums are merged on their digest: rows that come out as they were stay."""
    clean_run(slots=8)
    before = dict(SlotRollupSum.objects.values_list("key", "pk"))
    account = next(iter(_accounts_by_slot(8).values()))
    day_before = NOW - dt.timedelta(days=1)
    ActivityFactory(
        account=account, channel="webinar", kind="webinar_attended", occurred_at=day_before
    )

    recompute_all(now=NOW, slots=8)

    after = dict(SlotRollupSum.objects.values_list("key", "pk"))
    kept = [key for key in before if after.get(key) == before[key]]
    if connection.vendor == "postgresql":  # elsewhere the table is replaced whole
        assert 0 < len(after) - len(kept) < len(after) / 4  # the webinar's keys, not the rest
    _assert_sums_are_the_slots(_stored_sums(), _summed_afresh())
