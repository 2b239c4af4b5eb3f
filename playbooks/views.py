"""Playbook pages: the list, new playbook, cadence, and "My tasks". The builder lives in
playbooks/builder_views.py, the enrolments page in playbooks/enrolment_views.py.

Thin views: each finds its rows through the scoping functions in playbooks/visibility.py, calls one
service, and answers an htmx request with a partial or a plain request with a redirect, so every
form also works without JavaScript.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from abm.lib.channels import CHANNEL_COLOURS, Channel
from abm.lib.permissions import role_required, user_role
from abm.models import Role
from playbooks import building
from playbooks.cadence import cadence_figure, stage_spans
from playbooks.forms import PlaybookCreateForm, TaskCompleteForm
from playbooks.models import EnrolmentStatus, OwnerRole, Stage, TaskStatus
from playbooks.tasking import task_complete, task_skip
from playbooks.view_access import (
    EDIT_ROLES,
    back_to,
    can_edit,
    enrolment_counts,
    ordered_stages,
    visible_playbook,
)
from playbooks.visibility import enrolments_visible_to, playbooks_visible_to, tasks_visible_to

PLAYBOOKS_PER_PAGE = 50
TASKS_PER_GROUP = 100
DUE_SOON_DAYS = 7


def _enrolment_count(user, *, holdout: bool) -> Subquery:
    # A correlated subquery, not a third Count join: stages x steps x enrolments would multiply rows.
    enrolments = enrolments_visible_to(user).filter(playbook=OuterRef("pk"))
    if holdout:
        enrolments = enrolments.filter(status=EnrolmentStatus.HOLDOUT)
    else:
        enrolments = enrolments.exclude(status=EnrolmentStatus.HOLDOUT)
    counted = enrolments.order_by().values("playbook").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- List and creation -------------------------------------------------------------------------


@login_required
def playbook_list(request):
    user = request.user
    # Starter playbooks are templates, offered on "New playbook"; the list is the plays we run.
    playbooks = (
        playbooks_visible_to(user)
        .filter(is_starter=False)
        .select_related("owner")
        .annotate(
            stage_count=Count("stages", distinct=True),
            step_count=Count("stages__steps", distinct=True),
            enrolled_count=_enrolment_count(user, holdout=False),
            holdout_count=_enrolment_count(user, holdout=True),
        )
        .order_by("name", "id")
    )
    page = Paginator(playbooks, PLAYBOOKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "playbooks/list.html", {"page": page, "can_edit": can_edit(user)})


@role_required(*EDIT_ROLES)
def playbook_new(request):
    user = request.user
    form = PlaybookCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        playbook = building.playbook_create(
            name=form.cleaned_data["name"],
            objective=form.cleaned_data["objective"],
            audience_tiers=form.cleaned_data["tiers"],
            by=user,
        )
        messages.success(request, f"“{playbook.name}” created as a draft with four stages.")
        return back_to(playbook)
    starters = (
        playbooks_visible_to(user)
        .filter(is_starter=True)
        .prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("order", "id")),
            "stages__steps",
        )
        .order_by("name", "id")
    )
    return render(request, "playbooks/new.html", {"form": form, "starters": starters})


# --- Cadence -----------------------------------------------------------------------------------


def cadence_input(stages: list[Stage]) -> list[dict]:
    """The thin loader: prefetched stages and steps -> the plain dicts playbooks.cadence takes."""
    return [
        {
            "name": stage.name,
            "exit_label": stage.get_exit_stage_display() if stage.exit_stage else "",
            "steps": [
                {
                    "channel": step.channel,
                    "day_offset": step.day_offset,
                    "owner_role": step.owner_role,
                    "subject": step.subject,
                    "unit_cost": step.unit_cost,
                    "target": " · ".join(
                        label
                        for label in (
                            step.get_target_buying_role_display()
                            if step.target_buying_role
                            else "",
                            step.get_target_seniority_display() if step.target_seniority else "",
                        )
                        if label
                    ),
                }
                for step in stage.steps.all()
            ],
        }
        for stage in stages
    ]


@login_required
def playbook_cadence(request, pk: int):
    user = request.user
    playbook = visible_playbook(user, pk)
    stages = ordered_stages(playbook)
    plain = cadence_input(stages)
    spans = stage_spans(plain)
    colours = {str(k): v for k, v in CHANNEL_COLOURS.items()}
    labels = dict(Channel.choices)
    figure = cadence_figure(
        plain,
        channel_labels=labels,
        channel_colours=colours,
        role_labels=dict(OwnerRole.choices),
    )
    rows = [
        {
            "stage": stage,
            "span": span,
            "channels": [(labels[c], colours.get(c, "")) for c in span.channels],
        }
        for stage, span in zip(stages, spans, strict=True)
    ]
    used = {step.channel for stage in stages for step in stage.steps.all()}
    return render(
        request,
        "playbooks/cadence.html",
        {
            "playbook": playbook,
            "tab": "cadence",
            "can_edit": can_edit(user),
            "counts": enrolment_counts(user, playbook),
            "rows": rows,
            "figure": figure,
            "has_steps": any(span.steps for span in spans),
            "total_days": spans[-1].end if spans else 0,
            "cost_per_account": sum((span.cost_per_account for span in spans), 0),
            "legend": [(c, labels[c], colours.get(c, "")) for c in labels if c in used],
        },
    )


# --- My tasks ----------------------------------------------------------------------------------


def _open_tasks(user):
    """Open tasks on the user's list: reps and marketers work their own queue; directors and
    admins oversee everyone's."""
    tasks = tasks_visible_to(user).filter(status=TaskStatus.OPEN)
    mine_only = user_role(user) in (Role.SALES, Role.MARKETER)
    if mine_only:
        tasks = tasks.filter(assignee=user)
    return tasks, mine_only


def _due_groups(now) -> list[tuple[str, str, Q]]:
    # Overdue means due before today: a step that came due this morning is today's work.
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    soon = now + timedelta(days=DUE_SOON_DAYS)
    return [
        ("overdue", "Overdue", Q(due_at__lt=today)),
        ("this_week", "Due this week", Q(due_at__gte=today, due_at__lt=soon)),
        ("later", "Later", Q(due_at__gte=soon)),
    ]


def _task_counts(tasks, groups) -> list[dict]:
    counts = tasks.aggregate(**{key: Count("pk", filter=cond) for key, _, cond in groups})
    return [{"key": key, "label": label, "count": counts[key]} for key, label, _ in groups]


@login_required
def task_list(request):
    user = request.user
    tasks, mine_only = _open_tasks(user)
    now = timezone.now()
    groups = _due_groups(now)
    sections = _task_counts(tasks, groups)
    rows = tasks.select_related("account", "step__stage", "assignee", "enrolment__playbook")
    for section, (_, _, cond) in zip(sections, groups, strict=True):
        section["tasks"] = (
            list(rows.filter(cond).order_by("due_at", "id")[:TASKS_PER_GROUP])
            if section["count"]
            else []
        )
    return render(
        request,
        "playbooks/tasks.html",
        {
            "sections": sections,
            "total": sum(section["count"] for section in sections),
            "mine_only": mine_only,
            "limit": TASKS_PER_GROUP,
            "soon_days": DUE_SOON_DAYS,
            "today": timezone.localdate(now),
            "may_act": _may_act_on_tasks(user),
        },
    )


def _may_act_on_tasks(user) -> bool:
    return user_role(user) in (Role.SALES, Role.MARKETER, Role.ADMIN)


def _actionable_task(user, pk: int):
    """The user's own task (an admin may act on anyone's); any other task is a 404."""
    tasks = tasks_visible_to(user).select_related("account", "step", "enrolment__playbook")
    if user_role(user) != Role.ADMIN:
        tasks = tasks.filter(assignee=user)
    return get_object_or_404(tasks, pk=pk)


@require_POST
@login_required
def task_complete_view(request, pk: int):
    user = request.user
    task = _actionable_task(user, pk)
    form = TaskCompleteForm(request.POST)
    notes = form.cleaned_data["notes"].strip() if form.is_valid() else ""
    if task.status == TaskStatus.SKIPPED:
        return _task_done(request, task, error="This task was skipped; it cannot be completed.")
    activity = task_complete(task=task, by=user, notes=notes)
    task.refresh_from_db(fields=["status", "completed_at"])
    return _task_done(request, task, activity=activity)


@require_POST
@login_required
def task_skip_view(request, pk: int):
    user = request.user
    task = _actionable_task(user, pk)
    task_skip(task=task, by=user)
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
    # The counts on the page move too: one aggregate, swapped in out of band.
    tasks, _ = _open_tasks(request.user)
    sections = _task_counts(tasks, _due_groups(timezone.now()))
    return render(
        request,
        "playbooks/_task_done.html",
        {
            "task": task,
            "activity": activity,
            "error": error,
            "sections": sections,
            "limit": TASKS_PER_GROUP,
        },
        status=422 if error else 200,
    )
