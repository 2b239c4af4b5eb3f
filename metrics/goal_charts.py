"""The burn-up chart of a goal as a plotly figure dict (drawn by static/js/goal_detail.js)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from abm.lib import colours
from metrics.goal_progress import period_bounds, value_unit

ACTUAL = colours.BLUE_500
EXPECTED = colours.GRAY_500
TARGET = colours.GREEN_600
_AXIS = {"money": {"tickprefix": "$", "tickformat": ",.0f"}, "rate": {"tickformat": ".0%"}}


def burn_up_figure(
    *,
    metric: str,
    actual: pd.DataFrame,
    expected_times: np.ndarray,
    expected_values: np.ndarray,
    target: float,
    start: dt.date,
    end: dt.date,
    milestones: Sequence[tuple[dt.date, float]] = (),
) -> dict:
    """Actual (``date, value`` at the end of each day) vs expected vs target over the period."""
    lo, hi = period_bounds(start, end)
    unit = value_unit(metric)
    hover = {"money": "$%{y:,.0f}", "rate": "%{y:.1%}"}.get(unit, "%{y:,.0f}")
    # Actual values are as of the end of each day: plot them there, so the lines meet the
    # expected line's points (also at the end of their days).
    actual_x = [_iso(pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)) for day in actual["date"]]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Expected",
            "x": [_iso(pd.Timestamp(int(t), tz="UTC")) for t in expected_times],
            "y": [float(v) for v in expected_values],
            "line": {"color": EXPECTED, "dash": "dash", "width": 2},
            "hovertemplate": f"Expected {hover}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Target",
            "x": [_iso(lo), _iso(hi)],
            "y": [float(target), float(target)],
            "line": {"color": TARGET, "dash": "dot", "width": 2},
            "hovertemplate": f"Target {hover}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Actual",
            "x": [_iso(lo), *actual_x] if unit != "rate" else actual_x,
            "y": ([0.0] if unit != "rate" else [])
            + [None if pd.isna(v) else float(v) for v in actual["value"]],
            "line": {"color": ACTUAL, "width": 3},
            "hovertemplate": f"Actual {hover}<extra></extra>",
        },
    ]
    if milestones:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Milestones",
                "x": [
                    _iso(pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1))
                    for day, _ in milestones
                ],
                "y": [float(value) for _, value in milestones],
                "marker": {"symbol": "diamond", "size": 10, "color": EXPECTED},
                "hovertemplate": f"Milestone {hover}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            "height": 340,
            "margin": {"l": 64, "r": 16, "t": 8, "b": 40},
            "hovermode": "x unified",
            "legend": {"orientation": "h", "y": -0.18},
            "xaxis": {"range": [_iso(lo), _iso(hi)], "type": "date", "gridcolor": colours.GRID},
            "yaxis": {"rangemode": "tozero", "gridcolor": colours.GRID, **_AXIS.get(unit, {})},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": "system-ui, sans-serif", "size": 12},
        },
    }


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S")
