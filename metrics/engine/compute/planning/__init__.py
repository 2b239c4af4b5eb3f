"""The reverse-funnel planner's pure computation (issue #18): rates from journeys, and plans."""

from metrics.engine.compute.planning.plan import (
    KINDS,
    Assumptions,
    BudgetLine,
    ChannelCost,
    Plan,
    PlanInputError,
    PlanMonth,
    assumptions_from,
    check_assumptions,
    forecast,
    plan_backwards,
    plan_forwards,
)
from metrics.engine.compute.planning.rates import (
    PLAN_STAGES,
    STEPS,
    Estimate,
    StageRates,
    estimate_rates,
    fall_back,
    rates_for_scope,
)

__all__ = [
    "KINDS",
    "PLAN_STAGES",
    "STEPS",
    "Assumptions",
    "BudgetLine",
    "ChannelCost",
    "Estimate",
    "Plan",
    "PlanInputError",
    "PlanMonth",
    "StageRates",
    "assumptions_from",
    "check_assumptions",
    "estimate_rates",
    "fall_back",
    "forecast",
    "plan_backwards",
    "plan_forwards",
    "rates_for_scope",
]
