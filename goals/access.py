"""Who may set and change goals (DOMAIN.md "People"): what they see is goals_visible_to's job.

Directors and admins set any goal; marketers set and change marketing goals; reps read the goals
that cover their accounts and change none.
"""

from django.db.models import QuerySet

from abm.lib.permissions import user_role
from abm.models import Role
from goals.choices import GoalTeam
from goals.models import Goal
from goals.visibility import goals_visible_to


def goal_teams_for(user) -> list[str]:
    """The teams whose goals the user may create and change."""
    role = user_role(user)
    if role in (Role.DIRECTOR, Role.ADMIN):
        return list(GoalTeam.values)
    if role == Role.MARKETER:
        return [GoalTeam.MARKETING]
    return []


def can_set_goals(user) -> bool:
    return bool(goal_teams_for(user))


def can_edit_goal(user, goal: Goal) -> bool:
    """Without a query: for rows already read through goals_visible_to."""
    return goal.team in goal_teams_for(user)


def goals_editable_by(user) -> QuerySet[Goal]:
    return goals_visible_to(user).filter(team__in=goal_teams_for(user))
