"""Goal values in their unit and progress bars, for goal pages and the goal on a playbook page."""

from django import template

from abm.lib.formats import money, percent
from goals.choices import MONEY_METRICS, RATE_METRICS
from goals.visibility import goal_as_seen_by, goal_visible

register = template.Library()


@register.filter
def goal_value(value, metric: str) -> str:
    """A goal's target or current value in the metric's unit."""
    if value is None:
        return "—"
    if metric in MONEY_METRICS:
        return money(value)
    if metric in RATE_METRICS:
        return percent(value)
    return f"{float(value):,.0f}"


@register.simple_tag
def goal_progress(goal) -> int | None:
    """How far the current value is towards the target, 0-100 (None when not computed)."""
    if goal.current_value is None or not goal.target:
        return None
    return round(max(0.0, min(100.0, float(goal.current_value) / float(goal.target) * 100)))


@register.simple_tag
def goal_as_seen(goal, user):
    """A goal shown on another app's page (a playbook's) as ``user`` may read it: None when they
    may not see the goal, its figures hidden when it counts accounts beyond theirs."""
    if goal is None or not goal_visible(goal, user):
        return None
    return goal_as_seen_by(goal, user)
