"""Goals API: the goals you may see, set and change under the goal pages' rules.

Rows come from goals/visibility.py, as on the pages; writes go through the same services.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view

from abm.api import RoleWritePermission
from abm.api_resources import ScopedViewSet
from goals.access import can_edit_goal, can_set_goals
from goals.api_filters import GoalFilter
from goals.api_serializers import GoalSerializer
from goals.models import GoalMilestone
from goals.tracking import goal_delete
from goals.visibility import goals_visible_to


class GoalWritePermission(RoleWritePermission):
    """The goal pages' rules (goals/access.py): directors and admins change any goal,
    marketers marketing goals, reps none."""

    message = (
        "Directors and admins change any goal, marketers marketing goals; sales reps read the "
        "goals that cover their accounts."
    )

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in ("GET", "HEAD", "OPTIONS") or can_set_goals(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in ("GET", "HEAD", "OPTIONS") or can_edit_goal(request.user, obj)


def _goals(user):
    return goals_visible_to(user).prefetch_related(
        Prefetch("milestones", queryset=GoalMilestone.objects.order_by("date"))
    )


@extend_schema_view(
    list=extend_schema(
        description="The goals you may see (a rep: those they own or that cover their "
        "accounts), with milestones and progress as of the last recompute."
    ),
    retrieve=extend_schema(description="One goal; 404 when you may not see it."),
    create=extend_schema(
        description="Set a goal. It must pass the SMART check of the goal form (a 400 names "
        "the rule and field); its baseline and progress are measured at once."
    ),
    update=extend_schema(description="Replace a goal's fields (and milestones when sent)."),
    partial_update=extend_schema(
        description="Change some of a goal's fields; the whole goal is checked again."
    ),
    destroy=extend_schema(description="Delete a goal and its parts."),
)
class GoalViewSet(ScopedViewSet):
    scope = staticmethod(_goals)
    serializer_class = GoalSerializer
    filterset_class = GoalFilter
    permission_classes = [GoalWritePermission]
    ordering_fields = ["start_date", "end_date", "name", "created_at", "id"]
    ordering = ["team", "start_date", "name", "id"]

    def perform_destroy(self, instance):
        goal_delete(goal=instance, by=self.request.user)
