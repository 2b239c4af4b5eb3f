"""Query parameters of the goals API list (django-filter: a bad value is a 400)."""

import django_filters as filters

from abm.api_resources import BooleanParam, DateParam, IdParam
from goals.choices import GoalMetric, GoalStatus, GoalTeam
from goals.models import Goal
from goals.visibility import goals_with_figures_visible_to


class GoalFilter(filters.FilterSet):
    team = filters.ChoiceFilter(choices=GoalTeam.choices)
    metric = filters.ChoiceFilter(choices=GoalMetric.choices)
    status = filters.ChoiceFilter(
        choices=GoalStatus.choices,
        method="with_status",
        help_text="Only goals whose figures you may see can match (see figures_hidden).",
    )
    owner = IdParam(field_name="owner_id", help_text="Owner's user id.")
    playbook = IdParam(field_name="scope_playbook_id")
    parent = IdParam(field_name="parent_id", help_text="The parts of this goal.")
    top_level = BooleanParam(
        field_name="parent", lookup_expr="isnull", help_text="true: goals that are no part."
    )
    active_on = DateParam(method="running_on", help_text="Goals running on this date.")

    class Meta:
        model = Goal
        fields = []

    def with_status(self, queryset, name, value):
        # A hidden status must not be found by filtering on it.
        return queryset.filter(
            status=value, pk__in=goals_with_figures_visible_to(self.request.user).values("pk")
        )

    def running_on(self, queryset, name, value):
        return queryset.filter(start_date__lte=value, end_date__gte=value)
