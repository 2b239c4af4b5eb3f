"""Slots: any layout, any sequence of incremental runs, and the sharded run over workers all store
the same figures as one full run in one process."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pandas as pd
import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abm.models import RunStatus
from accounts.models import Account, Opportunity
from accounts.records import account_delete, record_delete
from demo.seeding import seed_demo
from metrics.engine import kept
from metrics.engine.compute.slot import compute_slot
from metrics.engine.loading import load_history_start, load_inputs
from metrics.engine.params import EngineParams
from metrics.engine.runner import Stopwatch, recompute_all, recompute_changed, recompute_enqueue
from metrics.engine.writing import write_slot
from metrics.models import (
    AttributionCredit,
    EngagementHistory,
    EngagementScore,
    EngineSlot,
    MetricRollup,
    SlotMarkovCount,
    SlotRollupPack,
)
from playbooks.models import Activity
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory
from tests.metrics.engine_snapshot import assert_same_figures, stored_figures
from tests.metrics.slot_packs import slot_rollup_rows
from tests.metrics.test_worker import _wait_for

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def clean_run(**kwargs) -> dict:
    """A full run from no stored results."""
    for model in (AttributionCredit, MetricRollup, SlotRollupPack, EngineSlot):
        model.objects.all().delete()
    return recompute_all(now=NOW, **kwargs)


@pytest.fixture
def demo(db):
    """A demo as of NOW's day, and a first run as of NOW: its journey stage history is then the
    one every later run as of NOW starts from."""
    seed_demo(accounts=40, seed=21, today=NOW.date())
    recompute_all(now=NOW)


def test_every_slot_layout_stores_the_same_figures(demo):
    clean_run(slots=1)
    one = stored_figures()
    result = clean_run(slots=5)
    assert (result["slots"], result["slots_computed"]) == (5, 5)
    assert EngineSlot.objects.count() == 5
    assert_same_figures(stored_figures(), one)


def test_slots_without_accounts_store_no_rows_and_change_no_figure(demo):
    clean_run(slots=1)
    one = stored_figures()
    result = clean_run(slots=Account.objects.count() + 7)  # some slots hold no account
    assert result["slots_computed"] == result["slots"] > Account.objects.count()
    assert_same_figures(stored_figures(), one)


def slot_rows() -> dict[str, pd.DataFrame]:
    """Every slot's partial rollup rows and Markov counts, in one order."""
    rollup = slot_rollup_rows()
    counts = pd.DataFrame(SlotMarkovCount.objects.values())
    return {
        name: frame.drop(columns="id", errors="ignore")
        .sort_values([c for c in frame.columns if c not in ("id", "value", "count")])
        .reset_index(drop=True)
        for name, frame in (("rollup", rollup), ("counts", counts))
    }


@pytest.mark.parametrize("per_batch", [1, 15])
def test_slots_computed_in_batches_store_what_each_slot_alone_does(demo, per_batch):
    """A batch computes several slots at once and must store each one's rows exactly as if it
    had been computed alone (per_batch=1: every slot its own batch)."""
    with override_settings(ABM_ENGINE_ACCOUNTS_PER_BATCH=10_000):
        clean_run(slots=5)  # all five slots in one computation
    together, figures = slot_rows(), stored_figures()
    assert together["rollup"]["slot"].nunique() == 5
    with override_settings(ABM_ENGINE_ACCOUNTS_PER_BATCH=per_batch):
        clean_run(slots=5)
    apart = slot_rows()
    for name in ("rollup", "counts"):
        pd.testing.assert_frame_equal(apart[name], together[name], check_exact=False, rtol=1e-9)
    assert_same_figures(stored_figures(), figures)


def test_a_smaller_layout_leaves_no_slot_of_the_larger_one(demo):
    clean_run(slots=6)
    recompute_all(now=NOW, slots=2)
    assert sorted(EngineSlot.objects.values_list("slot", flat=True)) == [0, 1]
    assert set(SlotRollupPack.objects.values_list("slot", flat=True)) == {0, 1}


def test_a_slot_leaves_out_an_account_and_a_deal_deleted_after_it_loaded(demo, alice):
    """A user deletes them between the slot's load and its write (issue #17): the write skips
    their rows instead of failing the run on the foreign key."""
    won = Opportunity.objects.filter(stage="closed_won").order_by("pk")
    gone_deal = won.first()
    gone_account = won.exclude(account=gone_deal.account).first().account
    deal_pk, account_pk, kept = gone_deal.pk, gone_account.pk, gone_deal.account_id
    ids = [account_pk, kept]
    now = pd.Timestamp(NOW)
    params = EngineParams.from_settings(django_settings)
    data = load_inputs(now, params, ids)
    start = load_history_start(now, params, ids)
    result = compute_slot(data, now, start, params, Stopwatch(), layout=1)
    assert {deal_pk} <= set(result.credits["opportunity_id"])
    assert account_pk in set(result.scores["account_id"])

    account_delete(account=gone_account, by=alice)
    record_delete(gone_deal, by=alice)
    with transaction.atomic():
        write_slot(result, chosen=[0], slots=1, account_ids=ids, history_start=start, now=now)

    stored = AttributionCredit.objects.all()
    assert not stored.filter(account_id=account_pk).exists()
    assert not stored.filter(opportunity_id=deal_pk).exists()
    assert not EngagementScore.objects.filter(account_id=account_pk).exists()
    assert not EngagementHistory.objects.filter(account_id=account_pk).exists()
    assert EngagementScore.objects.filter(account_id=kept).exists()
    assert (
        stored.filter(account_id=kept).count()
        == (
            (result.credits["account_id"] == kept) & (result.credits["opportunity_id"] != deal_pk)
        ).sum()
    )


# --- Incremental == full, over random sequences of changes ------------------------------------


def _log_activity(rng: random.Random, account: Account) -> None:
    kind = rng.choice(
        [("email", "email_click"), ("webinar", "webinar_attended"), ("event", "meeting")]
    )
    ActivityFactory(
        account=account,
        channel=kind[0],
        kind=kind[1],
        occurred_at=NOW - dt.timedelta(days=rng.uniform(0, 200)),
        cost=Decimal(rng.choice([0, 0, 25, 400])),
    )


def _delete_activity(rng: random.Random, account: Account) -> None:
    activity = Activity.objects.filter(account=account).order_by("?").first()
    if activity is not None:
        activity.delete()


def _open_deal(rng: random.Random, account: Account) -> None:
    OpportunityFactory(
        account=account,
        amount=Decimal(rng.randrange(5, 90) * 1000),
        created_at=NOW - dt.timedelta(days=rng.uniform(0, 120)),
    )


def _win_deal(rng: random.Random, account: Account) -> None:
    deal = Opportunity.objects.filter(account=account, closed_at__isnull=True).first()
    if deal is not None:
        Opportunity.objects.filter(pk=deal.pk).update(
            stage="closed_won", closed_at=max(deal.created_at, NOW - dt.timedelta(days=3))
        )


def _retier(rng: random.Random, account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(tier=rng.choice([None, 1, 2, 3]))


CHANGES = [_log_activity, _delete_activity, _open_deal, _win_deal, _retier]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    steps=st.lists(
        st.tuples(
            st.lists(
                st.tuples(st.integers(0, 11), st.sampled_from(CHANGES)), min_size=1, max_size=4
            ),
            st.integers(0, 10**6),
        ),
        min_size=1,
        max_size=4,
    ),
    per_batch=st.sampled_from([3, 500]),
)
@pytest.mark.django_db
def test_any_sequence_of_incremental_runs_ends_where_a_full_run_does(
    steps, per_batch, django_capture_on_commit_callbacks
):
    """Twelve accounts in four slots, computed in batches of about 3 accounts or all in one;
    each example is rolled back after it. Each run's commit callbacks run as a commit would run
    them, so runs use the frames the worker kept (metrics/engine/kept.py)."""
    kept.forget()
    with transaction.atomic(), override_settings(ABM_ENGINE_ACCOUNTS_PER_BATCH=per_batch):
        accounts = _twelve_accounts()
        with django_capture_on_commit_callbacks(execute=True):
            recompute_all(now=NOW, slots=4)
        for changes, seed in steps:
            rng = random.Random(seed)
            touched = set()
            for at, change in changes:
                change(rng, accounts[at])
                touched.add(accounts[at].pk)
            with django_capture_on_commit_callbacks(execute=True):
                recompute_changed(touched, now=NOW)
        incremental = stored_figures()
        recompute_all(now=NOW, slots=4)
        assert_same_figures(stored_figures(), incremental)
        transaction.set_rollback(True)


def _twelve_accounts() -> list[Account]:
    rng = random.Random(5)
    accounts = [AccountFactory(tier=[1, 2, None][n % 3]) for n in range(12)]
    for account in accounts:
        for _ in range(rng.randrange(2, 7)):
            _log_activity(rng, account)
        if rng.random() < 0.6:
            _open_deal(rng, account)
    return accounts


# --- Sharded over real workers ------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_sharded_over_workers_stores_what_one_process_does(celery_worker):
    seed_demo(accounts=60, seed=7, today=NOW.date())
    recompute_all(now=NOW)
    single = clean_run(slots=8)
    expected = stored_figures()
    for model in (AttributionCredit, MetricRollup, SlotRollupPack, EngineSlot):
        model.objects.all().delete()

    with transaction.atomic():
        run = recompute_enqueue(shards=4, slots=8, now=NOW)
    run = _wait_for(run)

    assert run.status == RunStatus.DONE, run.error
    assert sorted(run.result["shard_seconds"]) == ["0", "1", "2", "3"]
    assert run.result["credit_rows"] == single["credit_rows"] == AttributionCredit.objects.count()
    assert run.result["slots_computed"] == 8
    if connection.vendor == "postgresql":  # one process writes behind; shards write in turn
        assert single["seconds"]["write slot, alongside"] > 0
        for seconds in run.result["shard_seconds"].values():
            assert "write slot, alongside" not in seconds
            assert seconds["write slot"] > 0
    # The first run's stage changes queued task generation on the worker: the task rollup of a
    # later run counts those tasks too. Every other figure must agree.
    assert_same_figures(_without_tasks(stored_figures()), _without_tasks(expected))


def _without_tasks(figures: dict) -> dict:
    rollups = {key: v for key, v in figures["rollups"].items() if key[0] != "tasks"}
    return {**figures, "rollups": rollups}
