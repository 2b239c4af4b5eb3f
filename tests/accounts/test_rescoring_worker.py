"""The ICP re-score job, end to end through a real Celery worker and Redis."""

import time
from decimal import Decimal

import pytest
from django.db import transaction

from abm.models import Job, RunKind, RunStatus
from accounts.models import ICP, Account
from accounts.rescoring import icp_rescore_enqueue
from tests.factories import AccountFactory


def _wait_for(run: Job, seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (RunStatus.DONE, RunStatus.FAILED):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status} after {seconds}s")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_rescores_every_account_from_the_active_icp(celery_worker, maria):
    ICP.objects.create(
        name="Mid-market software",
        industries=["Software"],
        industries_weight=1,
        employees_min=100,
        employees_max=1000,
        employees_weight=1,
        revenue_min=Decimal("10000000"),
        revenue_max=Decimal("100000000"),
        revenue_weight=1,
        countries=["Germany"],
        countries_weight=1,
    )
    perfect = AccountFactory(
        industry="Software", employees=500, annual_revenue=Decimal("50000000"), country="Germany"
    )
    # Wrong industry (0), employees at 75 = halfway between 50 and 100 (0.5), revenue at
    # double the upper bound (0), right country (1): 100 * 1.5 / 4 = 37.5.
    partial = AccountFactory(
        industry="Retail", employees=75, annual_revenue=Decimal("200000000"), country="Germany"
    )

    with transaction.atomic():
        run = icp_rescore_enqueue(by=maria)
    run = _wait_for(run)

    assert run.status == RunStatus.DONE, run.error
    assert run.percent == 100
    assert run.result["accounts"] == 2
    assert Account.objects.get(pk=perfect.pk).fit_score == 100
    partial.refresh_from_db()
    assert partial.fit_score == 37.5
    assert {row["criterion"]: row["match"] for row in partial.fit_breakdown} == {
        "industry": 0.0,
        "employees": 0.5,
        "annual_revenue": 0.0,
        "country": 1.0,
    }


@pytest.mark.django_db
def test_a_redelivered_finished_run_does_nothing(maria):
    from accounts.tasks import rescore_fit

    account = AccountFactory(industry="Software")
    ICP.objects.create(name="Software", industries=["Software"], industries_weight=1)
    run = Job.objects.create(kind=RunKind.ICP_RESCORE, requested_by=maria)
    rescore_fit.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    Account.objects.filter(pk=account.pk).update(fit_score=1)

    assert rescore_fit.apply(args=[run.pk]).get() is None

    account.refresh_from_db()
    assert account.fit_score == 1
