"""Server time and query count of the three dashboards (with filters and CSV exports).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_bench \\
        .venv/bin/python -m benchmarks.bench_dashboards --runs 15

Seed first (`manage.py seed_demo --accounts 10000`; it computes the metrics). The dashboards
read the stored rollups, so their time and query count should not grow with the data.
"""

import argparse
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from abm.models import User  # noqa: E402
from accounts.models import Account  # noqa: E402
from benchmarks.bench_pages import measure  # noqa: E402
from playbooks.models import Playbook  # noqa: E402

PAGES = {
    "director": [
        "/metrics/director/",
        "/metrics/director/?tier=1&model=markov",
        "/metrics/director/?preset=last_quarter&playbook={playbook}",
        "/metrics/director/?export=models_side_by_side",
    ],
    "marketer": [
        "/metrics/marketer/",
        "/metrics/marketer/?playbook={playbook}",
    ],
    "rep1": [
        "/metrics/sales/",
        "/metrics/sales/?tier=1&preset=this_year",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    playbook = Playbook.objects.order_by("pk").values_list("pk", flat=True).first() or 0
    print(
        f"{Account.objects.count():,} accounts on {connection.vendor}; "
        f"median of {args.runs} requests per page"
    )
    print(f"{'user':<9} {'page':<58} {'median ms':>10} {'max ms':>8} {'queries':>8} {'status':>7}")
    for username, paths in PAGES.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        for path in paths:
            path = path.format(playbook=playbook)
            median, worst, queries, status = measure(client, path, args.runs)
            print(
                f"{username:<9} {path:<58} {median:>10.1f} {worst:>8.1f} {queries:>8} {status:>7}"
            )


if __name__ == "__main__":
    main()
