"""Fault tests (issue #9): kill workers, restart Redis, drop database sessions, enqueue while Redis
is down; the runs complete and the data is as after a clean run.

Run them alone with ``pytest -m fault``; they need PostgreSQL and REDIS_URL (see conftest.py).
"""

import datetime as dt
import random
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, Sum
from django.test import Client
from django.urls import reverse

from abm.job_sending import sweep_unsent_runs
from abm.models import Job, Role, RunKind, RunStatus
from accounts.models import Account
from accounts.rescoring import icp_rescore_enqueue
from demo.seeding import seed_demo
from ingestion.import_jobs import import_job_create, import_job_enqueue, import_job_file
from ingestion.models import ImportJob
from metrics.engine.runner import recompute_enqueue
from metrics.models import (
    AttributionCredit,
    MetricRollup,
)
from playbooks.models import Activity
from tests.conftest import make_user
from tests.faults.harness import VISIBILITY_TIMEOUT, terminate_other_backends, wait_until
from tests.faults.results import (
    assert_no_duplicate_results,
    assert_same_totals,
    clean_run_totals,
    duplicates,
    metric_totals,
    refreshed,
    seeded_without_results,
    stored_by_slot,
    wait_finished,
    wait_for_redelivery,
)

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_during_a_full_recompute_is_replaced_and_the_run_completes(workers):
    seeded_without_results(accounts=300)
    first = workers.start()
    with transaction.atomic():
        run = recompute_enqueue()

    # Killed once it has loaded everything: while computing, or inside its write transaction.
    wait_until(
        lambda: refreshed(run).status == RunStatus.RUNNING and run.percent >= 26,
        timeout=30,
        what="the recompute to start computing",
        every=0.01,
    )
    first.kill()
    assert refreshed(run).status == RunStatus.RUNNING, "the run finished before the kill"
    assert (AttributionCredit.objects.count(), MetricRollup.objects.count()) == (0, 0)

    wait_for_redelivery(run)
    workers.start()
    wait_finished(run)

    assert run.result["credit_rows"] == AttributionCredit.objects.count() > 0
    assert run.result["rollup_rows"] == MetricRollup.objects.count() > 0
    assert_no_duplicate_results()
    assert_same_totals(metric_totals(), clean_run_totals(run.result["as_of"]))


def test_a_worker_killed_mid_shard_leaves_no_partial_slot_and_the_run_completes(workers):
    seeded_without_results(accounts=300)
    first = workers.start()
    workers.start()
    with transaction.atomic():
        run = recompute_enqueue(shards=4, slots=8)

    # Killed once a shard has ended: the first worker is then inside its next one.
    wait_until(
        lambda: refreshed(run).result.get("shards"),
        timeout=60,
        what="a shard of the run to end",
        every=0.01,
    )
    first.kill()
    assert refreshed(run).status == RunStatus.RUNNING, "the run finished before the kill"
    # Each slot is stored whole or not at all.
    for slot, (stored, rollups, credits) in stored_by_slot(8).items():
        assert rollups == stored, slot
        assert credits <= stored, slot
    assert not MetricRollup.objects.exists()  # the finish has not run

    # Redis hands the killed worker's unacknowledged shard to the next worker that connects
    # once the visibility timeout has passed since it was delivered.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    workers.start()
    wait_finished(run, timeout=120)

    assert run.result["slots_computed"] == 8
    assert run.result["credit_rows"] == AttributionCredit.objects.count() > 0
    assert_no_duplicate_results()
    assert_same_totals(metric_totals(), clean_run_totals(run.result["as_of"], slots=8))


def write_activities_csv(path, *, rows: int, domains: list[str]) -> dict:
    """A CSV of `rows` activities; returns what a complete import must store."""
    rng = random.Random(9)
    kinds = [("email", "email_click"), ("webinar", "webinar_attended"), ("events", "meeting")]
    expected = {"cost": Decimal(0), "kinds": {}}
    with path.open("w", encoding="utf-8") as out:
        out.write("external_id,account_domain,channel,kind,occurred_at,cost\n")
        for n in range(rows):
            channel, kind = kinds[n % len(kinds)]
            cost = Decimal(rng.randrange(0, 50_000)) / 100 if n % 4 == 0 else Decimal(0)
            day, minute = rng.randrange(1, 29), rng.randrange(24 * 60)
            out.write(
                f"fault-{n},{domains[n % len(domains)]},{channel},{kind},"
                f"2025-03-{day:02d} {minute // 60:02d}:{minute % 60:02d},{cost}\n"
            )
            expected["cost"] += cost
            expected["kinds"][kind] = expected["kinds"].get(kind, 0) + 1
    return expected


def test_a_worker_killed_during_a_100k_row_import_is_replaced_and_nothing_is_doubled(
    workers, tmp_path
):
    maria = make_user("maria", Role.MARKETER)
    accounts = Account.objects.bulk_create(
        Account(name=f"Company {n}", domain=f"company{n}.fault.example") for n in range(200)
    )
    expected = write_activities_csv(
        tmp_path / "activities.csv", rows=100_000, domains=[a.domain for a in accounts]
    )
    with (tmp_path / "activities.csv").open("rb") as upload:
        job = import_job_create(kind="activities", upload=upload, name="activities.csv", by=maria)
    first = workers.start()
    try:
        with transaction.atomic():
            run = import_job_enqueue(job=job, by=maria)

        # Killed while it reads, validates and writes (about 8 s for 100k rows). On PostgreSQL
        # the rows go in with one COPY and one upsert statement: none or all of them commit.
        wait_until(
            lambda: refreshed(run).status == RunStatus.RUNNING,
            timeout=60,
            what="the import to start",
        )
        time.sleep(1.5)
        first.kill()
        assert refreshed(run).status == RunStatus.RUNNING, "the import finished before the kill"
        committed = Activity.objects.count()
        assert committed in (0, 100_000)

        wait_for_redelivery(run)
        workers.start()
        wait_finished(run, timeout=90)

        stored = Activity.objects.filter(source="import")
        assert stored.count() == Activity.objects.count() == 100_000
        assert duplicates(stored, "source", "external_id") == 0
        assert stored.aggregate(t=Sum("cost"))["t"] == expected["cost"]
        by_kind = dict(stored.values_list("kind").annotate(n=Count("pk")))
        assert by_kind == expected["kinds"]
        job = ImportJob.objects.get(pk=job.pk)
        # The second delivery found what the first had committed unchanged, and wrote the rest.
        assert (job.created, job.unchanged, job.rejected) == (
            100_000 - committed,
            committed,
            0,
        )
    finally:
        import_job_file(job).unlink(missing_ok=True)


def test_runs_queued_when_redis_restarts_are_sent_again_and_complete(workers, own_redis):
    seed_demo(accounts=20, seed=5)
    maria = make_user("maria", Role.MARKETER)
    with transaction.atomic():
        runs = [recompute_enqueue(by=maria), icp_rescore_enqueue(by=maria)]
    with transaction.atomic():
        runs.append(icp_rescore_enqueue(by=maria))
    assert all(refreshed(run).sent_at for run in runs)
    assert own_redis.queued() == 3

    # No persistence (--save ""): the restart loses the three queued messages.
    own_redis.stop()
    own_redis.start()
    assert own_redis.queued() == 0
    worker = workers.start()

    assert sweep_unsent_runs(resend_after=dt.timedelta(0))["sent"] == [run.pk for run in runs]
    for run in runs:
        wait_finished(run)

    # A worker connected through a restart reconnects and takes what is sent afterwards.
    own_redis.stop()
    own_redis.start()
    with transaction.atomic():
        late = icp_rescore_enqueue(by=maria)
    wait_finished(late, timeout=60)
    assert worker.process.poll() is None
    mine = [run.pk for run in [*runs, late]]
    assert Job.objects.filter(pk__in=mine, status=RunStatus.DONE).count() == 4
    # Besides them at most the task generation a full run queues when accounts changed stage
    # (whether the demo's accounts move between its last simulated day and now depends on the
    # hour the test runs).
    others = Job.objects.exclude(pk__in=mine)
    assert set(others.values_list("kind", flat=True)) <= {RunKind.TASKS}


def test_a_recompute_whose_database_sessions_are_terminated_retries_and_completes(workers):
    seeded_without_results(accounts=300)
    workers.start()
    with transaction.atomic():
        run = recompute_enqueue()

    wait_until(
        lambda: refreshed(run).status == RunStatus.RUNNING and run.percent >= 2,
        timeout=30,
        what="the recompute to start",
        every=0.01,
    )
    assert terminate_other_backends() >= 1
    wait_finished(run)

    assert "Retry in" in workers.logs  # autoretry_for=TRANSIENT_ERRORS, on a new session
    assert run.result["credit_rows"] == AttributionCredit.objects.count() > 0
    assert_no_duplicate_results()
    assert_same_totals(metric_totals(), clean_run_totals(run.result["as_of"]))


def test_a_recompute_asked_for_while_redis_is_down_is_kept_and_sent_once_redis_is_back(
    workers, own_redis
):
    seed_demo(accounts=20, seed=5)
    maria = make_user("maria", Role.MARKETER)
    client = Client()
    client.force_login(maria)
    own_redis.stop()

    started = time.monotonic()
    response = client.post(reverse("metrics:recompute"))

    assert response.status_code == 302
    assert time.monotonic() - started < 10  # kombu's publish retries, then the answer
    run = Job.objects.get(kind=RunKind.FULL, requested_by=maria)
    assert (run.status, run.sent_at, run.send_attempts) == (RunStatus.QUEUED, None, 1)
    assert run.last_send_error
    # Still down: the sweeper tries, fails and keeps the run for its next turn.
    assert sweep_unsent_runs(unsent_grace=dt.timedelta(0)) == {"due": 1, "sent": []}

    own_redis.start()
    assert sweep_unsent_runs(unsent_grace=dt.timedelta(0)) == {"due": 1, "sent": [run.pk]}
    assert sweep_unsent_runs(unsent_grace=dt.timedelta(0)) == {"due": 0, "sent": []}
    assert own_redis.queued() == 1
    workers.start()
    wait_finished(run)

    assert refreshed(run).send_attempts == 3
    assert Job.objects.filter(kind=RunKind.FULL).count() == 1
    # The worker logs "succeeded" after the run is marked done: wait for the line, then count.
    wait_until(lambda: "succeeded" in workers.logs, timeout=10, what="the task's last log line")
    assert workers.logs.count("Task metrics.recompute_all[") == 2  # received, succeeded
