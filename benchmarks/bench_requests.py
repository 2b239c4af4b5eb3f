"""Server time of the requests that used to run work inline: log an activity, complete a task,
"Recompute now". Each must only write, queue and return (goal < 300 ms at 10k accounts).

    .venv/bin/python -m benchmarks.bench_requests --runs 15                       # embedded default
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_bench \\
        REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python -m benchmarks.bench_requests

Seed first (`manage.py seed_demo --accounts 10000`). Requests go through Django's test client in
this process against the configured broker (filesystem folder or Redis): no worker needs to run,
the messages simply wait in the queue. What the requests write is removed afterwards, and the
queued runs they made are marked failed so that a worker started later does not run them.
"""

import argparse
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
os.environ.setdefault("ABM_DEV", "1")  # development settings, as before issue 17
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from abm.celery import app  # noqa: E402
from abm.models import Job, RunStatus, User  # noqa: E402
from accounts.models import Account  # noqa: E402
from playbooks.models import Activity, Task, TaskStatus  # noqa: E402


def timed(call, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        response = call(i)
        times.append((time.perf_counter() - started) * 1000)
        # Each view redirects after it wrote and queued; a 200 would be a form with an error.
        assert response.status_code == 302, (response.status_code, response.content[:500])
    return times


def log_activity(client: Client, account: Account):
    def call(i: int):
        return client.post(
            f"/accounts/{account.pk}/log/",
            {
                "kind": "meeting",
                "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "duration_minutes": "30",
                "notes": f"bench {i}",
            },
        )

    return call


def complete_task(client: Client, tasks: list[Task]):
    def call(i: int):
        return client.post(f"/playbooks/tasks/{tasks[i].pk}/complete/", {"notes": "bench"})

    return call


def recompute_now(client: Client):
    def call(i: int):
        # One run at a time may be queued: fail the previous one so each request queues anew.
        Job.objects.filter(status=RunStatus.QUEUED).update(status=RunStatus.FAILED)
        return client.post("/metrics/recompute/")

    return call


def report(name: str, times: list[float]) -> None:
    print(
        f"{name:<16} median {statistics.median(times):7.1f} ms   "
        f"p90 {sorted(times)[int(len(times) * 0.9) - 1]:7.1f} ms   max {max(times):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if app.conf.task_always_eager:
        raise SystemExit("tasks are eager here: this measures the queueing modes only")
    started_at = timezone.now()
    runs_before = set(Job.objects.values_list("pk", flat=True))
    print(
        f"{Account.objects.count():,} accounts on {connection.vendor}, broker "
        f"{settings.CELERY_BROKER_URL.split('://')[0]}; {args.runs} requests each, server time"
    )
    marketer = User.objects.get(username="marketer")
    client = Client()
    client.force_login(marketer)
    account = Account.objects.order_by("-engagement_score").first()
    tasks = list(
        Task.objects.filter(assignee=marketer, status=TaskStatus.OPEN).order_by("due_at")[
            : args.runs + 1
        ]
    )
    try:
        report("log activity", timed(log_activity(client, account), args.runs))
        if len(tasks) > args.runs:
            client.post(f"/playbooks/tasks/{tasks[-1].pk}/complete/")  # warm up
            report("complete task", timed(complete_task(client, tasks), args.runs))
        else:
            print(f"complete task    skipped: the marketer has {len(tasks)} open tasks")
        report("recompute now", timed(recompute_now(client), args.runs))
    finally:
        # Leave the database as it was: the bench's activities, completions and runs go.
        Activity.objects.filter(notes__startswith="bench", created_at__gte=started_at).delete()
        Activity.objects.filter(external_id__in=[f"task-{t.pk}" for t in tasks]).delete()
        Task.objects.filter(pk__in=[t.pk for t in tasks]).update(
            status=TaskStatus.OPEN, completed_at=None, completed_by=None
        )
        Job.objects.exclude(pk__in=runs_before).filter(
            status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
        ).update(status=RunStatus.FAILED, error="benchmark request, not run")


if __name__ == "__main__":
    main()
