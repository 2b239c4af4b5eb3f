"""The reverse-funnel planner's pure computation (issue #18): rates from journeys, and plans.

Names and signatures follow the planner's interface note; additions, all with defaults so the
agreed calls still work: ``StageRates.samples`` (the bootstrap draws behind the plan's ranges),
``Plan.kind`` and ``Plan.target``; ``plan_forwards`` also returns the target's value under the key
``kind`` ("revenue" or "pipeline"), and ``forecast`` under ``plan.kind``. Also here:
``rates_for_scope`` (rates of some tiers and a playbook, thin figures falling back to all tiers),
``fall_back``, ``check_assumptions`` and ``PlanInputError`` (its message is for the user).
"""

from metrics.engine.compute.planning.forecast import Pipeline, forecast, pipeline_from_journeys
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
    "Pipeline",
    "Plan",
    "PlanInputError",
    "PlanMonth",
    "StageRates",
    "assumptions_from",
    "check_assumptions",
    "estimate_rates",
    "fall_back",
    "forecast",
    "pipeline_from_journeys",
    "plan_backwards",
    "plan_forwards",
    "rates_for_scope",
]
