"""Times a CSV import of activities end to end: store, read, validate, upsert in batches.

Run from the repository root against a scratch database, e.g.::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_import .venv/bin/python -m benchmarks.bench_import

It creates 1,000 accounts (domains ``*.bench.example``) and a marketer, writes a 100,000-row
activities CSV, imports it through ``ingestion.import_jobs.import_file`` (the service the command
and the task use), imports it again (every row unchanged) and removes what it created.

On PostgreSQL it also times the floor: the imported rows, as text, COPYed FROM STDIN (what psql's
\\copy sends) into a scratch copy of the activity table with the same indexes, checks and foreign
keys, and prints the import's ratio to it. Target: the first import at most 10x that COPY.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
os.environ.setdefault("ABM_DEV", "1")  # development settings, as before issue 17
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from abm.models import Role, User  # noqa: E402
from accounts.models import Account  # noqa: E402
from ingestion import importing  # noqa: E402
from ingestion.import_jobs import import_file  # noqa: E402
from ingestion.models import ImportJob  # noqa: E402
from playbooks.models import Activity  # noqa: E402

DOMAIN_SUFFIX = ".bench.example"
ID_PREFIX = "bench-"
KINDS = [
    ("Email", "Email opened"),
    ("email", "email_click"),
    ("Webinar", "Webinar attended"),
    ("Paid social", "ad_impression"),
    ("Display", "Ad click"),
    ("Content", "Content download"),
    ("Event", "event_attended"),
    ("SDR", "call_connected"),
]


def report(line: str) -> None:
    print(line)  # noqa: T201


def clean_up() -> None:
    Activity.objects.filter(source="import", external_id__startswith=ID_PREFIX).delete()
    Account.objects.filter(domain__endswith=DOMAIN_SUFFIX).delete()
    ImportJob.objects.filter(original_name__startswith="bench-").delete()
    User.objects.filter(username="bench-marketer").delete()


def vacuum() -> None:
    """Earlier runs leave the deleted rows behind; an import into a bloated table is slower."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(Activity._meta.db_table)}")


SCRATCH = "bench_activity_copy"


def time_copy() -> float:
    """Seconds to COPY the imported rows FROM STDIN into an empty copy of the activity table."""
    table = connection.ops.quote_name(Activity._meta.db_table)
    columns = ", ".join(f.column for f in Activity._meta.concrete_fields if f.column != "id")
    rows = io.StringIO()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY (SELECT {columns} FROM {table} WHERE source = 'import' "
            f"AND external_id LIKE '{ID_PREFIX}%') TO STDOUT",
            rows,
        )
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        cursor.execute(f"CREATE TABLE {SCRATCH} (LIKE {table} INCLUDING ALL)")
        for f in Activity._meta.concrete_fields:
            if f.is_relation:
                target = connection.ops.quote_name(f.related_model._meta.db_table)
                cursor.execute(
                    f"ALTER TABLE {SCRATCH} ADD FOREIGN KEY ({f.column}) REFERENCES {target} "
                    "DEFERRABLE INITIALLY DEFERRED"
                )
    rows.seek(0)
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {SCRATCH} ({columns}) FROM STDIN", rows)
    seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {SCRATCH}")
    return seconds


def write_file(path: Path, rows: int, accounts: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Activity ID,Company Domain Name,Channel,Type,Date,Cost,Notes\n")
        for n in range(rows):
            channel, kind = KINDS[n % len(KINDS)]
            day, minute = rng.randrange(1, 29), rng.randrange(0, 24 * 60)
            cost = f'"${rng.randrange(0, 5000) / 100:,.2f}"' if n % 4 == 0 else ""
            out.write(
                f"{ID_PREFIX}{n},https://www.company{n % accounts}{DOMAIN_SUFFIX}/,{channel},"
                f"{kind},2025-03-{day:02d} {minute // 60:02d}:{minute % 60:02d},{cost},"
                f"row {n}\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="leave the data in the database")
    args = parser.parse_args()

    report(f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
    clean_up()
    vacuum()
    by = User.objects.create_user(username="bench-marketer", role=Role.MARKETER)
    Account.objects.bulk_create(
        Account(name=f"Company {n}", domain=f"company{n}{DOMAIN_SUFFIX}", tier=1 + n % 3)
        for n in range(args.accounts)
    )
    with tempfile.TemporaryDirectory() as scratch:
        settings.VAR_DIR = Path(scratch)  # uploads and rejects go to the scratch directory
        path = Path(scratch) / f"bench-activities-{args.rows}.csv"
        write_file(path, args.rows, args.accounts, args.seed)
        size_mb = path.stat().st_size / 1024 / 1024
        report(f"{args.rows:,} activity rows over {args.accounts:,} accounts, {size_mb:.1f} MB")

        start = time.perf_counter()
        parsed = importing.parse(path.read_bytes(), "activities", tz=dt.UTC)
        report(f"  read + validate only: {time.perf_counter() - start:6.2f} s")
        del parsed

        took = {}
        for label in ("first import", "re-import"):
            start, cpu = time.perf_counter(), time.process_time()
            job = import_file(kind="activities", path=path, by=by)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            took[label] = seconds
            report(
                f"  {label:13} {seconds:6.2f} s (Python CPU {cpu:5.2f} s)  "
                f"{args.rows / seconds:9,.0f} rows/s  "
                f"created {job.created:,} updated {job.updated:,} unchanged {job.unchanged:,} "
                f"rejected {job.rejected:,}"
            )
    if connection.vendor == "postgresql":
        seconds = time_copy()
        report(
            f"  COPY FROM STDIN of the same rows into a scratch copy: {seconds:6.2f} s  "
            f"{args.rows / seconds:9,.0f} rows/s"
        )
        report(
            f"  first import / COPY: {took['first import'] / seconds:5.1f}x (target <= 10x)  "
            f"re-import / COPY: {took['re-import'] / seconds:5.1f}x"
        )
    imported = Activity.objects.filter(source="import", external_id__startswith=ID_PREFIX).count()
    report(f"activities in the database: {imported:,}")
    if not args.keep:
        clean_up()


if __name__ == "__main__":
    main()
