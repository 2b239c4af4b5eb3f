"""Query parameters of the metrics API lists (django-filter: a bad value is a 400)."""

import django_filters as filters

from abm.api_resources import BooleanParam, DateParam, IdParam
from abm.lib.channels import Channel
from abm.models import Job, RunKind, RunStatus
from metrics.models import BudgetLine, EngagementScore


class BudgetLineFilter(filters.FilterSet):
    playbook = IdParam(field_name="playbook_id")
    channel = filters.ChoiceFilter(choices=Channel.choices)
    date_after = DateParam(field_name="date", lookup_expr="gte")
    date_before = DateParam(field_name="date", lookup_expr="lte")

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
