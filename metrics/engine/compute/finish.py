"""The finish of a run, once every slot is computed: what needs every account at once.

The slots' additive rollup rows arrive summed; the finish adds Markov's credit rollup (its
removal effects come from every slot's transition counts), budget lines shared out by the
slots' summed activity cost, leads, lift and the holdout test, and keeps the rollup months.
"""

from __future__ import annotations

import pandas as pd

from metrics import roi, rollups
from metrics.engine.compute.inputs import Inputs
from metrics.engine.compute.rollup_rows import global_rollups
from metrics.engine.compute.slot import BUDGET_WEIGHT
from metrics.engine.params import EngineParams

_KEY = list(rollups.KEY)
# Rollups whose rows add up: a key computed in two parts is one row of their sum.
_ADDITIVE = set(rollups.METRICS) - {"follow_up_hours", "lift", "holdout"}


def finish_rollups(
    data: Inputs,
    slot_sums: pd.DataFrame,
    markov: pd.DataFrame,
    engaged_in_period: set,
    now: pd.Timestamp,
    params: EngineParams,
) -> pd.DataFrame:
    """Every rollup row: ``slot_sums`` (the slots' rows summed per key), Markov's credit rows
    ``markov`` and the global parts, over the rollup months."""
    sums = _typed(slot_sums)
    weights = sums.loc[sums["metric"] == BUDGET_WEIGHT]
    parts = [
        sums.loc[sums["metric"] != BUDGET_WEIGHT],
        rollups.credit_rollup(roi.credit_rows(markov, data.accounts)),
        *global_rollups(data, weights, engaged_in_period, now, params),
    ]
    frame = _combined(rollups.assemble(parts))
    periods = pd.to_datetime(frame["period"])
    kept = periods.isna() | (periods >= pd.Timestamp(data.horizon.date()))
    return frame.loc[kept.to_numpy()].reset_index(drop=True)


def _typed(sums: pd.DataFrame) -> pd.DataFrame:
    """Summed slot rows as the rollup builders make them (dates as timestamps, nullable ids)."""
    out = sums.copy()
    out["period"] = pd.to_datetime(out["period"])
    for column in ("playbook_id", "tier", "owner_id"):
        out[column] = pd.to_numeric(out[column]).astype("Int64")
    for column in ("value", "count"):
        out[column] = out[column].astype(float)
    return out


def _combined(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per key of the additive metrics (activity spend and budget spend, say)."""
    additive = frame["metric"].isin(_ADDITIVE).to_numpy()
    summed = frame.loc[additive].groupby(_KEY, dropna=False, sort=False)[["value", "count"]].sum()
    summed = summed.reset_index().assign(data=[{} for _ in range(len(summed))])
    out = pd.concat([summed, frame.loc[~additive]], ignore_index=True)
    out["period"] = out["period"].astype(object).where(out["period"].notna(), None)
    return out[list(rollups.COLUMNS)]
