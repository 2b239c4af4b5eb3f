"""The metrics engine at scale, in one run: full runs over 1, 2 and 4 worker processes, incremental
runs after 1, 100 and 10 000 changed accounts, then the import and attribution benchmarks.
With ``--scaled-database URL`` (a copy scaled by benchmarks/scale_data.py) the full runs are
also made there, and both sizes printed side by side.

Run from the repository root against a seeded PostgreSQL database and a Redis:

    psql -h 127.0.0.1 -U postgres -c 'create database abm_bench'
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_bench REDIS_URL=redis://127.0.0.1:6379/13
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo --accounts 10000
    .venv/bin/python -m benchmarks.bench_engine --workers 1 2 4 --changed 1 100 10000
    # 1M and 10M activities side by side: a copy of the seed, scaled ten times
    createdb -h 127.0.0.1 -U postgres -T abm_bench abm_bench10x
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_bench10x \
        .venv/bin/python -m benchmarks.scale_data --times 10
    .venv/bin/python -m benchmarks.bench_engine --warm-up \
        --scaled-database postgres://postgres@127.0.0.1:5432/abm_bench10x

Each worker is ``celery -A abm worker --pool=solo`` in its own process, started afresh for each
configuration, so its peak resident memory (VmHWM) is that configuration's. A full run with one
worker is the in-process run the embedded default makes; with more, its slots are dealt out to
that many shard tasks. Incremental runs are timed in this process, as the change feed's
consumer runs them. ``--skip-others`` leaves out bench_import and bench_attribution.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path


def report(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--changed", type=int, nargs="*", default=[1, 100, 10_000])
    parser.add_argument(
        "--warm-up",
        action="store_true",
        help="one full run in this process first (a copied or new workspace writes its history)",
    )
    parser.add_argument("--slots", type=int, default=None, help="default: from the settings")
    parser.add_argument("--skip-others", action="store_true")
    parser.add_argument(
        "--scaled-database", metavar="URL", help="full runs there too, printed side by side"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
    os.environ.setdefault("ABM_DEV", "1")  # development settings, as before issue 17
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        sys.exit("needs DATABASE_URL (PostgreSQL) and REDIS_URL: workers share the database")
    from accounts.models import Account
    from metrics.engine.slots import slot_count
    from playbooks.models import Activity

    accounts, activities = Account.objects.count(), Activity.objects.count()
    slots = slot_count(args.slots)
    report(f"database {connection.settings_dict['NAME']}: {accounts:,} accounts, ")
    report(f"{activities:,} activities; {slots} slots; load average {_load()}")
    if args.warm_up:
        from metrics.engine.runner import recompute_all

        started = time.perf_counter()
        recompute_all(slots=args.slots)
        report(f"warm-up run in this process: {time.perf_counter() - started:.1f} s")
    report()
    report("Full run (a fresh worker per configuration; wall time from enqueue to done)")
    report(
        f"{'workers':>8} {'wall s':>8} {'slots s':>8} {'finish s':>9} {'us/activity':>12} "
        f"{'peak MB/worker':>15} {'load':>6} {'queued s':>9}"
    )
    rows = []
    for count in args.workers:
        wall, result, peaks, queued = _full_run(count, slots)
        finish = _finish_seconds(result)
        rows.append(
            {
                "workers": count,
                "wall": wall,
                "us": wall / max(activities, 1) * 1e6,
                "peak": max(peaks),
                "accounts": accounts,
                "activities": activities,
            }
        )
        if args.json:  # a scaled database's runs, for the side-by-side table of the caller
            report(json.dumps(rows[-1]))
            continue
        report(
            f"{count:>8} {wall:8.2f} {wall - finish:8.2f} {finish:9.2f} "
            f"{rows[-1]['us']:12.2f} {max(peaks):15,.0f} {_load():>6} {queued:9.2f}"
        )
    if args.json:
        return
    if args.scaled_database:
        _side_by_side(rows, _scaled_rows(args))

    if not args.changed:
        if not args.skip_others:
            _others()
        return
    report()
    report("Incremental run in this process after N changed accounts (one activity each)")
    report(f"{'changed':>8} {'slots':>6} {'run s':>7} {'slots s':>8} {'finish s':>9} {'load':>6}")
    from metrics.engine.runner import recompute_all, recompute_changed

    recompute_all(slots=args.slots)  # the layout in place, as of now
    ids = list(Account.objects.values_list("pk", flat=True))
    rng = random.Random(1)
    for count in args.changed:
        changed = rng.sample(ids, min(count, len(ids)))
        _touch(changed)
        start = time.perf_counter()
        result = recompute_changed(changed)
        wall = time.perf_counter() - start
        finish = _finish_seconds(result)
        report(
            f"{count:>8} {result['slots_computed']:>6} {wall:7.2f} {wall - finish:8.2f} "
            f"{finish:9.2f} {_load():>6}"
        )
        phases = ", ".join(f"{k} {v:.2f}" for k, v in result["seconds"].items())
        report(f"         phases: {phases}")
        kept = ", ".join(result["kept"]) or "nothing"
        report(f"         sums {result['sums']}; kept in the worker: {kept}")

    if not args.skip_others:
        _others()


def _scaled_rows(args: argparse.Namespace) -> list[dict]:
    """The same full runs on the scaled database, in a process of its own (its own settings)."""
    command = [sys.executable, "-m", "benchmarks.bench_engine", "--json", "--skip-others"]
    command += ["--workers", *map(str, args.workers), "--changed"]
    command += ["--warm-up"] if args.warm_up else []
    command += ["--slots", str(args.slots)] if args.slots else []
    env = {**os.environ, "DATABASE_URL": args.scaled_database}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _side_by_side(small: list[dict], large: list[dict]) -> None:
    report()
    size = "{accounts:,} accounts / {activities:,} activities"
    report(f"Full run side by side: {size.format(**small[0])} | {size.format(**large[0])}")
    report(
        f"{'workers':>8} {'wall s':>8} {'us/act':>7} {'MB':>5} | {'wall s':>8} {'us/act':>7} "
        f"{'MB':>5} | {'cost per activity, large / small':>33}"
    )
    for a, b in zip(small, large, strict=True):
        report(
            f"{a['workers']:>8} {a['wall']:8.2f} {a['us']:7.2f} {a['peak']:5.0f} | "
            f"{b['wall']:8.2f} {b['us']:7.2f} {b['peak']:5.0f} | {b['us'] / a['us']:32.2f}x"
        )


def _finish_seconds(result: dict) -> float:
    phases = ("finish load", "finish compute", "write finish", "analyze")
    return sum(result["seconds"].get(p, 0.0) for p in phases)


def _others() -> None:
    for module in ("benchmarks.bench_import", "benchmarks.bench_attribution"):
        report()
        report(f"== {module} ==")
        subprocess.run([sys.executable, "-m", module], check=False)


def _full_run(count: int, slots: int) -> tuple[float, dict, list[float], float]:
    """Wall seconds from enqueue to done, the run's result, each worker's peak MB, and the
    seconds the run waited before a worker took it: a fresh worker first takes whatever jobs
    were queued before (an import's incremental run, task generation), which counts in the
    wall time."""
    from django.db import transaction

    from abm.models import Job, RunStatus
    from metrics.engine.runner import recompute_enqueue

    workers = [_start_worker(f"bench{n}") for n in range(count)]
    try:
        start = time.perf_counter()
        with transaction.atomic():
            run = recompute_enqueue(shards=count if count > 1 else None, slots=slots)
        while True:
            run = Job.objects.get(pk=run.pk)
            if run.status in (RunStatus.DONE, RunStatus.FAILED):
                break
            time.sleep(0.1)
        wall = time.perf_counter() - start
        if run.status != RunStatus.DONE:
            sys.exit(f"run {run.pk} failed: {run.error}")
        peaks = [_peak_mb(w.pid) for w in workers]
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
    return wall, run.result, peaks, (run.started_at - run.created_at).total_seconds()


def _start_worker(name: str) -> subprocess.Popen:
    # Not $TMPDIR/bench1.log and the like: a name someone may send this script's output to.
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_engine-worker-{name}.log"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "abm", "worker", "--pool=solo"),
            *("-n", f"{name}@%h", "--loglevel=WARNING", "--without-mingle", "--without-gossip"),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    time.sleep(4)  # ready to consume; the first message waits in Redis meanwhile
    return process


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _touch(account_ids: list[int]) -> None:
    """One new activity on each account, as an ingestion would write it."""
    from django.utils import timezone

    from playbooks.models import Activity

    now = timezone.now()
    Activity.objects.bulk_create(
        [
            Activity(
                account_id=pk,
                channel="content",
                kind="web_visit",
                direction="inbound",
                source="api",
                external_id=f"bench-{uuid.uuid4()}",
                occurred_at=now,
            )
            for pk in account_ids
        ],
        batch_size=5_000,
    )


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
