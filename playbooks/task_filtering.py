"""My tasks: which open tasks a user works on, the list's filters (all in the URL) and its due
windows.

The windows split the filtered tasks into overdue, today, this week and later, so their counts add
up to the total; the `due` filter picks one window and the other filters narrow them all.
"""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from abm.lib.channels import Channel
from abm.lib.permissions import user_role
from abm.models import Role
from accounts.list_filters import (
    Chip,
    Chips,
    ListFilter,
    date_field,
    day_range_q,
    drop_reversed_range,
    read_filter,
)
from playbooks.models import Task, TaskStatus
from playbooks.visibility import playbooks_visible_to, tasks_visible_to

TASKS_PER_PAGE = 50
DUE_SOON_DAYS = 7
BULK_MAX_TASKS = 500
SORT = "due"
SORTS = {SORT: ("due_at", "id")}


@dataclass(frozen=True)
class Window:
    key: str
    label: str


WINDOWS = (
    Window("overdue", "Overdue"),
    Window("today", "Due today"),
    Window("week", "This week"),
    Window("later", "Later"),
)


def open_tasks(user) -> tuple[QuerySet[Task], bool]:
    """Open tasks on the user's list, and whether it is only their own: reps and marketers work
    their own queue; directors and admins oversee everyone's."""
    tasks = tasks_visible_to(user).filter(status=TaskStatus.OPEN)
    mine_only = user_role(user) in (Role.SALES, Role.MARKETER)
    if mine_only:
        tasks = tasks.filter(assignee=user)
    return tasks, mine_only


def may_act_on_tasks(user) -> bool:
    return user_role(user) in (Role.SALES, Role.MARKETER, Role.ADMIN)


def actionable_tasks(user) -> QuerySet[Task]:
    """The tasks the user may complete or skip: their own (an admin: anyone's they can see)."""
    tasks = tasks_visible_to(user)
    if user_role(user) != Role.ADMIN:
        tasks = tasks.filter(assignee=user)
    return tasks


@dataclass(frozen=True)
class WindowBounds:
    today: dt.datetime  # overdue before this
    tomorrow: dt.datetime
    soon: dt.datetime  # "later" from this


def window_bounds(now: dt.datetime) -> WindowBounds:
    # Overdue means due before today: a step that came due this morning is today's work. "This
    # week" ends where the sales dashboard's "due within DUE_SOON_DAYS days" does.
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = today + dt.timedelta(days=1)
    return WindowBounds(today, tomorrow, max(now + dt.timedelta(days=DUE_SOON_DAYS), tomorrow))


def window_conditions(now: dt.datetime) -> dict[str, Q]:
    b = window_bounds(now)
    return {
        "overdue": Q(due_at__lt=b.today),
        "today": Q(due_at__gte=b.today, due_at__lt=b.tomorrow),
        "week": Q(due_at__gte=b.tomorrow, due_at__lt=b.soon),
        "later": Q(due_at__gte=b.soon),
    }


class TaskFilterForm(forms.Form):
    due = forms.ChoiceField(
        label="Due", required=False, choices=[(w.key, w.label) for w in WINDOWS]
    )
    playbook = forms.TypedChoiceField(label="Playbook", required=False, coerce=int)
    channel = forms.ChoiceField(label="Channel", required=False, choices=Channel.choices)
    account = forms.CharField(label="Account", required=False, max_length=100)

    def __init__(self, data, *, playbooks: list[tuple[int, str]]):
        super().__init__(data)
        self.fields["playbook"].choices = [("", "Any playbook"), *playbooks]
        self.fields["channel"].choices = [("", "Any channel"), *Channel.choices]
        self.fields["due"].choices = [("", "Any time"), *self.fields["due"].choices]
        self.fields["playbook"].error_messages["invalid_choice"] = (
            "none of the open tasks here comes from a playbook with that id."
        )
        self.fields["channel"].error_messages["invalid_choice"] = "“%(value)s” is not a channel."
        self.fields["due"].error_messages["invalid_choice"] = (
            "“%(value)s” is not a due window: use overdue, today, week or later."
        )
        # "from" is a Python keyword, so the date fields cannot be declared as class attributes.
        self.fields["from"] = date_field("Due from")
        self.fields["to"] = date_field("Due to")

    def clean_account(self):
        return self.cleaned_data["account"].strip()

    def clean(self):
        cleaned = super().clean()
        drop_reversed_range(self, cleaned, "from", "to")
        return cleaned


def task_playbooks(tasks: QuerySet[Task], user) -> list[tuple[int, str]]:
    """The playbooks the user's open tasks come from, for the filter: one query."""
    return list(
        playbooks_visible_to(user)
        .filter(pk__in=tasks.order_by().values("enrolment__playbook_id"))
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def task_filter(data, *, playbooks: list[tuple[int, str]]) -> tuple[ListFilter, TaskFilterForm]:
    form = TaskFilterForm(data, playbooks=playbooks)
    return read_filter(form, sorts=SORTS, default_sort=SORT), form


def filter_tasks(tasks: QuerySet[Task], flt: ListFilter) -> QuerySet[Task]:
    """`tasks` narrowed by every filter except the due window."""
    v = flt.values
    q = day_range_q("due_at", v.get("from"), v.get("to"))
    if "playbook" in v:
        q &= Q(enrolment__playbook_id=v["playbook"])
    if "channel" in v:
        q &= Q(channel=v["channel"])
    if "account" in v:
        q &= Q(account__name__icontains=v["account"])
    return tasks.filter(q)


@dataclass(frozen=True)
class WindowCount:
    key: str
    label: str
    count: int
    query: str  # the page's query string showing this window
    selected: bool


def window_counts(tasks: QuerySet[Task], flt: ListFilter, now: dt.datetime) -> list[WindowCount]:
    """Each window's count under the other filters: one aggregate."""
    conditions = window_conditions(now)
    counts = tasks.order_by().aggregate(
        **{key: Count("pk", filter=cond) for key, cond in conditions.items()}
    )
    selected = flt.values.get("due", "")
    return [
        WindowCount(
            key=w.key,
            label=w.label,
            count=counts[w.key],
            query=flt.query(due=w.key, page=None).urlencode(),
            selected=selected == w.key,
        )
        for w in WINDOWS
    ]


def task_chips(flt: ListFilter, playbooks: list[tuple[int, str]]) -> list[Chip]:
    v, chips = flt.values, Chips(flt, {})
    if "playbook" in v:
        chips.add(f"Playbook: {dict(playbooks).get(v['playbook'], v['playbook'])}", "playbook")
    if "channel" in v:
        chips.add(f"Channel: {Channel(v['channel']).label}", "channel")
    if "account" in v:
        chips.add(f"Account: “{v['account']}”", "account")
    chips.day_range("Due", "from", "to")
    return chips
