"""The playbook builder (htmx): the page, its details, audience, status and readiness, and the
stages and steps. A new step is only a form until it is saved valid (step_new, step_create).

Thin views: each finds its rows through the scoping functions in playbooks/visibility.py, calls one
service, and answers an htmx request with a partial or a plain request with a redirect, so every
form also works without JavaScript.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from abm.lib.form_errors import form_errors
from abm.lib.permissions import role_required
from abm.scoping import visible_to
from accounts.visibility import accounts_visible_to, contacts_visible_to
from playbooks import building, lifecycle
from playbooks.audience import (
    audience_accounts,
    describe_audience,
    filter_query_string,
    has_audience,
)
from playbooks.building import edit_problem
from playbooks.enrolment import enrolment_plan
from playbooks.forms import AudienceForm, PlaybookDetailsForm, StageForm, StepForm
from playbooks.models import Playbook, PlaybookStatus, Stage, Step
from playbooks.previewing import message_preview
from playbooks.readiness import messages_missing, unentered_stages
from playbooks.templating import MERGE_FIELDS
from playbooks.view_access import (
    EDIT_ROLES,
    back_to,
    can_edit,
    enrolment_counts,
    error_text,
    ordered_stages,
    visible_playbook,
)
from playbooks.visibility import stages_visible_to, steps_visible_to

# Goals sit above playbooks: reached through the relation, scoped by their own function.
GOAL = Playbook._meta.get_field("goal").related_model

PREVIEW_ACCOUNTS = 50
STATUS_ACTIONS = {
    "activate": lifecycle.playbook_activate,
    "resume": lifecycle.playbook_activate,
    "pause": lifecycle.playbook_pause,
    "archive": lifecycle.playbook_archive,
}
STATUS_DONE = {
    PlaybookStatus.ACTIVE: "is active: the tasks due now are being created, later ones as their "
    "days come.",
    PlaybookStatus.PAUSED: "is paused: no new tasks until it is resumed.",
    PlaybookStatus.ARCHIVED: "is archived. Its results stay in the metrics.",
}


# --- The page --------------------------------------------------------------------------


def _stages_context(request, playbook: Playbook, *, stages=None, editing=None, error=None):
    """What _stages.html needs; `editing` = (step, form) to show one step's form open."""
    user = request.user
    editable = can_edit(user) and edit_problem(playbook) is None
    stages = ordered_stages(playbook) if stages is None else stages
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
        goals=visible_to(GOAL, user).order_by("name"),
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
    audience = audience_accounts(playbook, user=user)
    context = {
        "playbook": playbook,
        "audience_count": audience.count(),
        "audience_parts": describe_audience(playbook),
        "audience_set": has_audience(playbook),
        "filter_query": filter_query_string(playbook),
    }
    if can_edit(user) and context["audience_set"] and not playbook.is_starter:
        # Said before anyone presses Enrol: the groups this audience would give.
        new = audience.exclude(enrolments__playbook=playbook).count()
        context["holdout_plan"] = enrolment_plan(playbook, new_accounts=new)
    return context


@login_required
def playbook_detail(request, pk: int):
    user = request.user
    playbook = visible_playbook(user, pk)
    stages = ordered_stages(playbook)
    editor = can_edit(user)
    editable = editor and edit_problem(playbook) is None
    context = {
        **_stages_context(request, playbook, stages=stages),
        **_audience_context(user, playbook),
        "tab": "builder",
        "can_edit": editor,
        "lock_reason": edit_problem(playbook) if editor else None,
        "counts": enrolment_counts(user, playbook),
        **_readiness(playbook, stages),
        "step_total": sum(len(stage.steps.all()) for stage in stages),
    }
    if editable:
        context["details_form"] = _details_form(user, playbook)
        context["audience_form"] = _audience_form(user, playbook)
        adding_to = next((s for s in stages if str(s.pk) == request.GET.get("add_step")), None)
        if adding_to is not None:  # "+ Add step" without JavaScript
            context.update(_new_step_context(request, adding_to))
    return render(request, "playbooks/detail.html", context)


def _readiness(playbook: Playbook, stages: list[Stage]) -> dict:
    """`problems` stop activation; `warnings` (stages nobody will enter) do not, but the box then
    names them instead of saying "Ready"."""
    if playbook.is_starter or playbook.status == PlaybookStatus.ARCHIVED:
        return {"problems": [], "warnings": []}
    startable = playbook.status in (PlaybookStatus.DRAFT, PlaybookStatus.PAUSED)
    return {
        "problems": lifecycle.activation_problems(playbook, stages=stages) if startable else [],
        "warnings": messages_missing(stages) + unentered_stages(playbook, stages),
    }


@require_GET
@login_required
def playbook_readiness(request, pk: int):
    playbook = visible_playbook(request.user, pk)
    return render(
        request,
        "playbooks/_readiness.html",
        {
            "playbook": playbook,
            "can_edit": can_edit(request.user),
            **_readiness(playbook, ordered_stages(playbook)),
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
    playbook = visible_playbook(user, pk)
    form = _details_form(user, playbook, request.POST)
    error = None
    if form.is_valid():
        try:
            building.playbook_update(playbook=playbook, by=user, **form.service_fields())
        except ValidationError as exc:
            error = error_text(exc)
    else:
        playbook.refresh_from_db()
    ok = form.is_valid() and error is None
    if not request.htmx:
        if not ok:
            messages.error(request, error or "Not saved: check the playbook's details.")
        return back_to(playbook)
    return _feedback(request, form, ok=ok, error=error, extra={"title_playbook": playbook})


@require_POST
@role_required(*EDIT_ROLES)
def playbook_audience(request, pk: int):
    user = request.user
    playbook = visible_playbook(user, pk)
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
            error = error_text(exc)
    ok = form.is_valid() and error is None
    if not request.htmx:
        if not ok:
            messages.error(request, error or "Audience not saved: check the account filter.")
        return back_to(playbook)
    context = {**_audience_context(user, playbook), "form": form, "ok": ok, "error": error}
    return render(request, "playbooks/_audience_result.html", context, status=200 if ok else 422)


@require_POST
@role_required(*EDIT_ROLES)
def playbook_status(request, pk: int):
    user = request.user
    playbook = visible_playbook(user, pk)
    action = STATUS_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, "Unknown status change.")
        return back_to(playbook)
    try:
        action(playbook=playbook, by=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"“{playbook.name}” {STATUS_DONE[playbook.status]}")
    return back_to(playbook)


@require_POST
@role_required(*EDIT_ROLES)
def playbook_clone(request, pk: int):
    user = request.user
    source = visible_playbook(user, pk)
    copy = lifecycle.playbook_clone(playbook=source, by=user)
    messages.success(
        request,
        f"Draft “{copy.name}” created from “{source.name}”: adjust it, then activate it.",
    )
    return back_to(copy)


# --- Stages and steps (htmx partials) ----------------------------------------------------------


def _stages_response(request, playbook: Playbook, *, error=None, editing=None):
    if not request.htmx:
        if error:
            messages.error(request, error)
        return back_to(playbook)
    context = _stages_context(request, playbook, editing=editing, error=error)
    response = render(request, "playbooks/_stages.html", context, status=422 if error else 200)
    # Also when asked from a step's own row (a new step's form, "+ Add step" on a locked plan).
    response = retarget(reswap(response, "innerHTML"), "#stages")
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
    playbook = visible_playbook(request.user, pk)
    try:
        building.stage_add(playbook=playbook, by=request.user)
    except ValidationError as exc:
        return _stages_response(request, playbook, error=error_text(exc))
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
            error = error_text(exc)
    ok = form.is_valid() and error is None
    if not request.htmx:
        if not ok:
            messages.error(request, error or "Stage not saved: it needs a name.")
        return back_to(stage.playbook)
    return _changed(_feedback(request, form, ok=ok, error=error))


@require_POST
@role_required(*EDIT_ROLES)
def stage_move(request, pk: int, stage_pk: int):
    stage = _stage(request.user, pk, stage_pk)
    try:
        building.stage_move(stage=stage, by=request.user, direction=request.POST.get("direction"))
    except (ValidationError, ValueError) as exc:
        return _stages_response(request, stage.playbook, error=error_text(_as_error(exc)))
    return _stages_response(request, stage.playbook)


@require_POST
@role_required(*EDIT_ROLES)
def stage_delete(request, pk: int, stage_pk: int):
    stage = _stage(request.user, pk, stage_pk)
    playbook = stage.playbook
    try:
        building.stage_remove(stage=stage, by=request.user)
    except ValidationError as exc:
        return _stages_response(request, playbook, error=error_text(exc))
    return _stages_response(request, playbook)


def _as_error(exc: Exception) -> ValidationError:
    return exc if isinstance(exc, ValidationError) else ValidationError("Choose up or down.")


@require_GET
@role_required(*EDIT_ROLES)
def step_new(request, pk: int, stage_pk: int):
    """ "+ Add step": an unsaved step's form. Nothing is stored until it is saved valid."""
    stage = _stage(request.user, pk, stage_pk)
    if problem := edit_problem(stage.playbook):
        return _stages_response(request, stage.playbook, error=problem)
    if not request.htmx:
        return redirect(
            f"{reverse('playbooks:detail', args=[pk])}?add_step={stage.pk}#stage-{stage.pk}"
        )
    return render(request, "playbooks/_step_form.html", _new_step_context(request, stage))


@require_POST
@role_required(*EDIT_ROLES)
def step_create(request, pk: int, stage_pk: int):
    stage = _stage(request.user, pk, stage_pk)
    playbook = stage.playbook
    form = StepForm(request.POST, instance=Step(stage=stage), prefix=_new_prefix(stage))
    if form.is_valid():
        try:
            building.step_add(stage=stage, by=request.user, **form.service_fields())
        except ValidationError as exc:
            _add_service_errors(form, exc)
    if not form.errors:
        if not request.htmx:
            messages.success(request, "Step added.")
            return back_to(playbook)
        # The whole plan, so the new row sits in order and the empty-stage note goes.
        return _stages_response(request, playbook)
    if not request.htmx:
        messages.error(request, "Step not added: " + "; ".join(form_errors(form)))
        return redirect(f"{reverse('playbooks:detail', args=[pk])}?add_step={stage.pk}")
    context = _new_step_context(request, stage, form=form)
    return render(request, "playbooks/_step_form.html", context, status=422)


def _new_prefix(stage: Stage) -> str:
    return f"new-step-{stage.pk}"


def _new_step_context(request, stage: Stage, *, form: StepForm | None = None) -> dict:
    playbook = stage.playbook
    defaults = building.new_step_defaults(stage)
    step = Step(stage=stage, **defaults)
    if form is None:
        form = StepForm(instance=step, prefix=_new_prefix(stage))
    return {
        **_step_form_context(request, playbook, step, form),
        "new_step_stage_id": stage.pk,
        "row_id": _new_prefix(stage),
        "save_url": reverse("playbooks:step_create", args=[playbook.pk, stage.pk]),
        "preview_url": reverse("playbooks:step_new_preview", args=[playbook.pk, stage.pk]),
        "cancel_url": None,
    }


def _add_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _preview_accounts(user, playbook: Playbook) -> list:
    return list(audience_accounts(playbook, user=user).only("pk", "name")[:PREVIEW_ACCOUNTS])


def _step_form_context(request, playbook: Playbook, step: Step, form: StepForm) -> dict:
    context = {
        "playbook": playbook,
        "step": step,
        "form": form,
        "merge_fields": MERGE_FIELDS.items(),
        "preview_accounts": _preview_accounts(request.user, playbook),
    }
    if step.pk:
        context.update(
            row_id=f"step-{step.pk}",
            save_url=reverse("playbooks:step_save", args=[playbook.pk, step.pk]),
            preview_url=reverse("playbooks:step_preview", args=[playbook.pk, step.pk]),
            cancel_url=reverse("playbooks:step_row", args=[playbook.pk, step.pk]),
        )
    return context


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
            _add_service_errors(form, exc)
    if not form.errors:
        if not request.htmx:
            messages.success(request, "Step saved.")
            return back_to(playbook)
        return _changed(
            render(
                request,
                "playbooks/_step_row.html",
                {"step": step, "playbook": playbook, "editable": True, "just_saved": True},
            )
        )
    if not request.htmx:
        messages.error(request, "Step not saved: " + "; ".join(form_errors(form)))
        return back_to(playbook)
    context = _step_form_context(request, playbook, step, form)
    return render(request, "playbooks/_step_form.html", context, status=422)


@require_POST
@role_required(*EDIT_ROLES)
def step_move(request, pk: int, step_pk: int):
    step = _step(request.user, pk, step_pk)
    try:
        building.step_move(step=step, by=request.user, direction=request.POST.get("direction"))
    except (ValidationError, ValueError) as exc:
        return _stages_response(request, step.stage.playbook, error=error_text(_as_error(exc)))
    return _stages_response(request, step.stage.playbook)


@require_POST
@role_required(*EDIT_ROLES)
def step_delete(request, pk: int, step_pk: int):
    step = _step(request.user, pk, step_pk)
    playbook = step.stage.playbook
    try:
        building.step_remove(step=step, by=request.user)
    except ValidationError as exc:
        return _stages_response(request, playbook, error=error_text(exc))
    return _stages_response(request, playbook)


@require_POST
@role_required(*EDIT_ROLES)
def step_preview(request, pk: int, step_pk: int):
    """The step's unsaved subject and body rendered for one audience account."""
    step = _step(request.user, pk, step_pk)
    return _preview(request, step.stage.playbook, prefix=f"step-{step.pk}")


@require_POST
@role_required(*EDIT_ROLES)
def step_new_preview(request, pk: int, stage_pk: int):
    """The same for a step not saved yet."""
    stage = _stage(request.user, pk, stage_pk)
    return _preview(request, stage.playbook, prefix=_new_prefix(stage))


def _preview(request, playbook: Playbook, *, prefix: str):
    user = request.user
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
