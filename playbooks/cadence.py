"""The cadence chart: a playbook's steps on one day axis, by channel, as a plotly figure dict.

Pure: takes plain dicts, returns plain dicts, never touches the ORM or the request.

Stages run one after another in this picture, though in reality an account leaves a stage when it
reaches the stage's exit journey stage. A stage's **nominal length** is its latest step's
`day_offset` + 7 days (a week to respond to the last touch), 7 days for a stage without steps; a
stage starts where the previous one nominally ends. A step sits at stage start + its day offset.
"""

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from abm.lib import colours

STAGE_TAIL_DAYS = 7
ROLE_SYMBOLS = {"marketing": "circle", "sales": "diamond"}
ROLE_OUTLINES = {"marketing": colours.NAVY, "sales": colours.ORANGE_600}
BAND_COLOURS = (colours.GRAY_50, colours.WHITE)
FALLBACK_COLOUR = colours.GRAY_500


def _plotly_text(value: str) -> str:
    """User text inside plotly's HTML subset: tags escaped; quotes left as they are, because
    plotly's entity decoder knows no &quot; and would show it (they are text, not attributes)."""
    return escape(value, quote=False)


@dataclass(frozen=True)
class StageSpan:
    name: str
    start: int
    length: int
    steps: int
    cost_per_account: Decimal
    channels: tuple[str, ...]

    @property
    def end(self) -> int:
        return self.start + self.length


def stage_spans(stages: list[dict]) -> list[StageSpan]:
    """Where each stage sits on the day axis; `stages` in playbook order, each with its "steps"."""
    spans, start = [], 0
    for stage in stages:
        steps = stage["steps"]
        last = max((step["day_offset"] for step in steps), default=None)
        length = STAGE_TAIL_DAYS if last is None else last + STAGE_TAIL_DAYS
        channels = tuple(dict.fromkeys(step["channel"] for step in steps))
        cost = sum((Decimal(str(step.get("unit_cost") or 0)) for step in steps), Decimal(0))
        spans.append(
            StageSpan(
                name=stage["name"],
                start=start,
                length=length,
                steps=len(steps),
                cost_per_account=cost,
                channels=channels,
            )
        )
        start += length
    return spans


def cadence_figure(
    stages: list[dict],
    *,
    channel_labels: dict[str, str],
    channel_colours: dict[str, str],
    role_labels: dict[str, str],
) -> dict:
    """The plotly figure: one marker per step, x = cumulative day, y = channel.

    Each stage dict: {"name", "exit_label", "steps": [{"channel", "day_offset", "owner_role",
    "subject", "unit_cost", "target"}]}. One trace per owner role: the marker's fill is the
    channel's colour (the same in every chart of the product), its shape and outline tell the role.
    Channels are listed in `channel_labels` order, only those used.
    """
    spans = stage_spans(stages)
    used = {step["channel"] for stage in stages for step in stage["steps"]}
    channel_order = [channel_labels[c] for c in channel_labels if c in used]
    traces = []
    for role, role_label in role_labels.items():
        xs, ys, marker_colours, texts = [], [], [], []
        for stage, span in zip(stages, spans, strict=True):
            for step in stage["steps"]:
                if step["owner_role"] != role:
                    continue
                day = span.start + step["day_offset"]
                xs.append(day)
                ys.append(channel_labels.get(step["channel"], step["channel"]))
                marker_colours.append(channel_colours.get(step["channel"], FALLBACK_COLOUR))
                texts.append(_hover(step, stage, day, role_label, channel_labels))
        if not xs:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"{role_label} step",
                "x": xs,
                "y": ys,
                "text": texts,
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {
                    "symbol": ROLE_SYMBOLS.get(role, "circle"),
                    "size": 15,
                    "color": marker_colours,
                    "line": {"width": 2, "color": ROLE_OUTLINES.get(role, colours.GRAY_800)},
                },
            }
        )
    total = spans[-1].end if spans else STAGE_TAIL_DAYS
    return {
        "data": traces,
        "layout": {
            "height": 150 + 46 * max(len(channel_order), 1),
            "margin": {"l": 130, "r": 24, "t": 64, "b": 56},
            "paper_bgcolor": colours.CHART_BACKGROUND,
            "plot_bgcolor": colours.CHART_BACKGROUND,
            "font": {
                "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
                "size": 12,
                "color": colours.CHART_TEXT,
            },
            "hovermode": "closest",
            "hoverlabel": {
                "bgcolor": colours.WHITE,
                "bordercolor": colours.GRAY_300,
                "align": "left",
            },
            # The page draws the legend (channel colours and role shapes) in HTML.
            "showlegend": False,
            "xaxis": {
                "title": {"text": "Day after entering the first stage (stages at nominal length)"},
                "range": [-2, total + 1],
                "dtick": 7,
                "zeroline": False,
                "showgrid": True,
                "gridcolor": colours.GRID,
                "fixedrange": True,
            },
            "yaxis": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": channel_order,
                "autorange": "reversed",
                "showgrid": True,
                "gridcolor": colours.GRID,
                "fixedrange": True,
                "automargin": True,
            },
            "shapes": [
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": span.start,
                    "x1": span.end,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": BAND_COLOURS[i % 2],
                    "line": {"width": 0},
                    "layer": "below",
                }
                for i, span in enumerate(spans)
            ]
            + [
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": span.start,
                    "x1": span.start,
                    "y0": 0,
                    "y1": 1,
                    "line": {"width": 1, "color": colours.GRAY_300, "dash": "dot"},
                }
                for span in spans[1:]
            ],
            "annotations": [
                {
                    "xref": "x",
                    "yref": "paper",
                    "x": span.start + span.length / 2,
                    "y": 1.0,
                    "yanchor": "bottom",
                    "showarrow": False,
                    "text": f"<b>{_plotly_text(stage['name'])}</b>"
                    + (
                        f"<br>exits at {_plotly_text(stage['exit_label'])}"
                        if stage["exit_label"]
                        else ""
                    ),
                    "font": {"size": 12, "color": colours.GRAY_800},
                }
                for stage, span in zip(stages, spans, strict=True)
            ],
        },
    }


def _hover(step: dict, stage: dict, day: int, role_label: str, channel_labels: dict) -> str:
    lines = [
        f"<b>{_plotly_text(step.get('subject') or 'No subject')}</b>",
        f"{_plotly_text(stage['name'])} +{step['day_offset']}d · day {day} overall",
        f"{_plotly_text(channel_labels.get(step['channel'], step['channel']))} · {_plotly_text(role_label)}",
    ]
    if step.get("target"):
        lines.append(f"Target: {_plotly_text(step['target'])}")
    cost = Decimal(str(step.get("unit_cost") or 0))
    if cost:
        lines.append(f"Unit cost: ${cost:,.2f}")
    return "<br>".join(lines)
