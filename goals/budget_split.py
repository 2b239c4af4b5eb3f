"""Proposed playbook budgets from a plan's budget by channel (issue #18; pure, no Django).

Each channel's budget goes to the playbooks in proportion to what each spent on that channel's
activities over the history: proposed = sum over channels of channel budget x the playbook's
share of that channel's spend. A channel no playbook has spent on stays unassigned. Amounts are
to the cent; a channel's rounding remainder goes to its largest spender, so the proposals plus
the unassigned part add up to the plan's total exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

CENT = Decimal("0.01")


@dataclass(frozen=True)
class BudgetSplit:
    proposed: dict[int, Decimal]  # playbook id -> proposed budget (every playbook given)
    unassigned: dict[str, Decimal] = field(default_factory=dict)  # channel -> its budget
    total: Decimal = Decimal(0)


def _cents(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def split_budget(
    channel_budget: dict[str, float | Decimal], spend: pd.DataFrame, playbook_ids: list[int]
) -> BudgetSplit:
    """``channel_budget``: channel -> amount; ``spend``: columns playbook_id, channel, spend (the
    history of the playbooks in scope; other playbooks' rows are ignored)."""
    proposed = {pk: Decimal(0) for pk in playbook_ids}
    frame = spend[spend["playbook_id"].isin(playbook_ids) & (spend["spend"] > 0)]
    by_channel = frame.groupby(["channel", "playbook_id"])["spend"].sum()
    unassigned, total = {}, Decimal(0)
    for channel, amount in channel_budget.items():
        budget = _cents(amount)
        total += budget
        if budget == 0:
            continue
        rows = by_channel[channel] if channel in by_channel.index.get_level_values(0) else None
        if rows is None or rows.sum() <= 0:
            unassigned[channel] = budget
            continue
        spent = {int(pk): Decimal(str(value)) for pk, value in rows.items()}
        whole = sum(spent.values())
        shares = {pk: _cents(budget * value / whole) for pk, value in spent.items()}
        # The rounding remainder goes to the largest spender (the lowest id on a tie).
        largest = min(spent, key=lambda pk: (-spent[pk], pk))
        shares[largest] += budget - sum(shares.values())
        for pk, share in shares.items():
            proposed[pk] += share
    return BudgetSplit(proposed=proposed, unassigned=unassigned, total=total)
