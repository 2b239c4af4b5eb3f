"""Accounts as a DataFrame, for fit scoring (ICP preview and re-score) and the metrics engine."""

import pandas as pd

from abm.lib.frames import frame_from_queryset
from accounts.models import Account


def load_accounts(account_ids=None) -> pd.DataFrame:
    """Every account, or those of ``account_ids`` (a slot of the metrics engine)."""
    accounts = Account.objects.order_by()
    if account_ids is not None:
        accounts = accounts.filter(pk__any_of=account_ids)
    return frame_from_queryset(
        accounts,
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
