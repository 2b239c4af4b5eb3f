"""Scale a seeded workspace up by copying its accounts, with their contacts, deals and activities,
straight in SQL: ``--times 10`` turns 10 000 seeded accounts and ~1M activities into 100 000 and
~10M in a few minutes, where seeding 100 000 accounts week by week would take most of an hour.

    DATABASE_URL=postgres://... .venv/bin/python -m benchmarks.scale_data --times 10

Copy ``c`` of a row gets id ``id + c * (max id + 1)``, and its unique texts a ``-c`` suffix, so
each copy is the original programme run again on other companies: the same story, ten times.
PostgreSQL only; the metrics are stale until the next run (benchmarks/bench_engine.py).
"""

from __future__ import annotations

import argparse
import os
import time

# Table -> (columns whose values are ids of copied rows, unique text columns to suffix).
_TABLES = {
    "accounts_account": (["id"], ["domain", "external_id"]),
    "accounts_contact": (["id", "account_id"], ["external_id"]),
    "accounts_opportunity": (["id", "account_id"], ["external_id"]),
    "playbooks_activity": (["id", "account_id", "contact_id"], ["external_id"]),
}
# Which table's id an id column refers to.
_REFERS = {
    "id": None,
    "account_id": "accounts_account",
    "contact_id": "accounts_contact",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=10, help="accounts afterwards = N x before")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
    os.environ.setdefault("ABM_DEV", "1")  # development settings, as before issue 17
    import django

    django.setup()
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        strides = {}
        for table in _TABLES:
            cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
            strides[table] = cursor.fetchone()[0]
        for table, (ids, uniques) in _TABLES.items():
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                [table],
            )
            columns = [row[0] for row in cursor.fetchall()]
            select = []
            for column in columns:
                if column in ids:
                    stride = strides[_REFERS[column] or table]
                    select.append(f"{column} + c * {stride}")
                elif column in uniques:
                    select.append(f"{column} || '-' || c")
                else:
                    select.append(column)
            names = ", ".join(columns)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {', '.join(select)} FROM {table}, "
                f"generate_series(1, %s) AS c",
                [args.times - 1],
            )
            print(f"{table}: +{cursor.rowcount:,} rows, {time.perf_counter() - started:.1f} s")  # noqa: T201
        for table in _TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    with connection.cursor() as cursor:
        for table in _TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"done in {time.perf_counter() - started:.1f} s")  # noqa: T201


if __name__ == "__main__":
    main()
