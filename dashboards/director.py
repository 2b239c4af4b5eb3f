"""The director's ROI dashboard: what marketing work turned into pipeline and revenue.

Reads only the stored rollups (a fixed number of grouped queries whatever the data size), then
hands small frames to the pure figures and chart builders.
"""

from __future__ import annotations

from dataclasses import replace

from django.template.loader import render_to_string
from django.urls import reverse

from abm.lib import colours
from accounts.models import JourneyStage
from dashboards import charts
from dashboards import figures as fig
from dashboards.drilldown import leads_url, opportunities_url, reached_accounts_url, spend_url
from dashboards.figure_cache import cached_figures, remember_looked_at
from dashboards.figures import Column, Table
from dashboards.filters import NON_TARGET, TARGETS, DashboardFilters, add_months
from dashboards.funnel import funnel_reached
from dashboards.panels import (
    COST_COLUMNS,
    channel_label,
    holdout_chart,
    holdout_table,
    playbook_table,
    spend_sub,
    unallocated_spend,
)
from dashboards.rollup_reading import data_first_day, rollup_sums, snapshot_rows
from goals.loading import goal_summary_rows
from goals.progress import goal_summaries
from goals.visibility import goals_visible_to
from metrics.models import AttributionModel
from playbooks.models import Playbook

MODEL_EXPLANATIONS = {
    "first_touch": "All the credit to the first touch: which channels open doors.",
    "last_touch": "All the credit to the last touch before the deal: which channels close the gap.",
    "linear": "Every touch in the journey gets an equal share.",
    "time_decay": "Recent touches count more; a touch's weight halves every 7 days back.",
    "u_shaped": "40 % to the first touch, 40 % to the last, 20 % shared by the middle.",
    "w_shaped": "30 % each to the first touch, the touch that made the account an MQA and the "
    "last touch; 10 % shared by the rest.",
    "markov": "Data-driven: how much less often deals happen when a channel is removed from "
    "the journeys (Markov chain removal effect).",
    "shapley": "Data-driven: each deal split equally over the distinct channels in its journey, "
    "the fair share of a cooperative game (simplified Shapley).",
}


def director_context(user, filters: DashboardFilters) -> dict:
    previous = filters.previous
    credit = rollup_sums(
        user, filters, metrics=["credit"], by=["model", "kind", "channel", "playbook_id"]
    )
    # Spend and mqa in one read (the costs per mqa); by tier for the budget on no account.
    spend = rollup_sums(
        user, filters, metrics=["spend", "mqa"], by=["channel", "playbook_id", "tier"]
    )
    prev_credit = rollup_sums(user, previous, metrics=["credit"], by=["kind"], model=filters.model)
    prev_spend = rollup_sums(user, previous, metrics=["spend"])
    deal_metrics = [*fig.DEAL_METRICS, "sourced", "influenced"]
    # Deal figures compare tiers, so the tier filter narrows only the tiles computed from them.
    deals = rollup_sums(user, filters, metrics=deal_metrics, by=["tier", "segment"], tiers=False)
    prev_deals = rollup_sums(
        user, previous, metrics=deal_metrics, by=["tier", "segment"], tiers=False
    )
    accounts = rollup_sums(
        user, filters, metrics=["accounts"], by=["tier", "segment"], snapshot=True, tiers=False
    )
    follow_up = rollup_sums(user, filters, metrics=["follow_up", "leads"], by=["period"])

    chosen = credit.loc[credit["model"] == filters.model] if len(credit) else credit
    sums = fig.segment_sums(deals, accounts)
    prev_sums = fig.segment_sums(prev_deals, accounts)
    tiles = _tiles(filters, chosen, spend, sums, prev_credit, prev_spend, prev_sums)
    _spend_tile(tiles)["sub"] = spend_sub(filters, unallocated_spend(user, filters, spend))
    first_day = data_first_day()
    if first_day is None or first_day > previous.first_day:
        # The data begin inside (or after) the previous period: a change would compare with
        # months that have no records, so none is shown.
        for tile in tiles:
            tile["change"], tile["no_comparable_period"] = None, True
    channels = fig.by_channel(chosen, spend)
    playbooks = fig.by_playbook(chosen, spend)
    names = dict(Playbook.objects.values_list("pk", "name"))
    tier_deals = _tier_selected(deals, filters.tier)

    tables = [
        _channel_table(channels, filters),
        playbook_table(playbooks, filters, names),
        _models_table(credit, filters),
        fig.target_table(sums, _segment_urls(filters)),
        _funnel_table(funnel_reached(user, filters), filters),
        _follow_up_table(follow_up, filters),
        _origin_table(fig.origin_shares(tier_deals), filters),
        holdout_table(snapshot_rows(user, metric="holdout", filters=filters), names),
    ]
    by_name = {t.name: t for t in tables}
    return {
        "tiles": tiles,
        "tables": tables,
        "t": by_name,
        "charts": _charts(by_name, filters),
        "model_label": AttributionModel(filters.model).label,
        "models": [
            {"label": label, "text": MODEL_EXPLANATIONS[value], "current": value == filters.model}
            for value, label in AttributionModel.choices
        ],
        "has_data": bool(len(credit) or len(spend) or len(deals) or len(accounts)),
        "origin": fig.origin_shares(tier_deals),
    }


def director_figures(user, filters: DashboardFilters) -> dict:
    """``director_context`` and the HTML of its panels (``html``: ``top`` above the goals,
    ``bottom`` below), kept together (dashboards/figure_cache.py): a look at kept figures, the
    worker's after a run too, renders only the page around them."""
    figures = director_context(user, filters)
    if figures["has_data"]:  # else the page shows what to do instead
        context = {**figures, "filters": filters}
        figures["html"] = {
            part: render_to_string(f"dashboards/_director_{part}.html", context)
            for part in ("top", "bottom")
        }
    return figures


def director_page_context(user, filters: DashboardFilters) -> dict:
    """The figures (kept between runs, dashboards/figure_cache.py) and the goals (read fresh)."""
    remember_looked_at(user, filters)
    return {**cached_figures(director_figures, user, filters), "goals": goal_rows(user, filters)}


def goal_rows(user, filters: DashboardFilters, *, limit: int = 8) -> list[dict]:
    """Top-level goals running in the period, with progress as stored by the last recompute."""
    goals = (
        goals_visible_to(user)
        .filter(parent=None, start_date__lte=filters.last_day, end_date__gte=filters.first_day)
        .select_related("owner")
        .order_by("end_date", "name")[:limit]
    )
    return [
        {**row, "url": reverse("goals:goal_detail", args=[row["id"]])}
        for row in goal_summaries(goal_summary_rows(goals))
    ]


def _tier_selected(frame, tier: str):
    if not len(frame) or not tier:
        return frame
    if tier == TARGETS:
        return frame.loc[frame["tier"] >= 1]
    if tier == NON_TARGET:
        return frame.loc[frame["tier"] == 0]
    return frame.loc[frame["tier"] == int(tier)]


def _tiles(filters, chosen, spend, sums, prev_credit, prev_spend, prev_sums) -> list[dict]:
    now = {**fig.money_totals(chosen, spend), "lift": fig.win_rate_lift(sums)}
    prev = {**fig.money_totals(prev_credit, prev_spend), "lift": fig.win_rate_lift(prev_sums)}
    model = AttributionModel(filters.model).label
    return [
        {
            "key": "pipeline",
            "label": "Attributed pipeline",
            "value": now["pipeline"],
            "format": "money",
            "change": fig.change(now["pipeline"], prev["pipeline"]),
            "sub": f"opportunities created, {model} model",
            "url": opportunities_url(filters, kind="pipeline"),
        },
        {
            "key": "revenue",
            "label": "Won revenue",
            "value": now["revenue"],
            "format": "money",
            "change": fig.change(now["revenue"], prev["revenue"]),
            "sub": "closed won after marketing touches",
            "url": opportunities_url(filters, kind="revenue"),
        },
        {
            "key": "spend",
            "label": "Spend",
            "value": now["spend"],
            "format": "money",
            "change": fig.change(now["spend"], prev["spend"]),
            "sub": "activity costs and budget lines",
            "url": spend_url(filters),
        },
        {
            "key": "roi",
            "label": "ROI",
            "value": now["roi"],
            "format": "percent",
            "change": _difference(now["roi"], prev["roi"]),
            "change_is_points": True,
            "sub": "(won revenue − spend) / spend",
            "url": "",
        },
        {
            "key": "lift",
            "label": "Win-rate lift",
            "value": now["lift"],
            "format": "signed_percent",
            "change": _difference(now["lift"], prev["lift"]),
            "change_is_points": True,
            "sub": "target vs non-target accounts",
            "url": opportunities_url(filters, kind="pipeline", credited=False, tier="targets"),
        },
    ]


def _spend_tile(tiles: list[dict]) -> dict:
    return next(tile for tile in tiles if tile["key"] == "spend")


def _difference(current, previous):
    """Change of a ratio in percentage points (a relative change of a ratio misleads)."""
    if current is None or previous is None:
        return None
    return current - previous


def _channel_table(channels, filters) -> Table:
    table = Table(
        "by_channel",
        "Pipeline and revenue by channel",
        [
            Column("channel", "Channel"),
            Column("pipeline", "Attributed pipeline", "money"),
            Column("revenue", "Attributed revenue", "money"),
            Column("spend", "Spend", "money"),
            Column("roi", "ROI", "percent"),
            Column("pipeline_ratio", "Pipeline / spend", "number"),
            *COST_COLUMNS,
        ],
    )
    for row in fig.records(channels):
        key = row["channel"] or "unallocated"
        allocated = key != "unallocated"
        table.rows.append(
            {
                **row,
                "channel_key": key,
                "channel": channel_label(key),
                # Unallocated budget is spend only: no deal is credited to it.
                "url": opportunities_url(filters, channel=key) if allocated else "",
                "revenue_url": opportunities_url(filters, kind="revenue", channel=key)
                if allocated
                else "",
                "spend_url": spend_url(filters, channel=key),
            }
        )
    return table


def _models_table(credit, filters) -> Table:
    channels = sorted(
        {c for c in (credit["channel"] if len(credit) else []) if c},
        key=lambda c: channel_label(c),
    )
    models = list(AttributionModel.values)
    table = Table(
        "models_side_by_side",
        "All attribution models side by side (pipeline)",
        [Column("channel", "Channel")]
        + [Column(m, AttributionModel(m).label, "money") for m in models],
    )
    pipeline = credit.loc[credit["kind"] == "pipeline"] if len(credit) else credit
    per_model = fig.models_by_channel(pipeline, models, channels)
    for index, channel in enumerate(channels):
        table.rows.append(
            {
                "channel": channel_label(channel),
                "channel_key": channel,
                **{m: per_model[m][index] for m in models},
                "url": opportunities_url(filters, channel=channel),
            }
        )
    return table


def _segment_urls(filters) -> dict[str, str]:
    base = replace(filters, tier="")
    urls = {
        "target": opportunities_url(base, credited=False, tier="targets"),
        "non_target": opportunities_url(base, credited=False, tier="0"),
    }
    for tier in (1, 2, 3):
        urls[f"tier_{tier}"] = opportunities_url(base, credited=False, tier=str(tier))
    return urls


def _funnel_table(reached: dict[str, int], filters) -> Table:
    rows = fig.funnel_rows(reached, list(JourneyStage.choices))
    table = Table(
        "funnel",
        "Target accounts by journey stage",
        [
            Column("label", "Stage"),
            Column("reached", "Reached in the period", "count"),
            Column("drop_off", "Drop-off from the stage before", "percent"),
        ],
    )
    if not any(row["reached"] for row in rows):
        return table  # the panel says no target account moved in the period
    for row in rows:
        row["url"] = reached_accounts_url(filters, row["stage"])
        table.rows.append(row)
    return table


def _follow_up_table(follow_up, filters) -> Table:
    months = _months(filters)
    rates = fig.monthly(follow_up, months, metric="follow_up")
    due = _per_month(follow_up, months, "follow_up", "count")
    handed = _per_month(follow_up, months, "leads", "count")
    # Over the decided leads, as the rate: a lead still inside its SLA has no follow-up yet, so
    # every lead followed up is decided and the share never reads below the rate.
    followed = [
        f / d if d else None
        for f, d in zip(_per_month(follow_up, months, "leads", "value"), due, strict=True)
    ]
    table = Table(
        "follow_up",
        "Lead follow-up by hand-off month",
        [
            Column("month", "Month"),
            Column("handed_off", "Leads handed off", "count"),
            Column("due", "Decided (followed up, or SLA passed)", "count"),
            Column("rate", "Followed up within SLA", "percent"),
            Column("followed_share", "Followed up at all", "percent"),
        ],
    )
    for month, rate, share, d, h in zip(months, rates, followed, due, handed, strict=True):
        table.rows.append(
            {
                "month": f"{month:%b %Y}",
                "handed_off": h,
                "due": d,
                "rate": rate,
                "followed_share": share,
                "url": leads_url(filters, month=month),
                "on_time_url": leads_url(filters, month=month, follow_up="on_time"),
                "followed_url": leads_url(filters, month=month, follow_up="followed"),
            }
        )
    return table


def _origin_table(origin: dict, filters) -> Table:
    table = Table(
        "sourced_vs_influenced",
        "Sourced vs influenced pipeline",
        [
            Column("origin", "Pipeline"),
            Column("amount", "Amount", "money"),
            Column("share", "Share of pipeline", "percent"),
        ],
    )
    table.rows = [
        {
            "origin": "Marketing-sourced",
            "amount": origin["sourced"],
            "share": origin["sourced_share"],
            "url": opportunities_url(filters, credited=False, origin="sourced"),
        },
        {
            "origin": "Marketing-influenced",
            "amount": origin["influenced"],
            "share": origin["influenced_share"],
            "url": opportunities_url(filters, credited=False, origin="influenced"),
        },
        {
            "origin": "All pipeline created",
            "amount": origin["pipeline"],
            "share": 1.0 if origin["pipeline"] else None,
            "url": opportunities_url(filters, credited=False),
        },
    ]
    return table


def _pipeline_and_revenue(labels: list, rows: list[dict], *, pipeline_colour=None) -> dict:
    """Pipeline and revenue bars side by side, each bar opening the deals it counts."""
    pipeline = {
        "name": "Pipeline",
        "values": [r["pipeline"] for r in rows],
        "urls": [r["url"] for r in rows],
    }
    if pipeline_colour is not None:
        pipeline["colour"] = pipeline_colour
    revenue = {
        "name": "Revenue",
        "values": [r["revenue"] for r in rows],
        "colour": colours.GRAY_900,
        "urls": [r["revenue_url"] for r in rows],
    }
    return charts.bars(labels, [pipeline, revenue])


def _charts(t: dict[str, Table], filters) -> dict:
    channel_rows = [r for r in t["by_channel"].rows if r["channel_key"] != "unallocated"]
    playbook_rows = t["by_playbook"].rows
    models = list(AttributionModel.values)
    model_rows = t["models_side_by_side"].rows
    funnel_rows = t["funnel"].rows
    follow = t["follow_up"].rows
    return {
        "by_channel": _pipeline_and_revenue(
            [r["channel"] for r in channel_rows],
            channel_rows,
            pipeline_colour=[charts.channel_colour(r["channel_key"]) for r in channel_rows],
        ),
        "by_playbook": _pipeline_and_revenue([r["playbook"] for r in playbook_rows], playbook_rows),
        "models": charts.bars(
            [r["channel"] for r in model_rows],
            [
                {
                    "name": AttributionModel(m).label,
                    "values": [r[m] for r in model_rows],
                    "urls": [
                        opportunities_url(
                            replace(filters, model=m),
                            channel=r["channel_key"],
                        )
                        for r in model_rows
                    ],
                }
                for m in models
            ],
            height=360,
        ),
        "funnel": charts.funnel(
            [r["label"] for r in funnel_rows],
            [r["reached"] for r in funnel_rows],
            [r["url"] for r in funnel_rows],
        ),
        "follow_up": charts.lines(
            [r["month"] for r in follow],
            [
                {
                    "name": "Followed up within SLA",
                    "values": [r["rate"] for r in follow],
                    "urls": [r["on_time_url"] for r in follow],
                },
                {
                    "name": "Followed up at all",
                    "values": [r["followed_share"] for r in follow],
                    "dash": "dot",
                    "urls": [r["followed_url"] for r in follow],
                },
            ],
        ),
        "holdout": holdout_chart(t["holdout_lift"]),
    }


def _months(filters) -> list:
    return [add_months(filters.start, i) for i in range(filters.months)]


def _per_month(frame, months, metric, column) -> list[float]:
    sums = fig.month_sums(frame, metric)
    at = 0 if column == "value" else 1
    return [sums[month][at] if month in sums else 0.0 for month in months]
