"""Frames a worker keeps between finishes (metrics/engine/kept.py): used again only while the
slots they came from are unchanged, read again where another worker wrote a slot, no sums kept
from a finish that failed; every run ends as a full run would."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.conf import settings

from accounts.models import Opportunity
from demo.seeding import seed_demo
from metrics.engine import kept
from metrics.engine.params import EngineParams
from metrics.engine.runner import Stopwatch, recompute_all, recompute_changed
from metrics.engine.slots import run_slots
from metrics.models import MetricRollup
from metrics.signals import metrics_recomputed
from tests.factories import ActivityFactory
from tests.metrics.engine_snapshot import assert_same_figures, stored_figures
from tests.metrics.test_slot_sums import _assert_sums_are_the_slots, _stored_sums, _summed_afresh
from tests.metrics.test_slots import NOW, clean_run

SLOTS = 16  # a finish moves the sums for up to two slots of sixteen


@pytest.fixture
def seeded(db, django_capture_on_commit_callbacks):
    """The demo, and a full run whose frames this worker keeps (as at the run's commit)."""
    seed_demo(accounts=40, seed=21, today=NOW.date())
    kept.forget()
    with django_capture_on_commit_callbacks(execute=True):
        clean_run(slots=SLOTS)
    yield
    kept.forget()


def deal_accounts() -> list:
    """Accounts of deals created before NOW, one per slot: a touch the day before such a deal
    changes its credits."""
    by_slot = {}
    for deal in Opportunity.objects.filter(created_at__lt=NOW).order_by("pk"):
        by_slot.setdefault(deal.account_id % SLOTS, deal)
    return list(by_slot.values())


def touch_before(deal) -> None:
    ActivityFactory(
        account=deal.account,
        channel="webinar",
        kind="webinar_attended",
        occurred_at=deal.created_at - dt.timedelta(days=1),
    )


def assert_sums_are_the_slots() -> None:
    _assert_sums_are_the_slots(_stored_sums(), _summed_afresh())


def assert_as_a_full_run() -> None:
    incremental = stored_figures()
    recompute_all(now=NOW, slots=SLOTS)
    assert_same_figures(stored_figures(), incremental)


def test_a_one_account_change_uses_what_the_worker_kept(seeded, django_capture_on_commit_callbacks):
    assert {kept.kept("sums") is not None, kept.kept("linear") is not None} == {True}
    deal = deal_accounts()[0]
    touch_before(deal)

    with django_capture_on_commit_callbacks(execute=True):
        result = recompute_changed([deal.account_id], now=NOW)

    assert (result["sums"], result["kept"]) == ("moved", ["sums", "linear"])
    assert_sums_are_the_slots()
    assert_as_a_full_run()


def test_a_slot_another_worker_wrote_is_read_again(seeded, django_capture_on_commit_callbacks):
    """A shard elsewhere rewrote a slot (a new version, not yet summed): the sums are summed
    afresh, and the kept credits are read again for that slot and this run's."""
    elsewhere, here = deal_accounts()[:2]
    touch_before(elsewhere)
    params = EngineParams.from_settings(settings)
    run_slots([elsewhere.account_id % SLOTS], SLOTS, pd.Timestamp(NOW), params, Stopwatch())
    touch_before(here)

    with django_capture_on_commit_callbacks(execute=True):
        result = recompute_changed([here.account_id], now=NOW)

    assert (result["sums"], result["kept"]) == ("summed", ["linear"])
    assert_as_a_full_run()


def test_sums_another_worker_moved_are_read_again(seeded, django_capture_on_commit_callbacks):
    """Another worker ran a one-account change and stored its sums: what this worker kept
    does not count that slot as it is now."""
    elsewhere, here = deal_accounts()[:2]
    this_worker = dict(kept._KEPT)
    touch_before(elsewhere)
    with django_capture_on_commit_callbacks(execute=True):
        assert recompute_changed([elsewhere.account_id], now=NOW)["sums"] == "moved"
    kept._KEPT.clear()
    kept._KEPT.update(this_worker)
    touch_before(here)

    with django_capture_on_commit_callbacks(execute=True):
        result = recompute_changed([here.account_id], now=NOW)

    assert (result["sums"], result["kept"]) == ("moved", ["linear"])
    assert_sums_are_the_slots()
    assert_as_a_full_run()


def test_a_finish_that_fails_keeps_no_sums(seeded, django_capture_on_commit_callbacks):
    """Its sums were never stored; the credits it read are the database's whatever came of
    it."""
    deal = deal_accounts()[0]
    touch_before(deal)

    def fail(**kwargs):
        raise RuntimeError("the goals' update failed")

    metrics_recomputed.connect(fail, sender=MetricRollup, weak=False)
    try:
        with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
            recompute_changed([deal.account_id], now=NOW)
    finally:
        metrics_recomputed.disconnect(fail, sender=MetricRollup)

    assert kept.kept("sums") is None
    with django_capture_on_commit_callbacks(execute=True):
        result = recompute_changed([deal.account_id], now=NOW)
    assert result["kept"] == ["linear"]
    assert_as_a_full_run()


def test_frames_over_the_limit_are_not_kept(db, django_capture_on_commit_callbacks, monkeypatch):
    seed_demo(accounts=40, seed=21, today=NOW.date())
    kept.forget()
    monkeypatch.setattr(kept, "KEEP_AT_MOST", 10)
    with django_capture_on_commit_callbacks(execute=True):
        clean_run(slots=SLOTS)
    assert (kept.kept("sums"), kept.kept("linear")) == (None, None)
    deal = deal_accounts()[0]
    touch_before(deal)

    with django_capture_on_commit_callbacks(execute=True):
        result = recompute_changed([deal.account_id], now=NOW)

    assert (result["sums"], result["kept"]) == ("moved", [])
    assert_as_a_full_run()
