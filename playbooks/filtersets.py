"""The playbook-side lists' filters: one FilterSet per list, used by its page, its CSV export
and its API endpoint (see accounts/list_filters.py). Where the page and the API name the same
thing differently (``from`` / ``occurred_after``), both parameters are kept."""

import django_filters as filters

from abm.api_resources import BooleanParam, DateTimeParam, IdParam
from abm.lib.channels import ActivityKind, Channel, Direction
from accounts.list_filters import (
    NO_PLAYBOOK,
    Chips,
    DayFilter,
    ListFilterSet,
    OwnerFilter,
    PlaybookIdFilter,
    TierFilter,
    account_filter,
)
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
from playbooks.task_filtering import WINDOWS


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


class TaskFilterSet(ListFilterSet):
    """Tasks as the API lists them; the My tasks page reads them through TaskListFilterSet."""

    status = filters.ChoiceFilter(choices=TaskStatus.choices)
    assignee = IdParam(field_name="assignee_id", help_text="Assignee's user id.")
    account = IdParam(field_name="account_id")
    playbook = IdParam(field_name="enrolment__playbook_id")
    due_after = DateTimeParam(field_name="due_at", lookup_expr="gte")
    due_before = DateTimeParam(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Task
        fields = ["channel", "owner_role"]


class TaskListFilterSet(TaskFilterSet):
    """My tasks: a due window, due days, and the page's own meaning of two API parameters:
    ``account`` is part of the account's name, and ``playbook`` one of the playbooks the open
    tasks come from (given as `playbooks`, so an other id says why it is ignored)."""

    due = filters.ChoiceFilter(
        label="Due",
        choices=[(w.key, w.label) for w in WINDOWS],
        empty_label="Any time",
        method="in_any_window",
        error_messages={
            "invalid_choice": "“%(value)s” is not a due window: use overdue, today, week or later."
        },
    )
    playbook = filters.ChoiceFilter(
        label="Playbook",
        field_name="enrolment__playbook_id",
        empty_label="Any playbook",
        error_messages={
            "invalid_choice": "none of the open tasks here comes from a playbook with that id."
        },
    )
    channel = filters.ChoiceFilter(
        label="Channel",
        choices=Channel.choices,
        empty_label="Any channel",
        error_messages={"invalid_choice": "“%(value)s” is not a channel."},
    )
    account = filters.CharFilter(
        label="Account", field_name="account__name", lookup_expr="icontains", max_length=100
    )
    from_ = DayFilter("due_at", label="Due from")
    to = DayFilter("due_at", last=True, label="Due to")

    ranges = (("from", "to"),)  # one order (due first): the view sorts, there is no ?sort=

    def __init__(self, data=None, queryset=None, *, playbooks=(), **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.playbooks = dict(playbooks)
        self.filters["playbook"].extra["choices"] = [(str(pk), name) for pk, name in playbooks]

    def in_any_window(self, queryset, name, value):
        return queryset  # the view counts every window first, then narrows to this one

    def chips(self, names=None):
        v, chips = self.values, Chips(self, {})
        if "playbook" in v:
            playbook = v["playbook"]
            chips.add(f"Playbook: {self.playbooks.get(int(playbook), playbook)}", "playbook")
        if "channel" in v:
            chips.add(f"Channel: {Channel(v['channel']).label}", "channel")
        if "account" in v:
            chips.add(f"Account: “{v['account']}”", "account")
        chips.day_range("Due", "from", "to")
        return chips


COSTED = "1"


class ActivityFilterSet(ListFilterSet):
    """Touches: the API's list and the drill-down behind a dashboard's spend or channel bar.

    The table holds a million rows, so every filter maps onto an indexed column or a join to a
    small table (accounts, steps, stages), and the default order is the (occurred_at) index read
    backwards.
    """

    from_ = DayFilter("occurred_at", label="From")
    to = DayFilter("occurred_at", last=True, label="To")
    channel = filters.ChoiceFilter(label="Channel", choices=Channel.choices)
    kind = filters.ChoiceFilter(label="Kind", choices=ActivityKind.choices)
    direction = filters.ChoiceFilter(label="Direction", choices=Direction.choices)
    # An activity belongs to a playbook through the step it was logged for.
    playbook = PlaybookIdFilter("step__stage__playbook", none_path="step")
    tier = TierFilter()
    owner = OwnerFilter()
    account = account_filter()
    costed = filters.ChoiceFilter(
        label="Costed", choices=[(COSTED, "Costed only")], method="with_cost"
    )
    # The API's names: exact date-times, and the step and source.
    step = IdParam(field_name="step_id")
    source = filters.ChoiceFilter(choices=ActivitySource.choices)
    occurred_after = DateTimeParam(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeParam(field_name="occurred_at", lookup_expr="lt")

    sorts = {
        "-occurred": ("-occurred_at", "-id"),
        "occurred": ("occurred_at", "id"),
        "-cost": ("-cost", "-occurred_at", "-id"),
    }
    sort_labels = {
        "-occurred": "Newest first",
        "occurred": "Oldest first",
        "-cost": "Costliest first",
    }
    default_sort = "-occurred"
    ranges = (("from", "to"),)

    class Meta:
        model = Activity
        fields = ["external_id"]

    def with_cost(self, queryset, name, value):
        return queryset.filter(cost__gt=0)

    def chips(self, names):
        v, chips = self.values, Chips(self, names)
        chips.day_range("", "from", "to")
        if "channel" in v:
            chips.add(f"Channel: {Channel(v['channel']).label}", "channel")
        if "kind" in v:
            chips.add(f"Kind: {ActivityKind(v['kind']).label}", "kind")
        if "direction" in v:
            chips.add(Direction(v["direction"]).label, "direction")
        if "playbook" in v:
            playbook = v["playbook"]
            label = "none" if playbook == NO_PLAYBOOK else names.get("playbook", f"#{playbook}")
            chips.add(f"Playbook: {label}", "playbook")
        chips.tier()
        chips.owner()
        chips.account()
        if "costed" in v:
            chips.add("With a cost", "costed")
        return chips
