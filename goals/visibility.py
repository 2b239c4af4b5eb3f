"""Who may see goals, and whose figures: pages, API, dashboards and emails scope them here."""

import copy

from django.db.models import Q, QuerySet

from goals.models import Goal

# What the engine measures over the goal's accounts; the rest (name, target, period, scope,
# milestones) is what a person set and stays readable wherever the goal is.
MEASURED_FIELDS = ("baseline", "current_value", "expected_value", "computed_at")


def goals_visible_to(user) -> QuerySet[Goal]:
    if not user.is_authenticated:
        return Goal.objects.none()
    if user.sees_everything:
        return Goal.objects.all()
    # A rep sees the goals they own and those scoped to their own accounts.
    return Goal.objects.filter(Q(owner=user) | Q(scope_owner=user))


def goal_visible(goal: Goal, user) -> bool:
    """goals_visible_to's rule for a goal already read through a relation (a playbook's goal),
    without a query."""
    if not user.is_authenticated:
        return False
    return user.sees_everything or user.pk in (goal.owner_id, goal.scope_owner_id)


def goal_figures_visible(goal: Goal, user) -> bool:
    """Whether ``user`` may read the goal's measured figures (baseline, current, expected, status,
    chart, forecast): only when every account the goal counts is one they may see. For a rep that
    is a goal scoped to their own accounts; a goal they own over a tier, a playbook or another
    rep's accounts sums accounts they may not see."""
    if not user.is_authenticated:
        return False
    return user.sees_everything or goal.scope_owner_id == user.pk


def goals_with_figures_visible_to(user) -> QuerySet[Goal]:
    """The goals whose figures ``user`` may read (goal_figures_visible, as a query): what a
    filter on status or progress may match."""
    goals = goals_visible_to(user)
    if user.is_authenticated and user.sees_everything:
        return goals
    return goals.filter(scope_owner=user) if user.is_authenticated else goals


def goal_as_seen_by(goal: Goal, user) -> Goal:
    """The goal as ``user`` reads it: itself, or a copy with its measured figures and status
    blanked and ``figures_hidden`` set (never saved: the stored goal keeps its figures)."""
    if goal_figures_visible(goal, user):
        goal.figures_hidden = False
        return goal
    shown = copy.copy(goal)
    for name in MEASURED_FIELDS:
        setattr(shown, name, None)
    shown.status = ""
    shown.figures_hidden = True
    return shown
