"""One slot of accounts end to end: everything the engine computes per account, and the slot's
share of every figure that adds up over accounts.

A slot's result depends only on its own accounts' rows, so slots compute apart (on any worker)
and a changed account recomputes its slot alone. What does not add up over accounts is left to
``compute.finish``: the Markov removal effects (the slot keeps its transition counts, which do
add up), budget lines shared out over every account's cost, leads, lift and the holdout test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from metrics import engagement, roi, rollups, stages
from metrics.engine.compute.accounts import (
    ENGAGED_OR_LATER,
    account_scores,
    engaged_accounts,
    journey_stages_now,
    score_history,
    with_new_mqa,
    with_new_reached,
)
from metrics.engine.compute.credits import slot_credits
from metrics.engine.compute.inputs import Inputs
from metrics.engine.compute.rollup_rows import deal_rows, engagement_trend, task_rows
from metrics.engine.params import EngineParams
from metrics.touch_rules import attribution_touches

# The slot's activity cost and count per month, channel, playbook, tier and owner: what budget
# lines are shared out by (DOMAIN.md "Money"), summed over the slots by the finish.
BUDGET_WEIGHT = "budget_weight"


@dataclass
class SlotResult:
    scores: pd.DataFrame
    history: pd.DataFrame
    changes: pd.DataFrame  # journey stage changes: account_id, from_stage, to_stage
    engaged_in_period: set
    credits: pd.DataFrame  # every model but Markov (compute.credits)
    markov_counts: pd.DataFrame  # kind, from_state, to_state, count
    rollup: pd.DataFrame  # the slot's additive rollup rows, and its budget weights


def compute_slot(
    data: Inputs,
    now: pd.Timestamp,
    history_start: dt.date,
    params: EngineParams,
    watch,
    layout: int,
) -> SlotResult:
    """``data`` holds the accounts of one or more slots of the ``layout`` (``id % layout``) and
    their rows; ``watch`` times the phases. The rollup rows and Markov counts come per slot (a
    ``slot`` column), each slot's share as if it had been computed alone."""
    with watch.phase("engagement"):
        scores = account_scores(data, now, params)
        # Three daily histories below: their activities capped once.
        capped = replace(
            data,
            activities=engagement.with_capped_points(data.activities, **params.engagement_kwargs()),
        )
        history = score_history(capped, history_start, now, params)
        engaged_months, engaged_in_period = engaged_accounts(capped, now, params)

    with watch.phase("stages"):
        new_stages = journey_stages_now(
            data.accounts, scores, data.opportunities, data.activities, now, params
        )
        previous = data.accounts.set_index("account_id")["stage"]
        changes = stages.stage_changes(previous, new_stages)
        first_mqa = with_new_mqa(data.first_mqa, changes, now)
        first_engaged = with_new_reached(
            data.first_engaged, changes, now, ENGAGED_OR_LATER, "engaged_at"
        )

    with watch.phase("attribution"):
        touches = attribution_touches(data.activities, first_mqa, data.touch_rules)
        credits, markov_counts = slot_credits(touches, data.opportunities, now, params, layout)

    with watch.phase("rollups"):
        data = replace(data, accounts=_slot_keyed(data.accounts, layout))
        accounts = data.accounts
        window = params.attribution_window_days
        stage_frame = pd.DataFrame(
            {"account_id": new_stages.index, "stage": new_stages.to_numpy(dtype=object)}
        )
        spend, weights = activity_costs(data.activities, accounts)
        rollup = rollups.assemble(
            [
                rollups.credit_rollup(roi.credit_rows(credits, accounts)),
                spend,
                rollups.mqa_rollup(roi.mqa_rows(touches, first_mqa, accounts, window_days=window)),
                rollups.reached_rollup(
                    roi.reached_rows(
                        touches, first_engaged, accounts, "engaged", window_days=window
                    ),
                    "engaged",
                ),
                rollups.deal_rollups(deal_rows(data, touches, engaged_months, now, params)),
                rollups.engaged_accounts_rollup(roi.account_dimensions(engaged_months, accounts)),
                rollups.accounts_rollup(roi.account_dimensions(stage_frame, accounts)),
                engagement_trend(replace(data, activities=capped.activities), now, params),
                task_rows(data, now),
                weights,
            ],
            data=False,
        )
    rollup = _slot_unkeyed(rollup, layout)
    return SlotResult(
        scores=scores,
        history=history,
        changes=changes,
        engaged_in_period=engaged_in_period,
        credits=credits,
        markov_counts=markov_counts,
        rollup=rollup,
    )


def _slot_keyed(accounts: pd.DataFrame, layout: int) -> pd.DataFrame:
    """Accounts whose owner key also carries their slot: every rollup groups by owner, so one
    pass over many slots gives each (owner, slot) its own rows, which ``_slot_unkeyed`` splits
    back into owner and slot. No owner is key 0."""
    ids = accounts["account_id"].to_numpy(dtype=np.int64)
    owner = accounts["owner_id"].astype("Float64").fillna(-1).to_numpy(dtype=np.int64)
    return accounts.assign(owner_id=(owner + 1) * layout + ids % layout)


def _slot_unkeyed(rollup: pd.DataFrame, layout: int) -> pd.DataFrame:
    key = rollup["owner_id"]
    if key.isna().any():
        # Every row of a slot's rollup belongs to one of its accounts.
        raise ValueError("a slot's rollup row is tied to no account")
    key = key.to_numpy(dtype=np.int64)
    owner = pd.array(key // layout - 1, dtype="Int64")
    owner[owner < 0] = pd.NA
    return rollup.assign(owner_id=owner, slot=key % layout)


def activity_costs(activities: pd.DataFrame, accounts: pd.DataFrame) -> tuple:
    """The spend rollup and the budget weights, from one grouping of the activities by month,
    channel, playbook, tier and owner. Spend sums the costed activities (``roi.spend_rows``
    without budget lines: cost > 0, one line each). A weight is the activity cost (``value``,
    a negative cost as 0) and number (``count``) of every activity: a budget line's share for a
    tier and owner is their weight over the total (DOMAIN.md "Money")."""
    cost = activities["cost"].astype(float)
    frame = roi.account_dimensions(
        pd.DataFrame(
            {
                "account_id": activities["account_id"],
                "month": roi.month_of(activities["occurred_at"]),
                "channel": activities["channel"].astype(object),
                "playbook_id": activities["playbook_id"].astype("Int64"),
                "cost": cost.clip(lower=0),
                "costed": (cost > 0).astype(float),
            }
        ),
        accounts,
    )
    sums = frame.groupby(rollups.SPEND_DIMENSIONS, dropna=False, sort=False).agg(
        value=("cost", "sum"), count=("cost", "size"), lines=("costed", "sum")
    )
    sums = sums.reset_index()
    spent = sums.loc[sums["lines"] > 0, [*rollups.SPEND_DIMENSIONS, "value", "lines"]]
    spend = rollups.spend_sums_rollup(spent.rename(columns={"value": "amount"}))
    weights = sums.drop(columns="lines").rename(columns={"month": "period"})
    return spend, weights.assign(metric=BUDGET_WEIGHT)
