"""Bring rows from the database into DataFrames fast, for the pure metric modules.

PostgreSQL streams the query with COPY ... TO STDOUT (one round trip, parsed by pandas in C);
other databases read it with a chunked values_list.
"""

import io

import pandas as pd
from django.db import connection
from django.db.models import QuerySet

from accounts.models import Account, Contact, Opportunity
from playbooks.models import Enrolment

_CHUNK = 50_000


def frame_from_queryset(
    queryset: QuerySet,
    columns: dict[str, str],
    *,
    datetimes: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    texts: tuple[str, ...] = (),
) -> pd.DataFrame:
    """`columns` maps output column -> ORM lookup; datetimes come back tz-aware UTC."""
    names, lookups = list(columns), list(columns.values())
    rows = queryset.values_list(*lookups)
    if connection.vendor == "postgresql":
        frame = _copy_out(rows, names)
    else:
        frame = pd.DataFrame.from_records(rows.iterator(chunk_size=_CHUNK), columns=names)
    for name in datetimes:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    for name in numbers:
        frame[name] = pd.to_numeric(frame[name]).astype("float64")
    for name in texts:
        frame[name] = frame[name].astype(object).fillna("").astype(str)
    return frame


def _copy_out(rows: QuerySet, names: list[str]) -> pd.DataFrame:
    sql, params = rows.query.sql_with_params()
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.copy_expert(f"COPY ({raw.mogrify(sql, params).decode()}) TO STDOUT WITH CSV", buffer)
    buffer.seek(0)
    # CSV reads both NULL and "" as NaN; loaders fill their text columns back to "".
    return pd.read_csv(buffer, names=names, header=None)


def load_accounts() -> pd.DataFrame:
    return frame_from_queryset(
        Account.objects.order_by(),
        {
            "account_id": "id",
            "tier": "tier",
            "owner_id": "owner_id",
            "industry": "industry",
            "employees": "employees",
            "annual_revenue": "annual_revenue",
            "country": "country",
            "stage": "stage",
        },
        numbers=("annual_revenue",),
        texts=("industry", "country", "stage"),
    )


def load_opportunities() -> pd.DataFrame:
    return frame_from_queryset(
        Opportunity.objects.order_by(),
        {
            "opportunity_id": "id",
            "account_id": "account_id",
            "amount": "amount",
            "stage": "stage",
            "source": "source",
            "created_at": "created_at",
            "closed_at": "closed_at",
        },
        datetimes=("created_at", "closed_at"),
        numbers=("amount",),
    )


def load_contacts() -> pd.DataFrame:
    return frame_from_queryset(
        Contact.objects.order_by(),
        {
            "contact_id": "id",
            "account_id": "account_id",
            "seniority": "seniority",
            "buying_role": "buying_role",
        },
    )


def load_enrolments() -> pd.DataFrame:
    return frame_from_queryset(
        Enrolment.objects.order_by(),
        {
            "enrolment_id": "id",
            "account_id": "account_id",
            "playbook_id": "playbook_id",
            "status": "status",
            "enrolled_at": "enrolled_at",
        },
        datetimes=("enrolled_at",),
    )
