"""Query parameters of the playbook-side API lists (django-filter: a bad value is a 400)."""

import django_filters as filters

from abm.api_resources import BooleanParam, DateTimeParam, IdParam
from playbooks.models import (
    Activity,
    ActivitySource,
    Enrolment,
    EnrolmentStatus,
    Playbook,
    PlaybookStatus,
    Stage,
    Step,
    Task,
    TaskStatus,
)


class PlaybookFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PlaybookStatus.choices)
    owner = IdParam(field_name="owner_id", help_text="Owner's user id.")
    goal = IdParam(field_name="goal_id")
    q = filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the name."
    )

    is_starter = BooleanParam(help_text="true: the starter templates; false: real playbooks.")

    class Meta:
        model = Playbook
        fields = []


class StageFilter(filters.FilterSet):
    playbook = IdParam(field_name="playbook_id")

    class Meta:
        model = Stage
        fields = []


class StepFilter(filters.FilterSet):
    stage = IdParam(field_name="stage_id")
    playbook = IdParam(field_name="stage__playbook_id")

    class Meta:
        model = Step
        fields = ["channel", "owner_role"]


class EnrolmentFilter(filters.FilterSet):
    playbook = IdParam(field_name="playbook_id")
    account = IdParam(field_name="account_id")
    status = filters.ChoiceFilter(choices=EnrolmentStatus.choices)

    class Meta:
        model = Enrolment
        fields = []


class TaskFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=TaskStatus.choices)
    assignee = IdParam(field_name="assignee_id", help_text="Assignee's user id.")
    account = IdParam(field_name="account_id")
    playbook = IdParam(field_name="enrolment__playbook_id")
    due_after = DateTimeParam(field_name="due_at", lookup_expr="gte")
    due_before = DateTimeParam(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Task
        fields = ["channel", "owner_role"]


class ActivityFilter(filters.FilterSet):
    account = IdParam(field_name="account_id")
    step = IdParam(field_name="step_id")
    source = filters.ChoiceFilter(choices=ActivitySource.choices)
    occurred_after = DateTimeParam(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeParam(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ["channel", "kind", "direction", "external_id"]
