"""Server time and query count of the pages people use most, on whatever DATABASE_URL points at.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_bench \\
        .venv/bin/python -m benchmarks.bench_pages --runs 20

Seed first (`manage.py seed_demo --accounts 10000`). Requests go through Django's test client in
this process, so the figures are server time without network or browser.
"""

import argparse
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
os.environ.setdefault("ABM_DEV", "1")  # development settings, as before issue 17
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from abm.models import User  # noqa: E402
from accounts.models import Account  # noqa: E402


def pages_for(user: User) -> list[str]:
    own = Account.objects.filter(owner=user).order_by("-engagement_score").first()
    any_account = own or Account.objects.order_by("-engagement_score").first()
    return [
        "/accounts/",
        "/accounts/?tier=1&sort=-fit",
        "/accounts/?q=health&page=2",
        f"/accounts/{any_account.pk}/",
        f"/accounts/{any_account.pk}/timeline.json",
        "/playbooks/tasks/",
        "/metrics/",
    ]


def measure(client: Client, path: str, runs: int) -> tuple[float, float, int, int]:
    client.get(path)  # warm caches and connections
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), len(queries), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--users", nargs="*", default=["marketer", "rep1", "director"])
    args = parser.parse_args()
    print(
        f"{Account.objects.count():,} accounts on {connection.vendor}; "
        f"median of {args.runs} requests per page"
    )
    print(f"{'user':<10} {'page':<40} {'median ms':>10} {'max ms':>8} {'queries':>8} {'status':>7}")
    for username in args.users:
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        for path in pages_for(user):
            median, worst, queries, status = measure(client, path, args.runs)
            print(
                f"{username:<10} {path:<40} {median:>10.1f} {worst:>8.1f} {queries:>8} {status:>7}"
            )


if __name__ == "__main__":
    main()
