from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.utils import timezone

from abm.lib.permissions import user_role
from abm.models import Role
from playbooks.models import EnrolmentStatus, TaskStatus
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


@login_required
def playbook_list(request):
    user = request.user
    playbooks = (
        playbooks_visible_to(user)
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
    return render(request, "playbooks/list.html", {"page": page})


@login_required
def task_list(request):
    user = request.user
    tasks = tasks_visible_to(user).filter(status=TaskStatus.OPEN)
    # Reps and marketers work their own queue; directors and admins oversee everyone's.
    mine_only = user_role(user) in (Role.SALES, Role.MARKETER)
    if mine_only:
        tasks = tasks.filter(assignee=user)
    now = timezone.now()
    soon = now + timedelta(days=DUE_SOON_DAYS)
    groups = [
        ("overdue", "Overdue", Q(due_at__lt=now)),
        ("this_week", "Due this week", Q(due_at__gte=now, due_at__lt=soon)),
        ("later", "Later", Q(due_at__gte=soon)),
    ]
    counts = tasks.aggregate(**{key: Count("pk", filter=cond) for key, _, cond in groups})
    rows = tasks.select_related("account", "step", "assignee", "enrolment__playbook")
    sections = [
        {
            "key": key,
            "label": label,
            "count": counts[key],
            "tasks": list(rows.filter(cond).order_by("due_at", "id")[:TASKS_PER_GROUP])
            if counts[key]
            else [],
        }
        for key, label, cond in groups
    ]
    return render(
        request,
        "playbooks/tasks.html",
        {
            "sections": sections,
            "total": sum(counts.values()),
            "mine_only": mine_only,
            "limit": TASKS_PER_GROUP,
            "soon_days": DUE_SOON_DAYS,
        },
    )
