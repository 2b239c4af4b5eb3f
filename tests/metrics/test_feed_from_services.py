"""Every service that changes what the engine reads announces it: the next incremental run then
stores what a full run does, with no help from the test."""

import datetime as dt
import random

import pytest

from abm.change_feed import changes_consumed
from accounts.assignment import account_assign
from accounts.models import Account
from accounts.tiering import accounts_set_tier
from metrics.engine.runner import recompute_all, recompute_changed
from playbooks.building import step_remove, step_update
from playbooks.enrolment import enrol_accounts, unenrol
from playbooks.models import Enrolment
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    PlaybookFactory,
    StageFactory,
    StepFactory,
)
from tests.metrics.engine_snapshot import assert_same_figures, stored_figures
from tests.metrics.test_slots import _log_activity, _open_deal, _win_deal

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def worked(db, alice, bob):
    """Twelve accounts with touches and deals, some enrolled, computed by a full run."""
    rng = random.Random(7)
    accounts = [
        AccountFactory(tier=[1, 2, None][n % 3], owner=[alice, bob][n % 2]) for n in range(12)
    ]
    for account in accounts:
        for _ in range(rng.randrange(2, 7)):
            _log_activity(rng, account)
        if rng.random() < 0.6:
            _open_deal(rng, account)
            if rng.random() < 0.5:
                _win_deal(rng, account)
    playbook = PlaybookFactory(status="active", holdout_share=0)
    StageFactory(playbook=playbook, order=0, name="Find")
    enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts[:4]], seed=1, now=NOW)
    recompute_all(now=NOW, slots=4)
    with changes_consumed():
        pass  # the set-up's own announcements are what the full run above already read
    return accounts, playbook


def _incremental_then_full() -> tuple[dict, dict]:
    with changes_consumed() as changes:
        assert changes.account_ids, "the service announced nothing"
        recompute_changed(changes.account_ids, now=NOW)
    incremental = stored_figures()
    recompute_all(now=NOW, slots=4)
    return incremental, stored_figures()


def test_a_tier_change_reaches_the_next_incremental_run(worked, maria):
    accounts, _ = worked
    moved = Account.objects.filter(pk__in=[accounts[0].pk, accounts[2].pk, accounts[7].pk])

    accounts_set_tier(accounts=moved, tier=3, by=maria)

    incremental, full = _incremental_then_full()
    assert_same_figures(full, incremental)


def test_an_owner_change_reaches_the_next_incremental_run(worked, diana, bob):
    accounts, _ = worked

    account_assign(accounts=[accounts[0], accounts[3], accounts[4]], owner=bob, by=diana)

    incremental, full = _incremental_then_full()
    assert_same_figures(full, incremental)


def test_enrolling_and_leaving_a_playbook_reach_the_next_incremental_run(worked, maria):
    accounts, playbook = worked

    enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts[4:9]], seed=2, now=NOW)
    unenrol(enrolment=Enrolment.objects.get(playbook=playbook, account=accounts[0]))

    incremental, full = _incremental_then_full()
    assert_same_figures(full, incremental)


def test_a_step_handed_to_sales_and_a_step_removed_reach_the_next_incremental_run(worked, maria):
    accounts, playbook = worked
    stage = playbook.stages.get()
    steps = [StepFactory(stage=stage, channel="email", owner_role="marketing") for _ in range(2)]
    for n, account in enumerate(accounts[:6]):
        ActivityFactory(
            account=account, step=steps[n % 2], channel="email", occurred_at=NOW - dt.timedelta(5)
        )
    recompute_all(now=NOW, slots=4)
    with changes_consumed():
        pass

    step_update(step=steps[0], by=maria, owner_role="sales")
    step_remove(step=steps[1], by=maria)

    incremental, full = _incremental_then_full()
    assert_same_figures(full, incremental)
