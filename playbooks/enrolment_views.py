"""The enrolments page: who is in the playbook, enrolling the audience (with the holdout-size
warning before and after), the task-generation job it queues, and unenrolling."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from abm.lib.permissions import role_required
from accounts.list_filters import NON_TARGET, TARGETS, TIER_CHOICES, tier_q
from playbooks.audience import audience_accounts, describe_audience, has_audience
from playbooks.enrolment import enrol_audience, unenrol
from playbooks.holdout_planning import holdout_plan
from playbooks.models import EnrolmentStatus, PlaybookStatus
from playbooks.task_generation import latest_tasks_run
from playbooks.view_access import (
    EDIT_ROLES,
    back_to,
    can_edit,
    enrolment_counts,
    error_text,
    visible_playbook,
)
from playbooks.visibility import enrolments_visible_to

ENROLMENTS_PER_PAGE = 50
# status=enrolled: in the playbook (not the holdout), as the marketer dashboard counts them.
ENROLLED = "enrolled"
TIER_VALUES = ("1", "2", "3")
ENROLLED_STATUSES = (EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED, EnrolmentStatus.EXITED)


def _narrowed(enrolments, data, playbook) -> tuple:
    """The marketer dashboard's drill-down parameters: ``stage`` (a stage id, or "none"),
    ``tier`` and ``owner`` as its bars count them; anything else is ignored. Returns the
    enrolments and what narrowed them, in words."""
    said = []
    stage = data.get("stage", "")
    if stage == "none":
        enrolments = enrolments.filter(current_stage__isnull=True)
        said.append("no stage yet")
    elif stage.isdigit() and int(stage) < 2**31:
        enrolments = enrolments.filter(current_stage_id=int(stage))
        name = playbook.stages.filter(pk=int(stage)).values_list("name", flat=True).first()
        said.append(f"at stage {name}" if name else "at a stage not in this playbook")
    tier = data.get("tier", "")
    if tier in (*TIER_VALUES, NON_TARGET, TARGETS):
        enrolments = enrolments.filter(tier_q(tier))
        said.append(dict(TIER_CHOICES)[tier].lower())
    owner = data.get("owner", "")
    if owner.isdigit() and int(owner) < 2**31:
        enrolments = enrolments.filter(account__owner_id=int(owner))
        said.append("one owner's accounts")
    return enrolments, said


@login_required
def playbook_enrolments(request, pk: int):
    user = request.user
    playbook = visible_playbook(user, pk)
    enrolments = (
        enrolments_visible_to(user)
        .filter(playbook=playbook)
        .select_related("account__owner", "current_stage")
        .order_by("account__name", "id")
    )
    status = request.GET.get("status", "")
    if status in EnrolmentStatus.values:
        enrolments = enrolments.filter(status=status)
    elif status == ENROLLED:
        enrolments = enrolments.filter(status__in=ENROLLED_STATUSES)
    enrolments, narrowed = _narrowed(enrolments, request.GET, playbook)
    page = Paginator(enrolments, ENROLMENTS_PER_PAGE).get_page(request.GET.get("page"))
    audience = audience_accounts(playbook, user=user)
    editor = can_edit(user)
    may_enrol = editor and not playbook.is_starter and playbook.status != PlaybookStatus.ARCHIVED
    counts = enrolment_counts(user, playbook)
    audience_new = audience.exclude(enrolments__playbook=playbook).count()
    context = {
        "playbook": playbook,
        "tab": "enrolments",
        "can_edit": editor,
        "may_enrol": may_enrol,
        "counts": counts,
        "page": page,
        "status": status,
        "statuses": EnrolmentStatus.choices,
        "narrowed": narrowed,
        "audience_set": has_audience(playbook),
        "audience_parts": describe_audience(playbook),
        "audience_count": audience.count(),
        "audience_new": audience_new,
    }
    if may_enrol:
        # Editors see every enrolment, so these counts are the playbook's whole groups.
        context["holdout_plan"] = holdout_plan(
            new_accounts=audience_new,
            share=playbook.holdout_share,
            enrolled_before=counts["total"] - counts["holdout"],
            held_before=counts["holdout"],
        )
        context["run"] = latest_tasks_run(playbook)
    return render(request, "playbooks/enrolments.html", context)


@require_POST
@role_required(*EDIT_ROLES)
def playbook_enrol(request, pk: int):
    user = request.user
    playbook = visible_playbook(user, pk)
    try:
        result = enrol_audience(playbook=playbook, by=user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        added = result.enrolled + result.holdout
        if added:
            messages.success(
                request,
                f"{added:,} account{'s' if added != 1 else ''} enrolled: {result.enrolled:,} "
                f"get the playbook, {result.holdout:,} held out as the control group"
                + (f"; {result.already:,} were already enrolled." if result.already else ".")
                + (" Their tasks due now are being created." if result.run_id else ""),
            )
            if result.warning:
                messages.warning(request, result.warning)
        else:
            messages.info(request, "Every matching account is already enrolled.")
    return back_to(playbook, "playbooks:enrolments")


@require_POST
@role_required(*EDIT_ROLES)
def enrolment_unenrol(request, pk: int, enrolment_pk: int):
    user = request.user
    enrolment = get_object_or_404(
        enrolments_visible_to(user).select_related("account__owner", "current_stage", "playbook"),
        pk=enrolment_pk,
        playbook_id=pk,
    )
    if enrolment.status in (EnrolmentStatus.ACTIVE, EnrolmentStatus.HOLDOUT):
        unenrol(enrolment=enrolment)
    if not request.htmx:
        messages.success(request, f"{enrolment.account.name} left “{enrolment.playbook.name}”.")
        return back_to(enrolment.playbook, "playbooks:enrolments")
    return render(
        request,
        "playbooks/_enrolment_row.html",
        {"enrolment": enrolment, "playbook": enrolment.playbook, "may_enrol": True},
    )
