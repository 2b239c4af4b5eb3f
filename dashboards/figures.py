"""Dashboard figures from rollup sums: pure pandas, no ORM, no request.

Inputs are the small frames of ``rollup_reading.rollup_sums`` (columns ``metric``, the grouped
dimensions, ``value``, ``count``); outputs are plain numbers and rows for tiles, tables and charts.
ROI, pipeline ratio and the costs per opportunity and per mqa come from ``roi.roi_table`` (the one
definition of DOMAIN "Money"): this module only turns rollup sums into its inputs.
Where DOMAIN.md is silent (see README "Metrics"): ROI and lift are None when there is nothing to
divide by; changes against the previous period are relative (None from a zero base).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboards.table_cells import cell_text
from metrics import lift, roi

# (segment, label, rows of the deal rollups it sums)
SEGMENT_ROWS = (
    ("target", "Target accounts", lambda f: f["tier"] >= 1),
    ("non_target", "Non-target accounts", lambda f: f["tier"] == 0),
    ("tier_1", "Tier 1", lambda f: f["tier"] == 1),
    ("tier_2", "Tier 2", lambda f: f["tier"] == 2),
    ("tier_3", "Tier 3", lambda f: f["tier"] == 3),
    ("engaged", "Targets, engaged", lambda f: (f["tier"] >= 1) & (f["segment"] == "engaged")),
    (
        "not_engaged",
        "Targets, not engaged",
        lambda f: (f["tier"] >= 1) & (f["segment"] == "not_engaged"),
    ),
)
# Deal rollup metric -> (SUMS column from its value, SUMS column from its count)
DEAL_COLUMNS = {
    "opportunities": ("pipeline", "opportunities"),
    "won": ("revenue", "won"),
    "lost": (None, "lost"),
    "open": (None, "open"),
    "cycle_days": ("cycle_days_sum", None),
}
DEAL_METRICS = tuple(DEAL_COLUMNS)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    format: str = "text"  # text, money, percent, signed_percent, count, days, number


@dataclass
class Table:
    """A dashboard table; ``rows`` are dicts of column key -> value (plus ``url``)."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)

    def csv_rows(self):
        """Each cell as the page shows it (money, percent, people by name)."""
        for row in self.rows:
            yield [cell_text(row, column) for column in self.columns]


def total(frame: pd.DataFrame, metric: str, column: str = "value", **where) -> float:
    rows = frame.loc[frame["metric"] == metric] if len(frame) else frame
    for key, value in where.items():
        rows = rows.loc[rows[key] == value]
    return float(rows[column].sum()) if len(rows) else 0.0


def ratio(numerator: float, denominator: float) -> float | None:
    if not denominator:
        return None
    return numerator / denominator


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change against the previous period; None from a zero or undefined base."""
    if current is None or previous is None or previous == 0 or _nan(previous) or _nan(current):
        return None
    return current / previous - 1


def segment_sums(deals: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """``lift.SUMS`` plus ``accounts`` per segment (index ``lift.SEGMENTS``), with the ratios.

    ``deals``: deal rollups by ``metric, tier, segment``; ``accounts``: the ``accounts`` snapshot
    by ``tier``. Engaged is a month-by-month state, so the engaged rows have no account count.
    """
    # Plain arrays: a few dozen rows, where each pandas selection would cost more than the sum.
    deal_cols, account_cols = _columns(deals), _columns(accounts)
    rows = {}
    for segment, _label, select in SEGMENT_ROWS:
        sums = dict.fromkeys(lift.SUMS, 0.0)
        if len(deals):
            chosen = select(deal_cols)
            for metric, (from_value, from_count) in DEAL_COLUMNS.items():
                part = chosen & (deal_cols["metric"] == metric)
                if from_value:
                    sums[from_value] += float(deal_cols["value"][part].sum())
                if from_count:
                    sums[from_count] += float(deal_cols["count"][part].sum())
        if segment in ("engaged", "not_engaged") or not len(accounts):
            sums["accounts"] = math.nan
        else:
            sums["accounts"] = float(account_cols["value"][select(account_cols)].sum())
        rows[segment] = sums
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return lift.ratios(frame)


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A rollup frame's columns as arrays (tier as float, NaN = not tied to an account)."""
    out = {c: frame[c].to_numpy() for c in ("metric", "segment", "value", "count") if c in frame}
    if "tier" in frame:
        out["tier"] = pd.to_numeric(frame["tier"]).to_numpy(dtype=float, na_value=np.nan)
    return out


def win_rate_lift(sums: pd.DataFrame) -> float | None:
    value = lift.lift(sums.loc["target", "win_rate"], sums.loc["non_target", "win_rate"])
    return None if _nan(value) else float(value)


def target_table(sums: pd.DataFrame, urls: dict[str, str]) -> Table:
    table = Table(
        name="target_vs_non_target",
        title="Target vs non-target accounts",
        columns=[
            Column("segment", "Segment"),
            Column("accounts", "Accounts", "count"),
            Column("opportunities", "Opportunities", "count"),
            Column("win_rate", "Win rate", "percent"),
            Column("average_deal_size", "Avg deal", "money"),
            Column("cycle_days", "Sales cycle", "days"),
            Column("velocity", "Velocity / day", "money"),
            Column("revenue_per_account", "Rev. / account", "money"),
        ],
    )
    for segment, label, _select in SEGMENT_ROWS:
        row = sums.loc[segment]
        table.rows.append(
            {
                "segment": label,
                "key": segment,
                **{c.key: _clean(row.get(c.key)) for c in table.columns[1:]},
                "url": urls.get(segment, ""),
            }
        )
    lifts = lift.lift(sums.loc["target"], sums.loc["non_target"])
    table.rows.append(
        {
            "segment": "Lift (target vs non-target)",
            "key": "lift",
            "is_lift": True,
            **{c.key: _clean(lifts.get(c.key)) for c in table.columns[3:]},
        }
    )
    return table


def money_totals(credit: pd.DataFrame, spend: pd.DataFrame) -> dict:
    """``roi.COLUMNS`` over all the rows, None where undefined (a tile's figures).

    ``credit``: credit sums by ``kind`` of one model; ``spend``: spend (and mqa) sums."""
    table = roi.roi_table(*_roi_inputs(credit, spend, []))
    return {c: _clean(table.loc[0, c]) for c in roi.COLUMNS}


def by_channel(credit: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    """Per channel: ``roi.COLUMNS`` from the credit sums (by ``kind``) of one model and the
    spend sums (with the mqa sums, when read, by ``channel``); biggest pipeline first."""
    return _by(credit, spend, "channel")


def by_playbook(credit: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    return _by(credit, spend, "playbook_id")


def _by(credit: pd.DataFrame, spend: pd.DataFrame, key: str) -> pd.DataFrame:
    # A missing key (no playbook, budget not on a channel) is a row of its own, not dropped.
    table = roi.roi_table(*_roi_inputs(credit, spend, [key]), by=[key])
    table[key] = table[key].astype(object).where(table[key].notna(), None)
    return table.sort_values(["pipeline", "revenue"], ascending=False).reset_index(drop=True)


def _roi_inputs(credit: pd.DataFrame, spend: pd.DataFrame, by: list[str]):
    """Rollup sums as ``roi.roi_table``'s spend, credit and mqa rows (blank keys as None)."""

    # Plain arrays: a few dozen rows, where each pandas step would cost more than the data.
    def rows(frame, metric, keep=(), **measures):
        chosen = (frame["metric"] == metric).to_numpy() if len(frame) else np.zeros(0, bool)
        size = int(chosen.sum())
        out = {}
        for key in (*by, *keep):
            values = np.full(size, None, dtype=object)
            if key in frame:
                values = frame[key].to_numpy(dtype=object)[chosen]
                values[pd.isna(values) | (values == "")] = None
            out[key] = values
        for name, column in measures.items():
            out[name] = frame[column].to_numpy(dtype=float)[chosen] if column in frame else 0.0
        return pd.DataFrame(out, index=range(size))

    mqa = spend
    if len(spend) and by and "channel" in spend:
        # An mqa account without touches is in the total only, in no channel or playbook row.
        mqa = spend.loc[~((spend["metric"] == "mqa") & (spend["channel"] == ""))]
    return (
        rows(spend, "spend", amount="value"),
        rows(credit, "credit", keep=("kind",), credit="value", weight="count"),
        rows(mqa, "mqa", mqa="value"),
    )


def models_by_channel(credit: pd.DataFrame, models: list[str], channels: list[str]):
    """``{model: [credit per channel in channels order]}`` for the side-by-side chart."""
    # One grouped sum: a selection per model cost a scan each.
    per = credit.groupby(["model", "channel"])["value"].sum().to_dict() if len(credit) else {}
    return {m: [float(per.get((m, channel), 0.0)) for channel in channels] for m in models}


def funnel_rows(reached: Mapping[str, int], stages: list[tuple[str, str]]) -> list[dict]:
    """Funnel steps from the accounts that reached each stage (or beyond) in the period, with
    the drop-off from the step before: the share of those that did not get this far."""
    rows = []
    before = None
    for stage, label in stages:
        count = int(reached.get(stage, 0))
        rows.append(
            {
                "stage": stage,
                "label": label,
                "reached": count,
                "drop_off": None if not before else 1 - count / before,
            }
        )
        before = count
    return rows


def monthly(frame: pd.DataFrame, months: list, *, metric: str) -> list[float | None]:
    """``value / count`` per month (a rate), None for a month without any count."""
    sums = month_sums(frame, metric)
    rates = []
    for month in months:
        value, count = sums.get(month, (0.0, 0.0))
        rates.append(float(value / count) if count else None)
    return rates


def month_sums(frame: pd.DataFrame, metric: str) -> dict:
    """``{period: (value, count)}`` of ``metric``'s rows (a few dozen: no pandas steps)."""
    sums: dict = {}
    if not len(frame):
        return sums
    columns = (frame[c].to_numpy() for c in ("metric", "period", "value", "count"))
    for name, period, value, count in zip(*columns, strict=True):
        if name == metric:
            before = sums.get(period, (0.0, 0.0))
            sums[period] = (before[0] + float(value), before[1] + float(count))
    return sums


def origin_shares(deals: pd.DataFrame) -> dict:
    """Sourced vs influenced: pipeline amounts and their shares of all pipeline created."""
    pipeline = total(deals, "opportunities")
    sourced = total(deals, "sourced")
    influenced = total(deals, "influenced")
    return {
        "pipeline": pipeline,
        "sourced": sourced,
        "influenced": influenced,
        "sourced_share": ratio(sourced, pipeline),
        "influenced_share": ratio(influenced, pipeline),
        "opportunities": total(deals, "opportunities", "count"),
    }


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN / NA as None (undefined, shown as "—")."""
    return [{k: _clean_any(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _clean_any(value):
    if value is None or value is pd.NA or _nan(value):
        return None
    return value


def _clean(value):
    if value is None or _nan(value):
        return None
    return float(value)


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)
