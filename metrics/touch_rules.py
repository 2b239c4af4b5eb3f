"""Touch rules (DOMAIN.md "Attribution"): which activities count as attribution touches.

Pure: rules in, a mask out; no Django. The rules are loaded once per recompute
(metrics/touch_rule_store.py) and every figure built on touches uses the same mask: attribution
journeys and credits, the w_shaped mqa anchor, cost per mqa and marketing-influenced pipeline.
Spend does not: an ad impression that is not a touch still cost what it cost.

An activity counts when its kind is in ``always``, or when its kind is in ``step_with_cost`` and
it was done by a playbook step (it has a playbook) with a cost > 0: a 1:1 outbound action a person
did for that account, such as direct mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TouchRules:
    always: frozenset[str]
    step_with_cost: frozenset[str]

    @classmethod
    def of(cls, always: Iterable[str] = (), step_with_cost: Iterable[str] = ()) -> TouchRules:
        return cls(frozenset(always), frozenset(step_with_cost))

    def as_dict(self) -> dict[str, list[str]]:
        return {"always": sorted(self.always), "step_with_cost": sorted(self.step_with_cost)}

    @classmethod
    def from_dict(cls, data: Mapping) -> TouchRules:
        return cls.of(data.get("always", ()), data.get("step_with_cost", ()))


def default_rules(
    points: Mapping[str, float], *, min_points: float, step_kinds: Iterable[str]
) -> TouchRules:
    """DOMAIN's default: kinds worth >= ``min_points`` engagement points, plus ``step_kinds``
    when a playbook step did them with a cost."""
    always = {kind for kind, value in points.items() if value >= min_points}
    return TouchRules.of(always, set(step_kinds) - always)


def counts_as_touch(activities: pd.DataFrame, rules: TouchRules) -> np.ndarray:
    """Boolean mask over ``activities`` (``kind``, ``cost``, ``playbook_id``: NaN outside
    playbooks)."""
    kind = activities["kind"]
    always = kind.isin(rules.always).to_numpy()
    stepped = (
        kind.isin(rules.step_with_cost).to_numpy()
        & activities["playbook_id"].notna().to_numpy()
        & (activities["cost"].to_numpy(dtype=float, na_value=0.0) > 0)
    )
    return always | stepped


def attribution_touches(
    activities: pd.DataFrame, first_mqa: pd.DataFrame, rules: TouchRules
) -> pd.DataFrame:
    """The activities that count as touches under ``rules``, with ``is_mqa``: the account's last
    touch at or before it first became mqa (the w_shaped anchor). Journeys, credits, cost per mqa
    and influenced pipeline all read these touches.

    ``activities`` as ``metrics.engine.loading.load_activities`` gives them; ``first_mqa``: ``account_id,
    mqa_at`` (the first time each account became mqa).
    """
    touches = activities.loc[counts_as_touch(activities, rules)].reset_index(drop=True)
    touches = touches.assign(
        channel=touches["channel"].astype("category"), is_mqa=np.zeros(len(touches), dtype=bool)
    )
    if first_mqa.empty or touches.empty:
        return touches
    candidates = touches[["account_id", "occurred_at", "activity_id"]].reset_index()
    candidates = candidates.merge(first_mqa, on="account_id")
    candidates = candidates.loc[candidates["occurred_at"] <= candidates["mqa_at"]]
    last = candidates.sort_values(["occurred_at", "activity_id"]).groupby("account_id").tail(1)
    touches.loc[last["index"].to_numpy(), "is_mqa"] = True
    return touches
