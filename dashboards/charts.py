"""Plotly figure dicts for the dashboards: pure data in, JSON-ready dicts out.

The page renders them with our static plotly.js (static/js/dashboard_charts.js). A point's
``customdata`` is the URL of the records behind it, so a click drills down. Colours come from
``abm/lib/colours.py`` so a channel looks the same on every chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from abm.lib import colours

FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
MONEY_AXIS = {"tickprefix": "$", "tickformat": "~s", "hoverformat": ",.0f"}
PERCENT_AXIS = {"tickformat": ".0%", "hoverformat": ".1%"}
COUNT_AXIS = {"tickformat": ",d"}
AXES = {"money": MONEY_AXIS, "percent": PERCENT_AXIS, "count": COUNT_AXIS}
HOVER = {
    "money": "%{x}<br>%{fullData.name}: $%{y:,.0f}<extra></extra>",
    "percent": "%{x}<br>%{fullData.name}: %{y:.1%}<extra></extra>",
    "count": "%{x}<br>%{fullData.name}: %{y:,}<extra></extra>",
}


def channel_colour(channel: str, index: int = 0) -> str:
    return colours.CHANNEL_COLOURS.get(channel, colours.SERIES[index % len(colours.SERIES)])


def layout(*, y: str = "money", height: int = 320, legend: bool = True, **extra) -> dict:
    base = {
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 16, "b": 56},
        "font": {"family": FONT, "size": 12, "color": colours.CHART_TEXT},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "yaxis": {**AXES[y], "gridcolor": colours.GRID, "zeroline": False, "automargin": True},
        "xaxis": {"automargin": True},
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.22},
        "hoverlabel": {"font": {"family": FONT}},
    }
    base.update(extra)
    return base


def bars(
    categories: Sequence[str],
    series: Sequence[dict],
    *,
    y: str = "money",
    stacked: bool = False,
    height: int = 320,
) -> dict:
    """Grouped (or stacked) bars. ``series``: ``name``, ``values``, optional ``colour`` (one
    colour or one per bar), ``urls`` (one per bar)."""
    traces = []
    for index, item in enumerate(series):
        traces.append(
            {
                "type": "bar",
                "name": item["name"],
                "x": [wrap(c) for c in categories],
                "y": [_number(v) for v in item["values"]],
                "marker": {
                    "color": item.get("colour") or colours.SERIES[index % len(colours.SERIES)]
                },
                "customdata": list(item.get("urls") or []),
                "hovertemplate": HOVER[y],
            }
        )
    return {
        "data": traces,
        "layout": layout(
            y=y,
            height=height,
            legend=len(traces) > 1,
            barmode="stack" if stacked else "group",
            bargap=0.25,
        ),
    }


def lines(
    x: Sequence[str], series: Sequence[dict], *, y: str = "percent", height: int = 300
) -> dict:
    """Lines over months or weeks; ``series`` as in ``bars`` (``dash`` optional)."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": item["name"],
            "x": list(x),
            "y": [_number(v) for v in item["values"]],
            "line": {
                "color": item.get("colour") or colours.SERIES[index % len(colours.SERIES)],
                "width": 2,
                "dash": item.get("dash", "solid"),
            },
            "customdata": list(item.get("urls") or []),
            "hovertemplate": HOVER[y],
            "connectgaps": False,
        }
        for index, item in enumerate(series)
    ]
    return {"data": traces, "layout": layout(y=y, height=height, legend=len(traces) > 1)}


def funnel(stages: Sequence[str], counts: Sequence[int], urls: Sequence[str]) -> dict:
    return {
        "data": [
            {
                "type": "funnel",
                "y": list(stages),
                "x": list(counts),
                "customdata": list(urls),
                "textinfo": "value+percent initial",
                "marker": {"color": colours.SERIES[0]},
                "connector": {"line": {"color": colours.GRAY_300}},
                "hovertemplate": "%{y}: %{x:,} accounts<extra></extra>",
            }
        ],
        "layout": layout(
            y="count", height=300, legend=False, margin={"l": 110, "r": 16, "t": 8, "b": 24}
        ),
    }


def intervals(
    labels: Sequence[str],
    estimates: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    urls: Sequence[str],
    *,
    notes: Sequence[str | None] | None = None,
    y: str = "percent",
) -> dict:
    """Point estimates with their confidence interval as error bars (holdout lift).

    A category with a note (``notes``, e.g. "not enough data (12 enrolled / 3 holdout)") gets
    no point at all, only the note written at zero: never a bare estimate without its interval.
    A point without both ends of its interval is left out the same way."""
    notes = list(notes) if notes is not None else [None] * len(labels)
    est = [
        None if note or _number(lo) is None or _number(hi) is None else _number(e)
        for e, lo, hi, note in zip(estimates, lows, highs, notes, strict=True)
    ]
    plus = [None if e is None else _number(h) - e for e, h in zip(est, highs, strict=True)]
    minus = [None if e is None else e - _number(lo) for e, lo in zip(est, lows, strict=True)]
    categories = [wrap(label) for label in labels]
    annotations = [
        {
            "x": category,
            "y": 0,
            # "not enough data<br>(12 enrolled / 3 holdout)": narrow enough to sit side by side
            "text": note.replace(" (", "<br>(", 1),
            "showarrow": False,
            "yshift": 22,
            "font": {"size": 11, "color": colours.GRAY_600},
        }
        for category, note in zip(categories, notes, strict=True)
        if note
    ]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Enrolled − holdout",
                "x": categories,
                "y": est,
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [v or 0 for v in plus],
                    "arrayminus": [v or 0 for v in minus],
                    "color": colours.GRAY_600,
                },
                "marker": {"size": 11, "color": colours.SERIES[0]},
                "customdata": list(urls),
                "hovertemplate": HOVER[y],
            }
        ],
        "layout": layout(
            y=y,
            height=280,
            legend=False,
            annotations=annotations,
            shapes=[
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 0,
                    "y1": 0,
                    "line": {"color": colours.GRAY_400, "dash": "dot"},
                }
            ],
        ),
    }


def wrap(label: str, width: int = 18) -> str:
    """Long axis labels over two lines, so bars keep their width on a laptop screen."""
    if len(label) <= width or " " not in label:
        return label
    middle = len(label) // 2
    spaces = [i for i, ch in enumerate(label) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return label[:cut] + "<br>" + label[cut + 1 :]


def _number(value):
    """None and NaN as gaps (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return None if value != value else value
