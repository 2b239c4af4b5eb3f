"""Who may see goals: pages, API and dashboards scope them here."""

from django.db.models import Q, QuerySet

from goals.models import Goal


def goals_visible_to(user) -> QuerySet[Goal]:
    if not user.is_authenticated:
        return Goal.objects.none()
    if user.sees_everything:
        return Goal.objects.all()
    # A rep sees the goals they own and those scoped to their own accounts.
    return Goal.objects.filter(Q(owner=user) | Q(scope_owner=user))
