"""An account's ICP fit, scored when the account is written (API, import) or re-scored in bulk.

The one place that turns Account rows into the frame `accounts/scoring.py` scores and stores the
result, so an account created over the API, imported or re-scored after an ICP edit carries the
same fit and breakdown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from accounts.models import ICP, Account
from accounts.scoring import ANNUAL_REVENUE, COUNTRY, EMPLOYEES, INDUSTRY, IcpCriteria, fit_scores

# The fields fit reads: a change to one of them re-scores the account.
FIT_FIELDS = (INDUSTRY, EMPLOYEES, ANNUAL_REVENUE, COUNTRY)
SCORE_FIELDS = ("fit_score", "fit_breakdown")


def fit_criteria(icp: ICP | None = None) -> IcpCriteria:
    """The criteria of `icp`, else of the active ICP; without one every account scores 0."""
    icp = icp or ICP.objects.filter(is_active=True).first()
    return IcpCriteria.from_icp(icp) if icp else IcpCriteria()


def fit_stored(frame: pd.DataFrame, criteria: IcpCriteria) -> list[tuple[float, list[dict]]]:
    """(fit_score, fit_breakdown) per row of `frame`, as stored on the account."""
    scored = fit_scores(frame, criteria)
    return [
        (round(float(score), 2), breakdown)
        for score, breakdown in zip(scored["fit_score"], scored["fit_breakdown"], strict=True)
    ]


def fit_apply(accounts: Sequence[Account], criteria: IcpCriteria | None = None) -> None:
    """Set fit_score and fit_breakdown on `accounts` (not saved: the caller writes them)."""
    if not accounts:
        return
    criteria = fit_criteria() if criteria is None else criteria
    # The same column types as metrics' account loader, which the bulk re-score reads.
    frame = pd.DataFrame(
        {
            INDUSTRY: [account.industry or "" for account in accounts],
            EMPLOYEES: _numbers(account.employees for account in accounts),
            ANNUAL_REVENUE: _numbers(account.annual_revenue for account in accounts),
            COUNTRY: [account.country or "" for account in accounts],
        }
    )
    for account, (score, breakdown) in zip(accounts, fit_stored(frame, criteria), strict=True):
        account.fit_score, account.fit_breakdown = score, breakdown


def _numbers(values) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
