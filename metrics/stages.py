"""Journey stages (DOMAIN.md "Journey stages"): pure pandas/numpy, no Django.

Rules are evaluated from the top down and the highest that holds wins: customer (a closed_won
opportunity) > opportunity (an open one) > mqa (score >= mqa_score and >= mqa_min_contacts engaged
contacts) > engaged (score >= engaged_score) > aware (>= 1 inbound activity in 90 days) > targeted
(has a tier) > '' (none).

Decisions where DOMAIN.md is silent: the rules above targeted do not require a tier, so a
non-target account can be aware or a customer; null flags count as False, a null score as 0 and a
null contact count as 0; an account missing from one side of ``stage_changes`` is at stage ''.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STAGES = ("targeted", "aware", "engaged", "mqa", "opportunity", "customer")


def journey_stages(
    accounts: pd.DataFrame,
    *,
    engaged_score: float = 10.0,
    mqa_score: float = 50.0,
    mqa_min_contacts: int = 2,
) -> pd.Series:
    """Stage per account (index account_id) from the columns ``account_id, tier,
    has_inbound_90d, score, engaged_contacts, has_open_opportunity, has_won_opportunity``."""

    def flag(column: str) -> np.ndarray:
        return accounts[column].fillna(False).to_numpy(dtype=bool)

    score = accounts["score"].fillna(0).to_numpy(dtype=float)
    contacts = accounts["engaged_contacts"].fillna(0).to_numpy(dtype=float)
    rules = [
        ("customer", flag("has_won_opportunity")),
        ("opportunity", flag("has_open_opportunity")),
        ("mqa", (score >= mqa_score) & (contacts >= mqa_min_contacts)),
        ("engaged", score >= engaged_score),
        ("aware", flag("has_inbound_90d")),
        ("targeted", accounts["tier"].notna().to_numpy()),
    ]
    stages = np.select([held for _, held in rules], [name for name, _ in rules], default="")
    index = pd.Index(accounts["account_id"], name="account_id")
    return pd.Series(stages.astype(object), index=index, name="stage")


def stage_changes(previous: pd.Series, current: pd.Series) -> pd.DataFrame:
    """Accounts whose stage differs: ``account_id, from_stage, to_stage`` sorted by account_id."""
    both = pd.DataFrame({"from_stage": previous, "to_stage": current}).fillna("")
    changed = both.loc[both["from_stage"] != both["to_stage"]].sort_index()
    return changed.rename_axis("account_id").reset_index()
