"""Bring rows from the database into DataFrames fast, for the pure metric modules.

PostgreSQL streams the query with COPY ... TO STDOUT (one round trip, parsed by pandas in C);
other databases read it with a chunked values_list.
"""

import pandas as pd

from abm.lib.frames import frame_from_queryset
from accounts.frames import load_accounts  # noqa: F401 (the engine loads accounts here)
from accounts.models import Contact, Opportunity
from playbooks.models import Enrolment


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
