"""The recompute end to end on a real Celery worker and Redis, checked against direct SQL."""

import datetime as dt
import time

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Sum

from abm.change_feed import announce_change
from abm.models import Job, RunKind, RunStatus
from accounts.models import Account, Opportunity
from demo.seeding import seed_demo
from metrics.engine.runner import recompute_enqueue
from metrics.models import AttributionCredit, BudgetLine, MetricRollup, credit_rows_of
from metrics.tasks import recompute_all_task
from playbooks.models import Activity
from tests.factories import ActivityFactory


def _wait_for(run: Job, seconds: float = 120) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (RunStatus.DONE, RunStatus.FAILED):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status} after {seconds}s")


def _credited_deals_by_direct_sql(as_of: dt.datetime) -> set[int]:
    """Deals created by as_of with >= 1 touch in the 180 days before, under the default touch
    rules: a kind worth >= 1 point, or direct mail, an email or a LinkedIn message done by a
    playbook step with a cost."""
    scoring = [k for k, w in settings.ABM_ENGAGEMENT_POINTS.items() if w >= 1]
    one_to_one = ["direct_mail_sent", "email_sent", "linkedin_message"]
    window = dt.timedelta(days=settings.ABM_ATTRIBUTION_WINDOW_DAYS)
    touched = Activity.objects.filter(
        Q(kind__in=scoring) | Q(kind__in=one_to_one, step__isnull=False, cost__gt=0),
        account=OuterRef("account"),
        occurred_at__gte=OuterRef("created_at") - window,
        occurred_at__lte=OuterRef("created_at"),
    )
    deals = Opportunity.objects.filter(Exists(touched), created_at__lte=as_of)
    return set(deals.values_list("pk", flat=True))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_recomputes_a_seeded_dataset_and_the_totals_agree(celery_worker):
    seed_demo(accounts=60, seed=7)
    # The seeder recomputes too: start from no results. The credit digests it left no longer
    # match the (empty) credit table, so the run must notice and rewrite every credit.
    AttributionCredit.objects.all().delete()
    MetricRollup.objects.all().delete()

    with transaction.atomic():
        run = recompute_enqueue()
    run = _wait_for(run)

    assert run.status == RunStatus.DONE, run.error
    assert (run.percent, run.phase) == (100, "done")
    as_of = dt.datetime.fromisoformat(run.result["as_of"])
    assert run.result["credit_rows"] == AttributionCredit.objects.count() > 0

    expected = _credited_deals_by_direct_sql(as_of)
    for model in AttributionCredit._meta.get_field("model").choices:
        credits = credit_rows_of(model[0]).filter(kind="pipeline")
        per_deal = credits.values("opportunity").annotate(
            total=Sum("credit"), amount=F("opportunity__amount")
        )
        # Every deal with a touch, and only those, gets credit summing to its amount.
        assert {row["opportunity"] for row in per_deal} == expected, model
        for row in per_deal:
            assert float(row["total"]) == pytest.approx(float(row["amount"]), abs=0.01), model
        rolled = MetricRollup.objects.filter(metric="credit", model=model[0], kind="pipeline")
        assert rolled.aggregate(t=Sum("value"))["t"] == pytest.approx(
            float(credits.aggregate(t=Sum("credit"))["t"])
        )

    spend = MetricRollup.objects.filter(metric="spend").aggregate(t=Sum("value"))["t"]
    costs = Activity.objects.filter(occurred_at__lte=as_of).aggregate(t=Sum("cost"))["t"]
    budget = BudgetLine.objects.aggregate(t=Sum("amount"))["t"]
    assert spend == pytest.approx(float(costs + budget))
    deals = MetricRollup.objects.filter(metric="opportunities").aggregate(t=Sum("count"))["t"]
    assert deals == Opportunity.objects.filter(created_at__lte=as_of).count()
    funnel = MetricRollup.objects.filter(metric="accounts").aggregate(t=Sum("count"))["t"]
    assert funnel == Account.objects.count()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_died_is_delivered_again_and_completes(celery_worker):
    seed_demo(accounts=30, seed=3)
    run = Job.objects.create(kind=RunKind.FULL)
    # As a worker killed mid-run leaves it: claimed, half-way, never finished.
    Job.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, percent=45)

    recompute_all_task.delay(run.pk)  # the run row, not Celery's result store, has the outcome

    run = _wait_for(run)
    assert (run.status, run.percent) == (RunStatus.DONE, 100)
    assert AttributionCredit.objects.count() == run.result["credit_rows"]
    # A duplicate delivery of a finished run does nothing.
    assert recompute_all_task.apply(args=[run.pk]).get() is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_ingested_activities_makes_one_run_on_the_worker(celery_worker, settings):
    settings.ABM_RECOMPUTE_DEBOUNCE_SECONDS = 1
    seed_demo(accounts=20, seed=5)
    account = Account.objects.filter(tier=1).first()
    with transaction.atomic():
        for _ in range(25):
            ActivityFactory(account=account, channel="sdr_outreach", kind="meeting")
            announce_change(reason="activities ingested")

    runs = Job.objects.filter(kind=RunKind.INCREMENTAL)
    assert runs.count() == 1
    run = _wait_for(runs.get())
    assert run.status == RunStatus.DONE, run.error
    assert runs.count() == 1
    account.refresh_from_db()
    assert account.engagement_score > 0
