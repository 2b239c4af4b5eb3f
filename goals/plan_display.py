"""A plan (its JSON, the API's: metrics/planning_output.py) as the planner page shows it: every
figure formatted, with its 80 % range and what it rests on."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from abm.lib.formats import EMPTY, money, percent
from goals.plan_forms import STEP_LABELS, STEPS, channel_label
from metrics.planning_output import STEP_FIELDS, whole_by_month

STAGE_LABELS = {
    "targeted": "Target accounts",
    "engaged": "Engaged accounts",
    "mqa": "MQA accounts",
    "opportunity": "Opportunities",
    "won": "Won deals",
}
STAGES = tuple(STAGE_LABELS)


def count(value) -> str:
    if value is None:
        return EMPTY
    return f"{float(value):,.0f}" if float(value) >= 10 else f"{float(value):,.1f}"


def _range(estimate: dict | None, fmt) -> dict:
    estimate = estimate or {}
    return {
        "value": fmt(estimate.get("value")),
        "low": fmt(estimate.get("low")),
        "high": fmt(estimate.get("high")),
        "accounts": estimate.get("accounts"),
        "fallback": bool(estimate.get("fallback")),
    }


def waterfall_rows(result: dict) -> list[dict]:
    needed, gap = result.get("needed") or {}, result.get("gap") or {}
    return [
        {
            "stage": stage,
            "label": STAGE_LABELS[stage],
            **_range(needed.get(stage), count),
            "gap": gap.get(stage, 0),
        }
        for stage in STAGES
        if stage in needed
    ]


def month_rows(result: dict, start: dt.date) -> list[dict]:
    """Whole accounts and deals per month (metrics/planning_output.py ``whole_by_month``)."""
    by_month = result.get("by_month") or []
    return [
        {
            "label": f"{month:%b %Y}",
            "before": month < start.replace(day=1),
            "cells": [f"{cells[stage]:,}" for stage in STAGES],
        }
        for month, cells in zip(
            (dt.date.fromisoformat(row["month"]) for row in by_month),
            whole_by_month(by_month),
            strict=True,
        )
    ]


def budget_rows(result: dict) -> list[dict]:
    return [
        {
            "channel": channel_label(line["channel"]),
            "key": line["channel"],
            **_range(line.get("amount"), money),
            # A channel whose touches cost nothing on record (email sent by hand, say) brings
            # opportunities but has no cost to budget from: say so rather than "$0".
            "cost_per_opportunity": money(line.get("cost_per_opportunity"))
            if line.get("cost_per_opportunity")
            else "no spend recorded",
            "return_per_dollar": EMPTY
            if line.get("return_per_dollar") is None
            else f"${line['return_per_dollar']:,.2f}",
        }
        for line in result.get("budget") or []
    ]


def channel_rows(result: dict) -> list[dict]:
    """Each channel's measured spend and cost per outcome over the cost window: "—" where no
    account (or deal) is attributed to it, "no spend" where some are but nothing was spent."""

    def per(line, key):
        value = line.get(key)
        return EMPTY if value is None else money(value) if value else "no spend"

    return [
        {
            "channel": channel_label(line["channel"]),
            "key": line["channel"],
            "spend": money(line.get("spend")),
            "engaged": per(line, "cost_per_engaged"),
            "mqa": per(line, "cost_per_mqa"),
            "opportunity": per(line, "cost_per_opportunity"),
        }
        for line in result.get("channels") or []
    ]


def _by_step(figures: dict | None) -> dict:
    """A plan JSON's figures per step (``targeted_engaged``) by the form's step names."""
    figures = figures or {}
    return {step: figures[field] for step, field in STEP_FIELDS.items() if field in figures}


def assumption_rows(assumptions: dict, rates: dict | None = None) -> dict:
    """The editable assumptions with the value shown in each input (a percentage to 0.1)."""
    conversion = _by_step(assumptions.get("conversion"))
    mix = assumptions.get("channel_mix") or {}
    lags = _by_step(assumptions.get("lag_days"))
    return {
        "conversion": [
            {
                "name": f"conv_{index}",
                "label": STEP_LABELS[step],
                "value": f"{float(conversion.get(step, 0)) * 100:.1f}",
                "shown": percent(conversion.get(step)),
            }
            for index, step in enumerate(STEPS)
        ],
        "lags": [
            {
                "name": f"lag_{index}",
                "label": STEP_LABELS[step],
                "value": "" if lags.get(step) is None else f"{float(lags[step]):.0f}",
            }
            for index, step in enumerate(STEPS)
        ],
        "deal_size": f"{float(assumptions.get('deal_size') or 0):.0f}",
        "deal_size_shown": money(assumptions.get("deal_size")),
        "mix": [
            {
                "name": f"mix_{channel}",
                "label": channel_label(channel),
                "value": f"{float(share) * 100:.1f}",
            }
            for channel, share in sorted(mix.items())
        ],
    }


def plan_view(result: dict, *, start: dt.date) -> dict:
    return {
        "waterfall": waterfall_rows(result),
        "months": month_rows(result, start),
        "stage_labels": [STAGE_LABELS[s] for s in STAGES],
        "budget": budget_rows(result),
        "channels": channel_rows(result),
        "cost_months": settings.ABM_PLAN_COST_MONTHS,
        "total_budget": _range(result.get("total_budget"), money),
        "gap": (result.get("gap") or {}).get("targeted", 0),
    }


def assumption_summary(assumptions: dict) -> str:
    """One line: the conversion rates, the deal size and the channel mix a plan was made with."""
    conversion = _by_step(assumptions.get("conversion"))
    parts = [f"{STEP_LABELS[s]} {percent(conversion[s])}" for s in STEPS if s in conversion]
    if assumptions.get("deal_size") is not None:
        parts.append(f"deal {money(assumptions['deal_size'])}")
    mix = assumptions.get("channel_mix") or {}
    if mix:
        parts.append(
            "mix " + ", ".join(f"{channel_label(c)} {percent(v)}" for c, v in sorted(mix.items()))
        )
    return " · ".join(parts) or EMPTY
