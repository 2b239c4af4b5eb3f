"""Playbook pages: the list, the builder (htmx), cadence and enrolments (My tasks: task_views.py).

Thin views: each finds its rows through the scoping functions in playbooks/visibility.py, calls one
service, and answers an htmx request with a partial or a plain request with a redirect, so every
form also works without JavaScript.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from abm.lib.channels import CHANNEL_COLOURS, Channel
from abm.lib.permissions import role_required, user_role
from abm.models import Role
from accounts.visibility import accounts_visible_to, contacts_visible_to
from metrics.visibility import goals_visible_to
from playbooks import building, lifecycle
from playbooks.audience import (
    audience_accounts,
    describe_audience,
    filter_query_string,
    has_audience,
)
from playbooks.building import edit_problem
from playbooks.cadence import cadence_figure, stage_spans
from playbooks.enrolment import enrol_audience, unenrol
from playbooks.forms import (
    AudienceForm,
    PlaybookCreateForm,
    PlaybookDetailsForm,
    StageForm,
    StepForm,
)
from playbooks.models import (
    EnrolmentStatus,
    OwnerRole,
    Playbook,
    PlaybookStatus,
    Stage,
    Step,
)
from playbooks.previewing import message_preview
from playbooks.templating import MERGE_FIELDS
from playbooks.visibility import (
    enrolments_visible_to,
    playbooks_visible_to,
    stages_visible_to,
    steps_visible_to,
)

PLAYBOOKS_PER_PAGE = 50
ENROLMENTS_PER_PAGE = 50
PREVIEW_ACCOUNTS = 50
# Who changes playbooks and enrolments (DOMAIN.md): directors and reps only read them.
EDIT_ROLES = (Role.MARKETER, Role.ADMIN)
STATUS_ACTIONS = {
    "activate": lifecycle.playbook_activate,
    "resume": lifecycle.playbook_activate,
    "pause": lifecycle.playbook_pause,
    "archive": lifecycle.playbook_archive,
}
STATUS_DONE = {
    PlaybookStatus.ACTIVE: "is active: tasks are created as steps come due.",
    PlaybookStatus.PAUSED: "is paused: no new tasks until it is resumed.",
    PlaybookStatus.ARCHIVED: "is archived. Its results stay in the metrics.",
}


def can_edit(user) -> bool:
    return user_role(user) in EDIT_ROLES


def _enrolment_count(user, *, holdout: bool) -> Subquery:
    # A correlated subquery, not a third Count join: stages x steps x enrolments would multiply rows.
    enrolments = enrolments_visible_to(user).filter(playbook=OuterRef("pk"))
    if holdout:
        enrolments = enrolments.filter(status=EnrolmentStatus.HOLDOUT)
    else:
        enrolments = enrolments.exclude(status=EnrolmentStatus.HOLDOUT)
    counted = enrolments.order_by().values("playbook").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _back(request, playbook: Playbook, name: str = "playbooks:detail"):
    return redirect(reverse(name, args=[playbook.pk]))


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


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
        return _back(request, playbook)
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


# --- The builder page --------------------------------------------------------------------------


def _playbook(user, pk: int) -> Playbook:
    return get_object_or_404(playbooks_visible_to(user).select_related("owner", "goal"), pk=pk)


def _editable_playbook(user, pk: int) -> Playbook:
    """For every change: only editors reach here (role_required), and only a visible playbook."""
    return _playbook(user, pk)


def _stages(playbook: Playbook) -> list[Stage]:
    return list(
        playbook.stages.order_by("order", "id").prefetch_related(
            Prefetch("steps", queryset=Step.objects.order_by("order", "id"))
        )
    )


def _enrolment_counts(user, playbook: Playbook) -> dict:
    return (
        enrolments_visible_to(user)
        .filter(playbook=playbook)
        .aggregate(
            total=Count("pk"),
            **{status: Count("pk", filter=Q(status=status)) for status in EnrolmentStatus.values},
        )
    )


def _stages_context(request, playbook: Playbook, *, stages=None, editing=None, error=None):
    """What _stages.html needs; `editing` = (step, form) to show one step's form open."""
    user = request.user
    editable = can_edit(user) and edit_problem(playbook) is None
    stages = _stages(playbook) if stages is None else stages
    if editable:
        for stage in stages:
            stage.form = StageForm(instance=stage, prefix=f"stage-{stage.pk}")
    context = {
        "playbook": playbook,
        "stages": stages,
        "editable": editable,
        "builder_error": error,
        "editing_step_id": editing[0].pk if editing else None,
    }
    if editing:
        context.update(_step_form_context(request, playbook, editing[0], editing[1]))
    return context


def _details_form(user, playbook: Playbook, data=None) -> PlaybookDetailsForm:
    return PlaybookDetailsForm(
        data,
        instance=playbook,
        goals=goals_visible_to(user).order_by("name"),
        prefix="details",
    )


def _industries(user) -> list[str]:
    return list(
        accounts_visible_to(user)
        .exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()
    )


def _audience_form(user, playbook: Playbook, data=None) -> AudienceForm:
    return AudienceForm(
        data,
        industries=_industries(user),
        initial={
            "tiers": playbook.audience_tiers,
            "industries": playbook.audience_industries,
            "account_filter": filter_query_string(playbook),
        },
        prefix="audience",
    )


def _audience_context(user, playbook: Playbook) -> dict:
    return {
        "playbook": playbook,
        "audience_count": audience_accounts(playbook, user=user).count(),
        "audience_parts": describe_audience(playbook),
        "audience_set": has_audience(playbook),
        "filter_query": filter_query_string(playbook),
    }


@login_required
def playbook_detail(request, pk: int):
    user = request.user
    playbook = _playbook(user, pk)
    stages = _stages(playbook)
    editor = can_edit(user)
    editable = editor and edit_problem(playbook) is None
    context = {
        **_stages_context(request, playbook, stages=stages),
        **_audience_context(user, playbook),
        "tab": "builder",
        "can_edit": editor,
        "lock_reason": edit_problem(playbook) if editor else None,
        "counts": _enrolment_counts(user, playbook),
        "problems": _readiness_problems(playbook, stages),
        "step_total": sum(len(stage.steps.all()) for stage in stages),
    }
    if editable:
        context["details_form"] = _details_form(user, playbook)
        context["audience_form"] = _audience_form(user, playbook)
    return render(request, "playbooks/detail.html", context)


def _readiness_problems(playbook: Playbook, stages: list[Stage]) -> list[str]:
    if playbook.is_starter or playbook.status not in (PlaybookStatus.DRAFT, PlaybookStatus.PAUSED):
        return []
    return lifecycle.activation_problems(playbook, stages=stages)


@require_GET
@login_required
def playbook_readiness(request, pk: int):
    playbook = _playbook(request.user, pk)
    return render(
        request,
        "playbooks/_readiness.html",
        {
            "playbook": playbook,
            "can_edit": can_edit(request.user),
            "problems": _readiness_problems(playbook, _stages(playbook)),
        },
    )


def _changed(response):
    """Tell the page the plan changed, so the readiness panel refreshes itself."""
    return trigger_client_event(response, "playbook-changed")


def _feedback(request, form, *, ok: bool, error: str | None = None, extra=None):
    """The answer to an autosaving form: a status line plus out-of-band field errors."""
    context = {"form": form, "ok": ok, "error": error, "saved_at": timezone.now(), **(extra or {})}
    return render(request, "playbooks/_feedback.html", context, status=200 if ok else 422)


@require_POST
@role_required(*EDIT_ROLES)
def playbook_details(request, pk: int):
    user = request.user
    playbook = _editable_playbook(user, pk)
    form = _details_form(user, playbook, request.POST)
    error = None
    if form.is_valid():
        try:
            building.playbook_update(playbook=playbook, by=user, **form.service_fields())
        except ValidationError as exc:
            error = _error_text(exc)
    else:
        playbook.refresh_from_db()
    ok = form.is_valid() and error is None
    if not request.htmx:
        if not ok:
            messages.error(request, error or "Not saved: check the playbook's details.")
        return _back(request, playbook)
    return _feedback(request, form, ok=ok, error=error, extra={"title_playbook": playbook})


@require_POST
@role_required(*EDIT_ROLES)
def playbook_audience(request, pk: int):
    user = request.user
    playbook = _editable_playbook(user, pk)
    form = _audience_form(user, playbook, request.POST)
    error = None
    if form.is_valid():
        try:
            building.playbook_set_audience(
                playbook=playbook,
                by=user,
                tiers=form.cleaned_data["tiers"],
                industries=form.cleaned_data["industries"],
                account_filter=form.cleaned_data["account_filter"],
            )
        except ValidationError as exc:
            error = _error_text(exc)
    ok = form.is_valid() and error is None
    if not request.htmx:
        if not ok:
            messages.error(request, error or "Audience not saved: check the account filter.")
        return _back(request, playbook)
    context = {**_audience_context(user, playbook), "form": form, "ok": ok, "error": error}
    return render(request, "playbooks/_audience_result.html", context, status=200 if ok else 422)


@require_POST
@role_required(*EDIT_ROLES)
def playbook_status(request, pk: int):
    user = request.user
    playbook = _playbook(user, pk)
    action = STATUS_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, "Unknown status change.")
        return _back(request, playbook)
    try:
        action(playbook=playbook, by=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"“{playbook.name}” {STATUS_DONE[playbook.status]}")
    return _back(request, playbook)


@require_POST
@role_required(*EDIT_ROLES)
def playbook_clone(request, pk: int):
    user = request.user
    source = _playbook(user, pk)
    copy = lifecycle.playbook_clone(playbook=source, by=user)
    messages.success(
        request,
        f"Draft “{copy.name}” created from “{source.name}”: adjust it, then activate it.",
    )
    return _back(request, copy)


# --- Stages and steps (htmx partials) ----------------------------------------------------------


def _stages_response(request, playbook: Playbook, *, error=None, editing=None):
    if not request.htmx:
        if error:
            messages.error(request, error)
        return _back(request, playbook)
    context = _stages_context(request, playbook, editing=editing, error=error)
    response = render(request, "playbooks/_stages.html", context, status=422 if error else 200)
    return response if error else _changed(response)


def _stage(user, playbook_pk: int, stage_pk: int) -> Stage:
    return get_object_or_404(
        stages_visible_to(user).select_related("playbook__owner", "playbook__goal"),
        pk=stage_pk,
        playbook_id=playbook_pk,
    )


def _step(user, playbook_pk: int, step_pk: int) -> Step:
    return get_object_or_404(
        steps_visible_to(user).select_related("stage__playbook__owner", "stage__playbook__goal"),
        pk=step_pk,
        stage__playbook_id=playbook_pk,
    )


@require_POST
@role_required(*EDIT_ROLES)
def stage_add(request, pk: int):
    playbook = _editable_playbook(request.user, pk)
    try:
        building.stage_add(playbook=playbook, by=request.user)
    except ValidationError as exc:
        return _stages_response(request, playbook, error=_error_text(exc))
    return _stages_response(request, playbook)


@require_POST
@role_required(*EDIT_ROLES)
def stage_update(request, pk: int, stage_pk: int):
    stage = _stage(request.user, pk, stage_pk)
    form = StageForm(request.POST, instance=stage, prefix=f"stage-{stage.pk}")
    error = None
    if form.is_valid():
        try:
            building.stage_update(stage=stage, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            error = _error_text(exc)
    ok = form.is_valid() and error is None
    if not request.htmx:
        if not ok:
            messages.error(request, error or "Stage not saved: it needs a name.")
        return _back(request, stage.playbook)
    return _changed(_feedback(request, form, ok=ok, error=error))


@require_POST
@role_required(*EDIT_ROLES)
def stage_move(request, pk: int, stage_pk: int):
    stage = _stage(request.user, pk, stage_pk)
    try:
        building.stage_move(stage=stage, by=request.user, direction=request.POST.get("direction"))
    except (ValidationError, ValueError) as exc:
        return _stages_response(request, stage.playbook, error=_error_text(_as_error(exc)))
    return _stages_response(request, stage.playbook)


@require_POST
@role_required(*EDIT_ROLES)
def stage_delete(request, pk: int, stage_pk: int):
    stage = _stage(request.user, pk, stage_pk)
    playbook = stage.playbook
    try:
        building.stage_remove(stage=stage, by=request.user)
    except ValidationError as exc:
        return _stages_response(request, playbook, error=_error_text(exc))
    return _stages_response(request, playbook)


def _as_error(exc: Exception) -> ValidationError:
    return exc if isinstance(exc, ValidationError) else ValidationError("Choose up or down.")


@require_POST
@role_required(*EDIT_ROLES)
def step_add(request, pk: int, stage_pk: int):
    stage = _stage(request.user, pk, stage_pk)
    try:
        step = building.step_add(stage=stage, by=request.user)
    except ValidationError as exc:
        return _stages_response(request, stage.playbook, error=_error_text(exc))
    step.stage = stage
    form = StepForm(instance=step, prefix=f"step-{step.pk}")
    return _stages_response(request, stage.playbook, editing=(step, form))


def _preview_accounts(user, playbook: Playbook) -> list:
    return list(audience_accounts(playbook, user=user).only("pk", "name")[:PREVIEW_ACCOUNTS])


def _step_form_context(request, playbook: Playbook, step: Step, form: StepForm) -> dict:
    return {
        "playbook": playbook,
        "step": step,
        "form": form,
        "merge_fields": MERGE_FIELDS.items(),
        "preview_accounts": _preview_accounts(request.user, playbook),
    }


@require_GET
@login_required
def step_row(request, pk: int, step_pk: int):
    step = _step(request.user, pk, step_pk)
    playbook = step.stage.playbook
    return render(
        request,
        "playbooks/_step_row.html",
        {
            "step": step,
            "playbook": playbook,
            "editable": can_edit(request.user) and edit_problem(playbook) is None,
        },
    )


@require_GET
@role_required(*EDIT_ROLES)
def step_edit(request, pk: int, step_pk: int):
    step = _step(request.user, pk, step_pk)
    form = StepForm(instance=step, prefix=f"step-{step.pk}")
    context = _step_form_context(request, step.stage.playbook, step, form)
    return render(request, "playbooks/_step_form.html", context)


@require_POST
@role_required(*EDIT_ROLES)
def step_save(request, pk: int, step_pk: int):
    user = request.user
    step = _step(user, pk, step_pk)
    playbook = step.stage.playbook
    form = StepForm(request.POST, instance=step, prefix=f"step-{step.pk}")
    if form.is_valid():
        try:
            building.step_update(step=step, by=user, **form.service_fields())
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
    if not form.errors:
        if not request.htmx:
            messages.success(request, "Step saved.")
            return _back(request, playbook)
        return _changed(
            render(
                request,
                "playbooks/_step_row.html",
                {"step": step, "playbook": playbook, "editable": True, "just_saved": True},
            )
        )
    if not request.htmx:
        messages.error(request, "Step not saved: " + "; ".join(_flat_errors(form)))
        return _back(request, playbook)
    context = _step_form_context(request, playbook, step, form)
    return render(request, "playbooks/_step_form.html", context, status=422)


def _flat_errors(form) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]


@require_POST
@role_required(*EDIT_ROLES)
def step_move(request, pk: int, step_pk: int):
    step = _step(request.user, pk, step_pk)
    try:
        building.step_move(step=step, by=request.user, direction=request.POST.get("direction"))
    except (ValidationError, ValueError) as exc:
        return _stages_response(request, step.stage.playbook, error=_error_text(_as_error(exc)))
    return _stages_response(request, step.stage.playbook)


@require_POST
@role_required(*EDIT_ROLES)
def step_delete(request, pk: int, step_pk: int):
    step = _step(request.user, pk, step_pk)
    playbook = step.stage.playbook
    try:
        building.step_remove(step=step, by=request.user)
    except ValidationError as exc:
        return _stages_response(request, playbook, error=_error_text(exc))
    return _stages_response(request, playbook)


@require_POST
@role_required(*EDIT_ROLES)
def step_preview(request, pk: int, step_pk: int):
    """The step's unsaved subject and body rendered for one audience account."""
    user = request.user
    step = _step(user, pk, step_pk)
    playbook = step.stage.playbook
    prefix = f"step-{step.pk}"
    accounts = audience_accounts(playbook, user=user).select_related("owner")
    account_id = request.POST.get("preview_account", "")
    account = (
        accounts.filter(pk=int(account_id)).first() if account_id.isdigit() else None
    ) or accounts.first()
    if account is None:
        return render(request, "playbooks/_preview.html", {"account": None})
    preview = message_preview(
        account=account,
        contacts=list(contacts_visible_to(user).filter(account=account)),
        subject=request.POST.get(f"{prefix}-subject", ""),
        body=request.POST.get(f"{prefix}-body", ""),
        buying_role=request.POST.get(f"{prefix}-target_buying_role", ""),
        seniority=request.POST.get(f"{prefix}-target_seniority", ""),
    )
    return render(request, "playbooks/_preview.html", {"account": account, "preview": preview})


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
    playbook = _playbook(user, pk)
    stages = _stages(playbook)
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
            "counts": _enrolment_counts(user, playbook),
            "rows": rows,
            "figure": figure,
            "has_steps": any(span.steps for span in spans),
            "total_days": spans[-1].end if spans else 0,
            "cost_per_account": sum((span.cost_per_account for span in spans), 0),
            "legend": [(c, labels[c], colours.get(c, "")) for c in labels if c in used],
        },
    )


# --- Enrolments --------------------------------------------------------------------------------


@login_required
def playbook_enrolments(request, pk: int):
    user = request.user
    playbook = _playbook(user, pk)
    enrolments = (
        enrolments_visible_to(user)
        .filter(playbook=playbook)
        .select_related("account__owner", "current_stage")
        .order_by("account__name", "id")
    )
    status = request.GET.get("status", "")
    if status in EnrolmentStatus.values:
        enrolments = enrolments.filter(status=status)
    page = Paginator(enrolments, ENROLMENTS_PER_PAGE).get_page(request.GET.get("page"))
    audience = audience_accounts(playbook, user=user)
    editor = can_edit(user)
    return render(
        request,
        "playbooks/enrolments.html",
        {
            "playbook": playbook,
            "tab": "enrolments",
            "can_edit": editor,
            "may_enrol": editor
            and not playbook.is_starter
            and playbook.status != PlaybookStatus.ARCHIVED,
            "counts": _enrolment_counts(user, playbook),
            "page": page,
            "status": status,
            "statuses": EnrolmentStatus.choices,
            "audience_set": has_audience(playbook),
            "audience_parts": describe_audience(playbook),
            "audience_count": audience.count(),
            "audience_new": audience.exclude(enrolments__playbook=playbook).count(),
        },
    )


@require_POST
@role_required(*EDIT_ROLES)
def playbook_enrol(request, pk: int):
    user = request.user
    playbook = _playbook(user, pk)
    try:
        result = enrol_audience(playbook=playbook, by=user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        added = result.enrolled + result.holdout
        if added:
            messages.success(
                request,
                f"{added:,} account{'s' if added != 1 else ''} enrolled: {result.enrolled:,} "
                f"get the playbook, {result.holdout:,} held out as the control group"
                + (f"; {result.already:,} were already enrolled." if result.already else "."),
            )
        else:
            messages.info(request, "Every matching account is already enrolled.")
    return _back(request, playbook, "playbooks:enrolments")


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
        return _back(request, enrolment.playbook, "playbooks:enrolments")
    return render(
        request,
        "playbooks/_enrolment_row.html",
        {"enrolment": enrolment, "playbook": enrolment.playbook, "may_enrol": True},
    )
