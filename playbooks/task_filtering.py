"""My tasks: which open tasks a user works on and its due windows (the list's filters are
playbooks.filtersets.TaskListFilterSet).

The windows split the filtered tasks into overdue, today, this week and later, so their counts add
up to the total; the `due` filter picks one window and the other filters narrow them all.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from abm.lib.permissions import user_role
from abm.models import Role
from playbooks.models import Task, TaskStatus
from playbooks.visibility import playbooks_visible_to, tasks_visible_to

TASKS_PER_PAGE = 50
DUE_SOON_DAYS = 7
BULK_MAX_TASKS = 500


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


def task_playbooks(tasks: QuerySet[Task], user) -> list[tuple[int, str]]:
    """The playbooks the user's open tasks come from, for the filter: one query."""
    return list(
        playbooks_visible_to(user)
        .filter(pk__in=tasks.order_by().values("enrolment__playbook_id"))
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


@dataclass(frozen=True)
class WindowCount:
    key: str
    label: str
    count: int
    query: str  # the page's query string showing this window
    selected: bool


def window_counts(tasks: QuerySet[Task], flt, now: dt.datetime) -> list[WindowCount]:
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
