"""My tasks: the filtered, paged list, closing one task (htmx) and closing a selection in bulk.

Who sees and who acts is decided in playbooks/task_filtering.py: reps and marketers see and close
their own tasks, directors see everyone's and close none, admins see and close everyone's.
"""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from abm.lib.form_errors import form_errors
from accounts.list_filters import CountedPaginator, page_of
from playbooks.filtersets import TaskListFilterSet
from playbooks.forms import TaskCompleteForm
from playbooks.models import TaskStatus
from playbooks.task_completion import (
    TaskNotOpen,
    task_complete,
    task_skip,
    tasks_complete,
    tasks_skip,
)
from playbooks.task_filtering import (
    BULK_MAX_TASKS,
    DUE_SOON_DAYS,
    TASKS_PER_PAGE,
    actionable_tasks,
    may_act_on_tasks,
    open_tasks,
    task_playbooks,
    window_bounds,
    window_conditions,
    window_counts,
)
from playbooks.task_forms import BulkTaskForm

ROW_RELATIONS = ("account", "step__stage", "assignee", "enrolment__playbook")


def _task_list_state(user, data: QueryDict, now):
    """The filter read from `data`, the window counts, and the tasks of the chosen window."""
    tasks, mine_only = open_tasks(user)
    playbooks = task_playbooks(tasks, user)
    flt = TaskListFilterSet.for_page(data, tasks, playbooks=playbooks)
    form = flt.form
    filtered = flt.qs
    windows = window_counts(filtered, flt, now)
    due = flt.values.get("due")
    if due:
        filtered = filtered.filter(window_conditions(now)[due])
        count = next(w.count for w in windows if w.key == due)
    else:
        count = sum(w.count for w in windows)
    return {
        "tasks": filtered,
        "count": count,
        "filter": flt,
        "form": form,
        "windows": windows,
        "playbooks": playbooks,
        "mine_only": mine_only,
    }


@login_required
def task_list(request):
    user, now = request.user, timezone.now()
    state = _task_list_state(user, request.GET, now)
    flt = state["filter"]
    paginator = CountedPaginator(
        state["tasks"].select_related(*ROW_RELATIONS).order_by("due_at", "id"),
        TASKS_PER_PAGE,
        count=state["count"],
    )
    page, page_problem = page_of(paginator, request.GET.get("page"))
    today = window_bounds(now).today
    rows = list(page.object_list)
    for task in rows:
        task.overdue = task.due_at < today
    query = flt.query()
    return render(
        request,
        "playbooks/tasks.html",
        {
            **state,
            "page": page,
            "rows": rows,
            "total": sum(w.count for w in state["windows"]),
            "chips": flt.chips(),
            "problems": flt.problems + ([page_problem] if page_problem else []),
            "query_string": query.urlencode(),
            "all_query": flt.without("due", "page"),
            "selected_due": flt.values.get("due", ""),
            "unfiltered": not any(name != "due" for name in flt.values),
            "soon_days": DUE_SOON_DAYS,
            "today": timezone.localdate(now),
            "may_act": may_act_on_tasks(user),
            "bulk_max": BULK_MAX_TASKS,
        },
    )


def _actionable_task(user, pk: int):
    """The user's own task (an admin may act on anyone's); any other task is a 404."""
    tasks = actionable_tasks(user).select_related("account", "step", "enrolment__playbook")
    return get_object_or_404(tasks, pk=pk)


@require_POST
@login_required
def task_complete_view(request, pk: int):
    user = request.user
    task = _actionable_task(user, pk)
    form = TaskCompleteForm(request.POST)
    notes = form.cleaned_data["notes"].strip() if form.is_valid() else ""
    try:
        activity = task_complete(task=task, by=user, notes=notes)
    except TaskNotOpen as error:
        return _task_done(request, task, error=" ".join(error.messages))
    task.refresh_from_db(fields=["status", "completed_at"])
    return _task_done(request, task, activity=activity)


@require_POST
@login_required
def task_skip_view(request, pk: int):
    user = request.user
    task = _actionable_task(user, pk)
    form = TaskCompleteForm(request.POST)
    note = form.cleaned_data["notes"].strip() if form.is_valid() else ""
    task_skip(task=task, by=user, note=note)
    task.refresh_from_db(fields=["status", "completed_at"])
    return _task_done(request, task)


def _task_done(request, task, *, activity=None, error=None):
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif task.status == TaskStatus.DONE:
            messages.success(request, f"Done: logged on {task.account.name}'s timeline.")
        else:
            messages.info(request, "Task skipped.")
        return redirect("playbooks:tasks")
    # The window counts on the page move too: one aggregate under the page's own filters (htmx
    # sends the page's address), swapped in out of band.
    current = urlsplit(request.htmx.current_url or "").query
    state = _task_list_state(request.user, QueryDict(current), timezone.now())
    return render(
        request,
        "playbooks/_task_done.html",
        {
            "task": task,
            "activity": activity,
            "error": error,
            "windows": state["windows"],
            "total": sum(w.count for w in state["windows"]),
            "all_query": state["filter"].without("due", "page"),
            "selected_due": state["filter"].values.get("due", ""),
            "soon_days": DUE_SOON_DAYS,
            "oob": True,
        },
        status=422 if error else 200,
    )


@require_POST
@login_required
def task_bulk(request):
    user = request.user
    if not may_act_on_tasks(user):
        raise PermissionDenied
    form = BulkTaskForm(request.POST)
    back = _back_url(form.data.get("query", ""))
    if not form.is_valid():
        for error in form_errors(form):
            messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    ids = data["ids"]
    # Only the user's own open tasks are touched; any other id (someone else's, closed, made
    # up) is counted, never named, so the answer tells nothing about tasks the user cannot see.
    mine = actionable_tasks(user).filter(pk__in=ids)
    if data["action"] == "complete":
        result = tasks_complete(tasks=mine, by=user, notes=data["note"])
    else:
        result = tasks_skip(tasks=mine, by=user, note=data["note"])
    not_mine = len(ids) - result.closed - result.already_closed
    messages.success(request, _bulk_message(data["action"], result, not_mine, data["note"]))
    return redirect(back)


def _tasks(n: int) -> str:
    return f"{n:,} task{'' if n == 1 else 's'}"


def _bulk_message(action: str, result, not_mine: int, note: str) -> str:
    verb = "completed" if action == "complete" else "skipped"
    parts = [f"{_tasks(result.closed)} {verb}" if result.closed else f"No tasks {verb}"]
    if result.closed and note:
        parts[0] += " with your note"
    if action == "complete" and result.closed:
        parts[0] += " and logged on their accounts' timelines"
    if result.already_closed:
        was = "was" if result.already_closed == 1 else "were"
        parts.append(f"{_tasks(result.already_closed)} {was} already closed")
    if not_mine:
        was = "was" if not_mine == 1 else "were"
        parts.append(f"{_tasks(not_mine)} {was} not yours or no longer open")
    return "; ".join(parts) + "."


def _back_url(query: str) -> str:
    # Rebuilt from the list's own query string, never a posted address: no open redirect. Back to
    # the first page: the closed tasks left the list, so the old page number points past them.
    params = QueryDict(query[:2000], mutable=True)
    params.pop("page", None)
    query = params.urlencode()
    return reverse("playbooks:tasks") + (f"?{query}" if query else "")
