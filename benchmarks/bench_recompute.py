"""Times the full recompute per phase against the configured database.

Run from the repository root on a seeded database, for example:

    psql -h 127.0.0.1 -U postgres -c 'create database abm_bench'
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_bench
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo --accounts 10000
    .venv/bin/python -m benchmarks.bench_recompute --passes 3

It overwrites the stored metric results, as every recompute does. Target: load + compute + write
under 10 s for 10 000 accounts (about 1M activities, 20k opportunities) on PostgreSQL. The first
pass also writes 90 days of engagement history; later passes continue it from the last day, as the
nightly run does, so the best of the later passes is the steady state. Every slot rewrites its
accounts' credits; the finish rewrites Markov's (benchmarks/bench_engine.py times workers and
incremental runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import time

GROUPS = {
    "load": ("load",),
    "compute": ("engagement", "stages", "attribution", "rollups"),
    "write": ("write slot", "write finish"),
    "finish": ("finish load", "finish compute", "analyze"),
}


def report(line: str = "") -> None:
    print(line)  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="skip VACUUM ANALYZE of the result tables between passes (outside the timings); "
        "it stands in for autovacuum, which some development servers turn off",
    )
    parser.add_argument("--slots", type=int, default=None, help="default: from the settings")
    parser.add_argument(
        "--days-between",
        type=float,
        default=1.0,
        help="each pass computes this many days after the previous one, as the nightly run "
        "does: scores decay, Markov's paths move and their credits are rewritten (default 1)",
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
    os.environ.setdefault("ABM_DEV", "1")  # development settings, as before issue 17
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from metrics.engine.runner import recompute_all

    report(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    runs, cpu_runs = [], []
    first_now = timezone.now()
    for number in range(1, args.passes + 1):
        now = first_now + dt.timedelta(days=args.days_between * (number - 1))
        start = time.perf_counter()
        result = recompute_all(now=now, slots=args.slots)
        wall = time.perf_counter() - start
        runs.append(result["seconds"])
        if number == 1:
            report(
                f"{result['accounts']:,} accounts, {result['activities']:,} activities, "
                f"{result['opportunities']:,} deals -> {result['credit_rows']:,} credit rows, "
                f"{result['rollup_rows']:,} rollups"
            )
        load = os.getloadavg()[0]
        cpu = sum(result["cpu_seconds"].values())
        report(
            f"pass {number}: {wall:6.2f} s wall, {cpu:5.2f} s CPU, "
            f"{result['slots']} slots (load average {load:.1f})"
        )
        cpu_runs.append(result["cpu_seconds"])
        if connection.vendor == "postgresql" and not args.no_vacuum:
            _vacuum(connection)

    phases = list(runs[0])
    steady = runs[1:] or runs
    report()
    steady_cpu = cpu_runs[1:] or cpu_runs
    report(
        f"{'phase':<18} {'first':>8} {'best':>8} {'median':>8} {'cpu':>8}"
        "   (wall seconds; best, median and median CPU of the later passes)"
    )
    for group, members in GROUPS.items():
        for name in (p for p in phases if p in members):
            values = [r[name] for r in steady]
            cpu = statistics.median(r[name] for r in steady_cpu)
            report(
                f"  {name:<16} {runs[0][name]:8.2f} {min(values):8.2f} "
                f"{statistics.median(values):8.2f} {cpu:8.2f}"
            )
        totals = [sum(r.get(p, 0.0) for p in members) for r in steady]
        first = sum(runs[0].get(p, 0.0) for p in members)
        report(f"{group:<18} {first:8.2f} {min(totals):8.2f} {statistics.median(totals):8.2f}")
    totals = [sum(r.values()) for r in steady]
    report(
        f"{'total':<18} {sum(runs[0].values()):8.2f} {min(totals):8.2f} "
        f"{statistics.median(totals):8.2f}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(f"peak memory {peak:,.0f} MB")


def _vacuum(connection) -> None:
    with connection.cursor() as cursor:
        for table in ("attributioncredit", "slotrolluppack", "metricrollup", "engagementscore"):
            cursor.execute(f"VACUUM ANALYZE metrics_{table}")


if __name__ == "__main__":
    main()
