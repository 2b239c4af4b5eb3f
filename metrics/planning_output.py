"""A plan as the API's JSON and as a CSV, the same figures the plan page shows (issue #18).

The API names a funnel step ``targeted_engaged`` (the compute package's ``targeted->engaged``).
"""

from __future__ import annotations

import datetime as dt
import math

from abm.lib.csv_export import csv_response
from abm.lib.formats import money, percent
from metrics.engine.compute.planning import (
    PLAN_STAGES,
    STEPS,
    Assumptions,
    BudgetLine,
    ChannelCost,
    Estimate,
    Plan,
    PlanMonth,
    StageRates,
)
from metrics.planning import PlanPreview

STEP_FIELDS = {step: step.replace("->", "_") for step in STEPS}
STEP_OF_FIELD = {field: step for step, field in STEP_FIELDS.items()}
STEP_LABELS = {
    "targeted->engaged": "Target → engaged",
    "engaged->mqa": "Engaged → MQA",
    "mqa->opportunity": "MQA → opportunity",
    "opportunity->won": "Opportunity → won",
}
STAGE_LABELS = {
    "targeted": "Target accounts",
    "engaged": "Engaged accounts",
    "mqa": "MQA accounts",
    "opportunity": "Opportunities",
    "won": "Won deals",
}


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def estimate_json(est: Estimate) -> dict:
    return {
        "value": _number(est.value),
        "low": _number(est.low),
        "high": _number(est.high),
        "accounts": int(est.accounts),
        "fallback": bool(est.fallback),
    }


def plan_json(preview: PlanPreview) -> dict:
    plan, rates = preview.plan, preview.rates
    a = plan.assumptions
    return {
        "target": plan.target,
        "kind": plan.kind,
        "needed": {s: estimate_json(plan.needed[s]) for s in PLAN_STAGES},
        "by_month": [
            {"month": m.month.isoformat(), **{s: _number(m.counts[s]) for s in PLAN_STAGES}}
            for m in plan.by_month
        ],
        "budget": [
            {
                "channel": line.channel,
                "amount": estimate_json(line.amount),
                "cost_per_opportunity": _number(line.cost_per_opportunity),
                "return_per_dollar": _number(line.return_per_dollar),
            }
            for line in plan.budget
        ],
        "total_budget": estimate_json(plan.total_budget),
        "gap": {s: plan.gap.get(s, 0) for s in PLAN_STAGES},
        "pool": {s: preview.pool.get(s, 0) for s in PLAN_STAGES},
        "assumptions": {
            "conversion": {STEP_FIELDS[s]: _number(a.conversion[s]) for s in STEPS},
            "lag_days": {STEP_FIELDS[s]: _number(a.lag_days[s]) for s in STEPS},
            "deal_size": _number(a.deal_size),
            "channel_mix": {c: _number(v) for c, v in a.channel_mix.items()},
        },
        "rates": {
            "conversion": {STEP_FIELDS[s]: estimate_json(rates.conversion[s]) for s in STEPS},
            "lag_days": {STEP_FIELDS[s]: estimate_json(rates.lag_days[s]) for s in STEPS},
            "deal_size": estimate_json(rates.deal_size),
        },
        "channels": [
            {
                "channel": c.channel,
                "spend": _number(c.spend),
                "engaged": _number(c.engaged),
                "mqa": _number(c.mqa),
                "opportunities": _number(c.opportunities),
                "won_revenue": _number(c.won_revenue),
                "cost_per_engaged": _number(c.cost_per_engaged),
                "cost_per_mqa": _number(c.cost_per_mqa),
                "cost_per_opportunity": _number(c.cost_per_opportunity),
                "return_per_dollar": _number(c.return_per_dollar),
            }
            for c in preview.costs
        ],
    }


def whole_by_month(by_month: list[dict]) -> list[dict[str, int]]:
    """The plan JSON's months in whole accounts and deals, as the page and the CSV show them:
    each the running total rounded up less the previous one, so the months add up to the total
    rounded up and every running total is the milestone the plan's goals set."""
    running, shown, rows = dict.fromkeys(PLAN_STAGES, 0.0), dict.fromkeys(PLAN_STAGES, 0), []
    for month in by_month:
        cells = {}
        for stage in PLAN_STAGES:
            running[stage] += float(month.get(stage) or 0)
            whole = math.ceil(running[stage] - 1e-9)
            cells[stage], shown[stage] = whole - shown[stage], whole
        rows.append(cells)
    return rows


CSV_HEADER = ["Section", "Item", "Value", "Low (80 %)", "High (80 %)", "Accounts", "Note"]


def _count(value) -> str:
    value = _number(value)
    return "" if value is None else f"{value:,.1f}"


def _row(section: str, item: str, est: Estimate, fmt) -> list:
    note = "thin data: the all-tier figure" if est.fallback else ""
    cells = [fmt(_number(v)) for v in (est.value, est.low, est.high)]
    return [section, item, *cells, est.accounts, note]


def _days(value) -> str:
    value = _number(value)
    return "" if value is None else f"{value:.1f} days"


def plan_csv_rows(preview: PlanPreview) -> list[list]:
    """One row per figure, formatted as the page shows it: money in dollars, rates as
    percentages, needed counts with one decimal, months in whole accounts; each with its 80 %
    range and the accounts behind it."""
    plan, rates, a = preview.plan, preview.rates, preview.plan.assumptions
    target = money(plan.target)
    rows: list[list] = [
        [
            "Target",
            f"{plan.kind} won" if plan.kind == "revenue" else plan.kind,
            target,
            "",
            "",
            "",
            "",
        ]
    ]
    rows += [_row("Needed", STAGE_LABELS[s], plan.needed[s], _count) for s in PLAN_STAGES]
    whole = whole_by_month([month.counts for month in plan.by_month])
    for month, counts in zip(plan.by_month, whole, strict=True):
        rows += [
            ["By month", f"{month.month:%Y-%m} {STAGE_LABELS[s]}", counts[s], "", "", "", ""]
            for s in PLAN_STAGES
            if counts[s]
        ]
    for line in plan.budget:
        row = _row("Budget", line.channel, line.amount, money)
        row[-1] = f"{money(line.cost_per_opportunity)} per opportunity"
        rows.append(row)
    rows.append(_row("Budget", "Total", plan.total_budget, money))
    rows += [
        [
            "Gap",
            STAGE_LABELS[s],
            plan.gap.get(s, 0),
            "",
            "",
            preview.pool.get(s, 0),
            "accounts to add (Accounts = targets in scope that could still pass it)",
        ]
        for s in PLAN_STAGES
    ]
    for s in STEPS:
        rows.append(
            ["Assumption", f"{STEP_LABELS[s]} conversion", percent(a.conversion[s]), "", "", "", ""]
        )
    rows += [
        ["Assumption", f"{STEP_LABELS[s]} lag", _days(a.lag_days[s]), "", "", "", ""] for s in STEPS
    ]
    rows.append(["Assumption", "Deal size", money(a.deal_size), "", "", "", ""])
    rows += [
        ["Assumption", f"{c} share of opportunities", percent(v), "", "", "", ""]
        for c, v in sorted(a.channel_mix.items())  # a saved plan's JSON keeps no key order
    ]
    rows += [
        _row("Measured", f"{STEP_LABELS[s]} conversion", rates.conversion[s], percent)
        for s in STEPS
    ]
    rows += [_row("Measured", f"{STEP_LABELS[s]} lag", rates.lag_days[s], _days) for s in STEPS]
    rows.append(_row("Measured", "Deal size", rates.deal_size, money))
    for c in preview.costs:
        rows += [
            ["Measured", f"{c.channel} {label}", money(per) if per else "", "", "", "", note]
            for label, per, note in (
                ("cost per engaged account", c.cost_per_engaged, _of(c.engaged, "accounts")),
                ("cost per MQA", c.cost_per_mqa, _of(c.mqa, "accounts")),
                ("cost per opportunity", c.cost_per_opportunity, _of(c.opportunities, "deals")),
            )
        ]
    return rows


def _of(count: float, things: str) -> str:
    """What a channel's cost per outcome divides by: attributed shares, so not whole."""
    return f"spend over {count:,.1f} attributed {things}"


def plan_csv_response(preview: PlanPreview, *, filename: str = "plan.csv"):
    return csv_response(filename, CSV_HEADER, plan_csv_rows(preview))


def _estimate_from(data: dict) -> Estimate:
    def num(key):
        value = data.get(key)
        return math.nan if value is None else float(value)

    return Estimate(
        num("value"),
        num("low"),
        num("high"),
        int(data.get("accounts", 0)),
        bool(data.get("fallback", False)),
    )


def assumptions_from_json(data: dict) -> Assumptions:
    """The ``assumptions`` of ``plan_json`` (API step names) back as compute Assumptions."""
    return Assumptions(
        conversion={STEP_OF_FIELD[k]: float(v) for k, v in data["conversion"].items()},
        lag_days={STEP_OF_FIELD[k]: float(v) for k, v in data["lag_days"].items()},
        deal_size=float(data["deal_size"]),
        channel_mix={c: float(v) for c, v in data.get("channel_mix", {}).items()},
    )


def plan_from_json(data: dict) -> Plan:
    """A plan stored as ``plan_json`` made (a saved plan's snapshot) back into a Plan, e.g. for
    ``forecast``."""
    return Plan(
        needed={s: _estimate_from(data["needed"][s]) for s in PLAN_STAGES},
        by_month=[
            PlanMonth(dt.date.fromisoformat(m["month"]), {s: float(m[s] or 0) for s in PLAN_STAGES})
            for m in data["by_month"]
        ],
        budget=[
            BudgetLine(
                b["channel"],
                _estimate_from(b["amount"]),
                b["cost_per_opportunity"],
                b["return_per_dollar"],
            )
            for b in data["budget"]
        ],
        total_budget=_estimate_from(data["total_budget"]),
        gap={s: int(v) for s, v in data["gap"].items()},
        assumptions=assumptions_from_json(data["assumptions"]),
        kind=data["kind"],
        target=float(data["target"]),
    )


def _rates_from(data: dict | None, assumptions: Assumptions) -> StageRates:
    """The measured rates of ``plan_json``; a plan saved before they were kept shows its own
    assumptions, resting on no account."""
    if not data:
        return StageRates(
            conversion={s: Estimate.exact(v) for s, v in assumptions.conversion.items()},
            lag_days={s: Estimate.exact(v) for s, v in assumptions.lag_days.items()},
            deal_size=Estimate.exact(assumptions.deal_size),
        )
    return StageRates(
        conversion={STEP_OF_FIELD[k]: _estimate_from(v) for k, v in data["conversion"].items()},
        lag_days={STEP_OF_FIELD[k]: _estimate_from(v) for k, v in data["lag_days"].items()},
        deal_size=_estimate_from(data["deal_size"]),
    )


def preview_from_json(data: dict) -> PlanPreview:
    """A plan stored as ``plan_json`` made back into what ``preview_plan`` returned, so a saved
    plan exports as the CSV it would have given on the day."""
    plan = plan_from_json(data)
    costs = [
        ChannelCost(
            channel=c["channel"],
            spend=float(c.get("spend") or 0.0),
            engaged=float(c.get("engaged") or 0.0),
            mqa=float(c.get("mqa") or 0.0),
            opportunities=float(c.get("opportunities") or 0.0),
            won_revenue=float(c.get("won_revenue") or 0.0),
        )
        for c in data.get("channels") or []
    ]
    pool = {s: int(v) for s, v in (data.get("pool") or {}).items()}
    rates = _rates_from(data.get("rates"), plan.assumptions)
    return PlanPreview(plan, rates, costs, pool, plan.assumptions)
