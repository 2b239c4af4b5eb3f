"""Server time and query count of the three dashboards (with filters and CSV exports).

Besides the wall-clock median, the medians of this process's CPU time and of the database's
time (the queries' wall time): on a shared, loaded machine the wall clock swings by half, and the
split tells Python work from database work.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_bench \\
        .venv/bin/python -m benchmarks.bench_dashboards --runs 15

Seed first (`manage.py seed_demo --accounts 10000`; it computes the metrics). The dashboards
read the stored rollups, so their time and query count should not grow with the data.
"built ms" is the median of first looks with nothing kept: the ROI dashboard builds its figures
then, and keeps them for the looks the other columns time. "after run ms", for the ROI
dashboard's views: the first look after a run, once the worker built its figures and their
panels' HTML (dashboards/figure_warming.py: the default view, those one filter away, and those
opened lately, as these were); "warm s" is how long the worker took to
build all of them.
"""

import argparse
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
os.environ.setdefault("ABM_DEV", "1")  # development settings, as before issue 17
django.setup()

from django.core.cache import caches  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from abm.models import User  # noqa: E402
from accounts.models import Account  # noqa: E402
from dashboards.figure_cache import remember_looked_at  # noqa: E402
from dashboards.figure_warming import views_to_warm, warm_director_figures  # noqa: E402
from dashboards.filters import parse_filters  # noqa: E402
from playbooks.models import Playbook  # noqa: E402

PAGES = {
    "director": [
        "/metrics/director/",
        "/metrics/director/?tier=1",
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
    print(
        f"{'user':<9} {'page':<58} {'built ms':>9} {'after run ms':>13} {'median ms':>10} {'max ms':>8} {'cpu ms':>7} {'sql ms':>7} "
        f"{'queries':>8} {'status':>7} {'warm s (views)':>15}"
    )
    for username, paths in PAGES.items():
        client, user = Client(), User.objects.get(username=username)
        client.force_login(user)
        for path in paths:
            path = path.format(playbook=playbook)
            m = measure(client, user, path, args.runs)
            print(
                f"{username:<9} {path:<58} {m['cold']:>9.1f} {m['after_run']:>13} {m['median']:>10.1f} {m['max']:>8.1f} {m['cpu']:>7.1f} "
                f"{m['sql']:>7.1f} {m['queries']:>8} {m['status']:>7} {m['warming']:>15}"
            )


def measure(client: Client, user, path: str, runs: int) -> dict:
    client.get(path)  # warm connections
    # A first look with nothing kept: the figures are built (the ROI dashboard then keeps them).
    colds, after_run, warming = [], [], []
    for _ in range(max(3, runs // 3)):
        forget_kept()
        wall = time.perf_counter()
        client.get(path)
        colds.append((time.perf_counter() - wall) * 1000)
    if path.startswith("/metrics/director/") and "export=" not in path:
        query = QueryDict(path.partition("?")[2])
        for _ in range(max(3, runs // 3)):
            forget_kept()
            remember_looked_at(user, parse_filters(query, user=user))  # opened before the run
            wall = time.perf_counter()
            warm_director_figures()
            warming.append(time.perf_counter() - wall)
            caches["default"].clear()  # nothing this process kept
            wall = time.perf_counter()
            client.get(path)
            after_run.append((time.perf_counter() - wall) * 1000)
    walls, cpus, sqls = [], [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        sqls.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    return {
        "cold": statistics.median(colds),
        "after_run": f"{statistics.median(after_run):.1f}" if after_run else "-",
        "warming": f"{statistics.median(warming):.2f} ({len(views_to_warm())})" if warming else "-",
        "median": statistics.median(walls),
        "max": max(walls),
        "cpu": statistics.median(cpus),
        "sql": statistics.median(sqls),
        "queries": len(queries),
        "status": response.status_code,
    }


def forget_kept() -> None:
    caches["figures"].clear()
    caches["default"].clear()


if __name__ == "__main__":
    main()
