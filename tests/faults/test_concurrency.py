"""Concurrency (issue #17): deletes, edits and imports hammer the same accounts while recomputes
run on two real workers. No request answers 5xx, no run fails, and the figures then equal a clean
run's.

The race it guards: a run loads a slot, a user deletes one of its accounts or deals, the run
writes the slot. Before, the run failed on the foreign key ("Key (account_id)=(316) is not
present"), or the delete did ("still referenced from metrics_engagementscore").
"""

import itertools
import threading
import time
from collections import Counter

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from abm.models import Job, Role, RunStatus
from accounts.models import Account, Opportunity
from ingestion.import_jobs import import_job_create, import_job_enqueue, import_job_file
from metrics.engine.runner import recompute_enqueue
from metrics.models import BudgetLine
from tests.conftest import make_user
from tests.faults.harness import wait_until
from tests.faults.results import (
    assert_no_duplicate_results,
    assert_same_totals,
    clean_run_totals,
    metric_totals,
    seeded_without_results,
    wait_finished,
)

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

HAMMER_SECONDS = 20
SLOTS = 4


class Hammer:
    """Threads that send requests until the deadline, counting every answer by status code."""

    def __init__(self, user, seconds: float):
        self.user = user
        self.deadline = time.monotonic() + seconds
        self.statuses: Counter = Counter()
        self.failures: list[str] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def start(self, work, pause: float) -> None:
        def loop():
            client = APIClient()
            client.force_authenticate(self.user)
            try:
                for n in itertools.count():
                    if not self.running():
                        break
                    self.record(work(client, n))
                    time.sleep(pause)
            except Exception as exc:  # a crash of the test's own thread: report, don't hang
                self.failures.append(f"{work.__name__}: {type(exc).__name__}: {exc}")
            finally:
                connection.close()  # this thread's database session

        thread = threading.Thread(target=loop, name=work.__name__, daemon=True)
        self.threads.append(thread)
        thread.start()

    def record(self, responses) -> None:
        for response in responses:
            with self.lock:
                self.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    self.failures.append(
                        f"{response.status_code} {response.request['REQUEST_METHOD']} "
                        f"{response.request['PATH_INFO']}: {response.content[:300]!r}"
                    )

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=120)


def test_deletes_edits_and_imports_during_runs_fail_no_request_and_no_run(
    workers, settings, tmp_path
):
    # Every change queues its incremental run at once, so runs overlap the hammering.
    settings.ABM_RECOMPUTE_DEBOUNCE_SECONDS = 0
    seeded_without_results(accounts=200)
    marketer = make_user("hammer", Role.MARKETER)
    workers.start()
    workers.start()
    accounts = list(Account.objects.order_by("pk").values_list("pk", "domain"))
    doomed = [pk for pk, _ in accounts[::5]]  # 40 accounts deleted one by one
    domains = [domain for _, domain in accounts]
    deals = list(Opportunity.objects.filter(account_id__in=doomed).values_list("pk", flat=True))
    budget = list(BudgetLine.objects.values_list("pk", flat=True)[:5])
    assert deals, "the seeded demo has deals to edit"
    assert budget, "the seeded demo has budget lines to edit"

    hammer = Hammer(marketer, HAMMER_SECONDS)

    def delete_accounts(client, n):
        return [client.delete(f"/api/accounts/{doomed[n % len(doomed)]}/")]

    def edit_accounts_deals_and_spend(client, n):
        account = accounts[(n * 7) % len(accounts)][0]
        return [
            client.patch(f"/api/accounts/{account}/", {"employees": 100 + n}, format="json"),
            client.patch(
                f"/api/opportunities/{deals[n % len(deals)]}/",
                {"amount": str(10_000 + n)},
                format="json",
            ),
            client.patch(
                f"/api/spend/{budget[n % len(budget)]}/", {"amount": str(500 + n)}, format="json"
            ),
        ]

    def ingest_activities(client, n):
        items = [
            {
                "external_id": f"hammer-{n}-{k}",
                "account": domains[(n * 11 + k * 5) % len(domains)],
                "channel": "email",
                "kind": "email_click",
                "occurred_at": "2026-11-20T09:30:00Z",
            }
            for k in range(20)
        ]
        return [client.post("/api/activities/batch/", {"activities": items}, format="json")]

    hammer.start(delete_accounts, pause=0.4)
    hammer.start(edit_accounts_deals_and_spend, pause=0.2)
    hammer.start(ingest_activities, pause=0.6)

    # This thread: full runs, in one process and sharded, and CSV imports on the workers.
    imports = []
    for n in itertools.count():
        if not hammer.running():
            break
        with transaction.atomic():
            recompute_enqueue(slots=SLOTS, shards=2 if n % 2 else None)
        path = tmp_path / f"import-{n}.csv"
        path.write_text(
            "external_id,account_domain,channel,kind,occurred_at\n"
            + "".join(
                f"csv-{n}-{k},{domains[(n * 13 + k) % len(domains)]},webinar,webinar_attended,"
                "2026-11-21 10:00\n"
                for k in range(50)
            )
        )
        with path.open("rb") as upload:
            job = import_job_create(kind="activities", upload=upload, name=path.name, by=marketer)
        imports.append(job)
        with transaction.atomic():
            import_job_enqueue(job=job, by=marketer)
        time.sleep(2)
    hammer.join()

    try:
        unfinished = Job.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
        wait_until(lambda: not unfinished.exists(), timeout=240, what="every run to finish")
        assert not hammer.failures, "\n".join(hammer.failures[:10])
        assert hammer.statuses[204] > 0, hammer.statuses  # accounts were deleted meanwhile
        failed = Job.objects.filter(status=RunStatus.FAILED)
        assert not failed.exists(), [(job.kind, job.error) for job in failed]
        assert Job.objects.filter(status=RunStatus.DONE).count() > 10

        # The last state, recomputed once more on a worker, equals the same run undisturbed.
        with transaction.atomic():
            final = recompute_enqueue(slots=SLOTS)
        wait_finished(final, timeout=120)
        # A run that moved accounts (whether they move between the demo's last simulated day and
        # now depends on the hour) queues the tasks due now as it ends, and those count in the
        # next run's rollups: once they are in, the same run again.
        time.sleep(1)
        wait_until(lambda: not unfinished.exists(), timeout=120, what="the final run's tasks")
        with transaction.atomic():
            final = recompute_enqueue(slots=SLOTS)
        wait_finished(final, timeout=120)
        assert_no_duplicate_results()
        assert_same_totals(metric_totals(), clean_run_totals(final.result["as_of"], slots=SLOTS))
    finally:
        for job in imports:
            import_job_file(job).unlink(missing_ok=True)
