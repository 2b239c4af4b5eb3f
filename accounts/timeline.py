"""An account's timeline: weekly touches by channel with its opportunities on top (pure pandas).

The loader (accounts/profile.py) hands in two frames and this module returns a JSON-ready dict
with the series and a plotly figure (data + layout) that static/js/account_timeline.js draws as is:

- activities: occurred_at (tz-aware UTC), channel
- opportunities: opportunity_id, name, amount, stage, created_at, closed_at (tz-aware UTC or NaT)

Weeks start on Monday (UTC). The range runs from the week of the first activity or opportunity
(at least MIN_WEEKS back, at most MAX_WEEKS) to the current week; older rows are left out of the
chart, never shifted into it.
"""

import pandas as pd

from abm.lib import colours
from abm.lib.channels import Channel
from abm.lib.timeconv import to_utc

MIN_WEEKS = 12
MAX_WEEKS = 104
WEEK_MS = 7 * 24 * 3600 * 1000
# A Monday: plotly aligns the weekly periods of the bars on it.
_PERIOD_ORIGIN = "2024-01-01"
MARKERS = {
    # kind: (legend name, plotly symbol, colour)
    "created": ("Opportunity created", "diamond", colours.BLUE_700),
    "won": ("Closed won", "star", colours.GREEN_600),
    "lost": ("Closed lost", "x", colours.RED_600),
}
_FALLBACK_COLOUR = colours.GRAY_400


def week_start(stamp: pd.Timestamp) -> pd.Timestamp:
    """Midnight UTC of the Monday on or before `stamp`."""
    day = to_utc(stamp).normalize()
    return day - pd.Timedelta(days=day.day_of_week)


def timeline_data(
    activities: pd.DataFrame, opportunities: pd.DataFrame, *, now: pd.Timestamp
) -> dict:
    """Weeks, one series per channel with touches, opportunity markers and the plotly figure."""
    last = week_start(now)
    earliest = [last - pd.Timedelta(weeks=MIN_WEEKS - 1)]
    if len(activities):
        earliest.append(week_start(activities["occurred_at"].min()))
    if len(opportunities):
        earliest.append(week_start(opportunities["created_at"].min()))
    first = max(min(earliest), last - pd.Timedelta(weeks=MAX_WEEKS - 1))
    weeks = pd.date_range(first, last, freq="7D")

    series = _weekly_series(activities, weeks)
    markers = _markers(opportunities, start=first, end=pd.Timestamp(now))
    return {
        "weeks": [w.date().isoformat() for w in weeks],
        "series": series,
        "markers": markers,
        "total": int(sum(sum(s["counts"]) for s in series)),
        "figure": timeline_figure([w.date().isoformat() for w in weeks], series, markers),
    }


def _weekly_series(activities: pd.DataFrame, weeks: pd.DatetimeIndex) -> list[dict]:
    if not len(activities):
        return []
    occurred = pd.to_datetime(activities["occurred_at"], utc=True)
    days = occurred.dt.normalize()
    starts = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    frame = pd.DataFrame({"week": starts, "channel": activities["channel"].to_numpy()})
    frame = frame.loc[(frame["week"] >= weeks[0]) & (frame["week"] <= weeks[-1])]
    counts = frame.groupby(["channel", "week"]).size().unstack("week", fill_value=0)
    counts = counts.reindex(columns=weeks, fill_value=0)
    known = [c for c in Channel.values if c in counts.index]
    unknown = sorted(c for c in counts.index if c not in Channel.values)
    series = []
    for channel in known + unknown:
        row = counts.loc[channel]
        if row.sum() == 0:
            continue
        series.append(
            {
                "channel": channel,
                "label": _channel_label(channel),
                "colour": colours.CHANNEL_COLOURS.get(channel, _FALLBACK_COLOUR),
                "counts": [int(v) for v in row.to_numpy()],
            }
        )
    return series


def _markers(opportunities: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> list[dict]:
    rows = []
    for opp in opportunities.itertuples(index=False):
        events = [("created", opp.created_at)]
        if opp.stage in ("closed_won", "closed_lost") and not pd.isna(opp.closed_at):
            events.append(("won" if opp.stage == "closed_won" else "lost", opp.closed_at))
        for kind, at in events:
            at = pd.Timestamp(at).tz_convert("UTC")
            if at < start or at > end:
                continue
            amount = None if pd.isna(opp.amount) else float(opp.amount)
            rows.append(
                {
                    "kind": kind,
                    "at": at.isoformat(),
                    "opportunity_id": int(opp.opportunity_id),
                    "name": str(opp.name),
                    "amount": amount,
                }
            )
    rows.sort(key=lambda r: (r["at"], r["opportunity_id"], r["kind"]))
    return rows


def timeline_figure(weeks: list[str], series: list[dict], markers: list[dict]) -> dict:
    """A plotly figure dict: stacked weekly bars per channel, opportunity markers above them."""
    data: list[dict] = [
        {
            "type": "bar",
            "name": s["label"],
            "x": weeks,
            "y": s["counts"],
            "marker": {"color": s["colour"]},
            "xperiod": WEEK_MS,
            "xperiod0": _PERIOD_ORIGIN,
            "xperiodalignment": "middle",
            "hovertemplate": "%{y} × %{fullData.name}<br>week of %{x|%b %-d, %Y}<extra></extra>",
        }
        for s in series
    ]
    stacked = [sum(column) for column in zip(*(s["counts"] for s in series), strict=True)]
    top = max(stacked, default=0)
    marker_y = max(top * 1.15, 1)
    for kind, (name, symbol, colour) in MARKERS.items():
        points = [m for m in markers if m["kind"] == kind]
        if not points:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": [m["at"] for m in points],
                "y": [marker_y] * len(points),
                "text": [_marker_text(name, m) for m in points],
                "marker": {
                    "symbol": symbol,
                    "size": 13,
                    "color": colour,
                    "line": {"color": colours.WHITE, "width": 1},
                },
                "hovertemplate": "%{text}<br>%{x|%b %-d, %Y}<extra></extra>",
                "cliponaxis": False,
            }
        )
    shapes = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": m["at"],
            "x1": m["at"],
            "y0": 0,
            "y1": 1,
            "line": {"color": MARKERS[m["kind"]][2], "width": 1, "dash": "dot"},
            "opacity": 0.55,
            "layer": "below",
        }
        for m in markers
    ]
    layout = {
        "barmode": "stack",
        "bargap": 0.18,
        "height": 340,
        "margin": {"l": 44, "r": 16, "t": 12, "b": 24},
        "paper_bgcolor": colours.CHART_BACKGROUND,
        "plot_bgcolor": colours.CHART_BACKGROUND,
        "font": {
            "family": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
            "size": 12,
            "color": colours.CHART_TEXT,
        },
        "hovermode": "closest",
        "hoverlabel": {
            "bgcolor": colours.TOOLTIP,
            "bordercolor": colours.TOOLTIP,
            "font": {"color": colours.WHITE},
        },
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": -0.12,
            "yanchor": "top",
            "traceorder": "normal",
            "font": {"size": 11},
        },
        "xaxis": {
            "type": "date",
            "showgrid": False,
            "linecolor": colours.AXIS_LINE,
            "tickformat": "%b %Y",
            # One tick a month up to ~7 months, then every 2 or 3: never a label twice.
            "dtick": f"M{1 if len(weeks) <= 30 else 2 if len(weeks) <= 60 else 3}",
            "tick0": "2000-01-01",
            "range": _x_range(weeks),
        },
        "yaxis": {
            "title": {"text": "Touches per week", "font": {"size": 12}},
            "gridcolor": colours.GRID,
            "zeroline": False,
            "rangemode": "tozero",
            "range": [0, marker_y * 1.12],
            "fixedrange": True,
        },
        "shapes": shapes,
    }
    return {"data": data, "layout": layout}


def _x_range(weeks: list[str]) -> list[str] | None:
    if not weeks:
        return None
    end = pd.Timestamp(weeks[-1]) + pd.Timedelta(days=7)
    return [weeks[0], end.date().isoformat()]


def _marker_text(name: str, marker: dict) -> str:
    amount = marker["amount"]
    money = f" (${amount:,.0f})" if amount is not None else ""
    # Plotly reads a few HTML tags in hover text; names come from users and CRMs, so escape them.
    label = marker["name"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"{name}: {label}{money}"


def _channel_label(channel: str) -> str:
    try:
        return str(Channel(channel).label)
    except ValueError:
        return channel.replace("_", " ").capitalize()
