"""Loading the next batch and writing the last while this one computes
(metrics/engine/overlap.py): each on its own thread and connection, with the same figures as
loading, computing and writing each batch in turn."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from accounts.models import Account
from demo.seeding import seed_demo
from metrics.engine.overlap import Ahead, Behind, can_overlap
from metrics.engine.runner import recompute_all
from metrics.models import EngagementScore, SlotMarkovCount, SlotRollupPack
from tests.metrics.engine_snapshot import assert_same_figures, stored_figures
from tests.metrics.vacuums import database_now, last_vacuums

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def where_loaded(n: int) -> tuple[str, int]:
    return threading.current_thread().name, n * 2


def test_ahead_loads_in_the_background_what_was_started_and_here_what_was_not():
    with Ahead(where_loaded, overlap=True) as ahead:
        ahead.start("first", 1)
        background = ahead.take("first", 1)
        here = ahead.take("second", 2)
    assert background[0].startswith("engine-load")
    assert background[1] == 2
    assert here == (threading.current_thread().name, 4)


def test_without_overlap_everything_loads_here():
    with Ahead(where_loaded, overlap=False) as ahead:
        ahead.start("first", 1)
        assert ahead.take("first", 1) == (threading.current_thread().name, 2)


def test_a_failed_background_load_fails_the_take():
    def broken(n):
        raise ValueError(f"no batch {n}")

    with Ahead(broken, overlap=True) as ahead:
        ahead.start(0, 7)
        with pytest.raises(ValueError, match="no batch 7"):
            ahead.take(0, 7)


def test_behind_writes_in_the_background_one_at_a_time_in_order():
    done = []

    def write(n):
        def work():
            done.append((n, threading.current_thread().name, len(done)))

        return work

    with Behind(overlap=True) as behind:
        for n in range(4):
            assert behind.write(write(n), redo=lambda: pytest.fail("no redo")) == []
        assert behind.wait() == []
    assert [(n, order) for n, _, order in done] == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert all(name.startswith("engine-write") for _, name, _ in done)


def test_a_write_that_hit_a_deleted_row_is_done_again_here():
    def deleted_meanwhile():
        raise IntegrityError("insert or update violates foreign key constraint")

    with Behind(overlap=True) as behind:
        behind.write(deleted_meanwhile, redo=lambda: ("redone", threading.current_thread().name))
        redone = behind.write(lambda: None, redo=lambda: pytest.fail("no redo"))
        assert behind.wait() == []
    assert redone == [("redone", threading.current_thread().name)]


def test_any_other_failed_write_fails_the_run():
    def broken():
        raise ValueError("disk full")

    with Behind(overlap=True) as behind:
        behind.write(broken, redo=lambda: pytest.fail("no redo"))
        with pytest.raises(ValueError, match="disk full"):
            behind.wait()


def test_without_overlap_a_write_is_done_at_once():
    done = []
    with Behind(overlap=False) as behind:
        assert not behind.overlaps
        behind.write(lambda: done.append(threading.current_thread().name), redo=pytest.fail)
        assert done == [threading.current_thread().name]


@pytest.mark.django_db
def test_no_overlap_inside_a_transaction_or_on_sqlite():
    # A test's transaction holds rows another connection cannot see.
    assert not can_overlap()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="loads ahead on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_batches_loaded_ahead_and_written_behind_store_what_batches_in_turn_store():
    seed_demo(accounts=40, seed=21, today=NOW.date())
    assert can_overlap()
    with override_settings(ABM_ENGINE_ACCOUNTS_PER_BATCH=8):
        before = threading.enumerate()
        result = recompute_all(now=NOW, slots=5)
        assert result["seconds"]["write slot, alongside"] > 0  # written on the other thread
        threads = {t.name for t in threading.enumerate()} - {t.name for t in before}
        ahead = stored_figures()
        with transaction.atomic():  # no overlap: each batch loads in turn
            assert not can_overlap()
            recompute_all(now=NOW, slots=5)
            in_turn = stored_figures()
    assert result["slots_computed"] == 5
    assert result["accounts"] == Account.objects.count()
    assert not threads  # the loading thread ended with the run
    assert_same_figures(in_turn, ahead)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="vacuums on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_a_full_run_vacuums_the_tables_its_slots_rewrote_before_it_returns():
    seed_demo(accounts=40, seed=21, today=NOW.date())
    # Rewritten whole by every run: always over the share of changed rows that calls a vacuum.
    rewritten = (EngagementScore, SlotRollupPack, SlotMarkovCount)
    before = threading.enumerate()
    started = database_now()

    result = recompute_all(now=NOW, slots=5)

    vacuumed = last_vacuums(*rewritten)
    assert set(vacuumed) == {model.__name__ for model in rewritten}
    assert all(at is not None and at > started for at in vacuumed.values()), vacuumed
    assert "analyze" in result["seconds"]  # the finish waited for it
    assert {t.name for t in threading.enumerate()} == {t.name for t in before}
