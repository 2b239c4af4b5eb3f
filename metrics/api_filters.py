"""Query parameters of the metrics API lists (django-filter: a bad value is a 400)."""

import django_filters as filters

from abm.api_resources import BooleanParam, IdParam
from abm.lib.channels import Channel
from abm.models import Job, RunKind, RunStatus
from metrics.models import BudgetLine, EngagementScore, Goal, GoalMetric, GoalStatus, GoalTeam


class GoalFilter(filters.FilterSet):
    team = filters.ChoiceFilter(choices=GoalTeam.choices)
    metric = filters.ChoiceFilter(choices=GoalMetric.choices)
    status = filters.ChoiceFilter(choices=GoalStatus.choices)
    owner = IdParam(field_name="owner_id", help_text="Owner's user id.")
    playbook = IdParam(field_name="scope_playbook_id")
    parent = IdParam(field_name="parent_id", help_text="The parts of this goal.")
    top_level = BooleanParam(
        field_name="parent", lookup_expr="isnull", help_text="true: goals that are no part."
    )
    active_on = filters.DateFilter(method="running_on", help_text="Goals running on this date.")

    class Meta:
        model = Goal
        fields = []

    def running_on(self, queryset, name, value):
        return queryset.filter(start_date__lte=value, end_date__gte=value)


class BudgetLineFilter(filters.FilterSet):
    playbook = IdParam(field_name="playbook_id")
    channel = filters.ChoiceFilter(choices=Channel.choices)
    date_after = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = BudgetLine
        fields = []


class EngagementScoreFilter(filters.FilterSet):
    account = IdParam(field_name="account_id")
    spike = BooleanParam()
    min_score = filters.NumberFilter(field_name="score", lookup_expr="gte")

    class Meta:
        model = EngagementScore
        fields = []


class MetricRunFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=RunKind.choices)
    status = filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = Job
        fields = []
