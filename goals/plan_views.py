"""The planner pages (issue #18): plan a target backwards as you type, save it, read saved plans,
and make goals from one. The figures come from metrics.planning.preview_plan (scoped to the user);
a plan is shown from its JSON (the API's, metrics/planning_output.py), computed or saved alike."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.visibility import accounts_visible_to
from goals.forms import PersonChoiceField
from goals.models import Plan
from goals.plan_budgets import plan_budget_proposals, plan_set_budgets
from goals.plan_display import assumption_rows, assumption_summary, plan_view
from goals.plan_forms import (
    PlanForm,
    assumption_inputs,
    channel_label,
    next_quarters,
    scope_signature,
)
from goals.plan_goals import ROLES, PlanGoalsError, plan_create_goals, plan_goal_specs
from goals.plans import can_read_plans, can_save_plans, plan_save_asked, plans_visible_to
from metrics.engine.compute.planning import PlanInputError
from metrics.models import AttributionModel
from metrics.planning import preview_plan
from metrics.planning_output import plan_csv_response, plan_json, preview_from_json

OWNER_LABELS = {
    "parent": "Owner of the plan's outcome goal",
    "opportunity": "Owner of the opportunities goal",
    "mqa": "Owner of the MQA accounts goal",
    "engaged": "Owner of the engaged accounts goal",
}


OVERRIDE_LABELS = {
    "conversion": "conversion rates",
    "lag_days": "lags",
    "deal_size": "deal size",
    "channel_mix": "channel mix",
}


def _readable(user) -> None:
    # A rep has no plan to see: the pages do not exist for them (404, as an unseen object).
    if not can_read_plans(user):
        raise Http404


def _initial() -> dict:
    start, end = next_quarters(timezone.localdate())
    return {"kind": "revenue", "start": start, "end": end, "model": AttributionModel.LINEAR}


def _compute(user, form: PlanForm, query) -> dict:
    """The plan for a valid form and what the assumption inputs show; errors go on the form."""
    data = form.cleaned_data
    basis = scope_signature(data)
    channels = query.getlist("channel")
    kept = query.get("basis") == basis
    overrides, errors = assumption_inputs(query, channels=channels) if kept else ({}, {})
    context = {"basis": basis, "assumption_errors": errors}
    try:
        preview = preview_plan(
            user=user,
            target=float(data["target"]),
            kind=data["kind"],
            start=data["start"],
            end=data["end"],
            tiers=data["tiers"],
            playbook=data["playbook"],
            model=data["model"],
            overrides=overrides or None,
        )
    except (PlanInputError, ValueError) as error:
        form.add_error(None, str(error))
        # Inputs to type the rates the data cannot measure (kept as typed while the scope holds).
        shown = assumption_rows({})
        for row in [*shown["conversion"], *shown["lags"]]:
            row["value"] = query.get(row["name"], "") if kept else ""
            row["default"] = query.get(f"d_{row['name']}", "") if kept else ""
        shown["deal_size"] = query.get("deal_size", "") if kept else ""
        shown["deal_size_default"] = query.get("d_deal_size", "") if kept else ""
        context["assumptions"] = shown
        return context
    result = plan_json(preview)
    shown = assumption_rows(result.get("assumptions") or {})
    if kept:
        # The inputs keep what was typed; the measured values stay the defaults beside them.
        for row in [*shown["conversion"], *shown["lags"], *shown["mix"]]:
            row["default"] = query.get(f"d_{row['name']}", row["value"])
            row["value"] = query.get(row["name"], row["value"])
        shown["deal_size_default"] = query.get("d_deal_size", shown["deal_size"])
        shown["deal_size"] = query.get("deal_size", shown["deal_size"])
    else:
        for row in [*shown["conversion"], *shown["lags"], *shown["mix"]]:
            row["default"] = row["value"]
        shown["deal_size_default"] = shown["deal_size"]
    context.update(
        preview=preview,
        result=result,
        export_url=_export_url(query),
        plan=plan_view(result, start=data["start"]),
        assumptions=shown,
        overridden=[OVERRIDE_LABELS[key] for key in OVERRIDE_LABELS if key in overrides],
        add_accounts_url=_tiering_url(user, data["tiers"]),
    )
    return context


def _export_url(query) -> str:
    """The CSV of the plan on screen: the same fields, by GET (never the form's token)."""
    fields = query.copy()
    for private in ("csrfmiddlewaretoken", "name"):
        fields.pop(private, None)
    return f"{reverse('plans:plan_export')}?{fields.urlencode()}"


def _tiering_url(user, tiers: list[int]) -> str:
    """The tiering assistant's best-fit non-targets, filtered like the scope's targets (their
    most common industry and country)."""
    targets = accounts_visible_to(user).filter(tier__in=tiers or [1, 2, 3])
    query = {}
    for field in ("industry", "country"):
        top = (
            targets.exclude(**{field: ""})
            .values(field)
            .annotate(n=Count("id"))
            .order_by("-n", field)
            .first()
        )
        if top:
            query[field] = top[field]
    url = reverse("accounts:tiering")
    return f"{url}?{urlencode(query)}" if query else url


@login_required
def planner(request):
    """The planner: the form, the plan it gives (swapped in by htmx as you type) and saved plans."""
    user = request.user
    _readable(user)
    bound = "target" in request.GET
    form = PlanForm(request.GET if bound else None, user=user, initial=_initial())
    context = {"form": form, "can_save": can_save_plans(user)}
    if bound and form.is_valid():
        context.update(_compute(user, form, request.GET))
    status = 422 if bound and (form.errors or context.get("assumption_errors")) else 200
    if request.headers.get("HX-Request"):
        return render(request, "goals/_planner.html", context, status=status)
    return render(request, "goals/plans.html", {**context, "plans": _saved(user)}, status=status)


@login_required
def planner_export(request):
    """The plan the planner shows for these fields, as CSV; fields that do not hold go back to
    the planner, which says what to fix."""
    user = request.user
    _readable(user)
    form = PlanForm(request.GET, user=user)
    if form.is_valid():
        context = _compute(user, form, request.GET)
        if "preview" in context and not context["assumption_errors"]:
            return plan_csv_response(context["preview"])
    return redirect(f"{reverse('plans:plans')}?{request.GET.urlencode()}")


@login_required
@require_POST
def planner_save(request):
    user = request.user
    _readable(user)
    if not can_save_plans(user):
        raise PermissionDenied
    form = PlanForm(request.POST, user=user)
    form.fields["name"].required = True
    form.fields["name"].error_messages["required"] = "Name the plan to save it."
    context = {"form": form, "can_save": True}
    if form.is_valid():
        context.update(_compute(user, form, request.POST))
        if "result" in context and not context["assumption_errors"]:
            plan = plan_save_asked(by=user, asked=form.cleaned_data, result=context["result"])
            messages.success(request, f"Plan “{plan.name}” saved.")
            return redirect("plans:plan_detail", pk=plan.pk)
    return render(request, "goals/plans.html", {**context, "plans": _saved(user)}, status=422)


def _saved(user) -> list[Plan]:
    plans = list(plans_visible_to(user).select_related("created_by", "playbook")[:50])
    for plan in plans:
        plan.summary = assumption_summary(plan.assumptions or {})
    return plans


class PlanGoalsForm(forms.Form):
    def __init__(self, *args, by, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("first_name", "username")
        for role in ROLES:
            self.fields[role] = PersonChoiceField(
                queryset=users,
                label=OWNER_LABELS[role],
                empty_label="Choose the accountable owner",
                error_messages={"required": "Choose who is accountable for this goal."},
            )
            self.initial[role] = by.pk


def _visible_plan(user, pk: int) -> Plan:
    return get_object_or_404(
        plans_visible_to(user).select_related("created_by", "playbook", "goal"), pk=pk
    )


def _detail(
    request, plan: Plan, goals_form: PlanGoalsForm, errors=(), status=200, budget_errors=()
):
    result = plan.result or {}
    can_save = can_save_plans(request.user)
    proposals, split = plan_budget_proposals(request.user, plan) if can_save else ([], None)
    specs = plan_goal_specs(
        result,
        name=plan.name,
        kind=plan.kind,
        target=plan.target,
        start=plan.start_date,
        end=plan.end_date,
    )
    return render(
        request,
        "goals/plan_detail.html",
        {
            "saved": plan,
            "result": result,
            "plan": plan_view(result, start=plan.start_date),
            "assumptions": assumption_rows(plan.assumptions or {}),
            "add_accounts_url": _tiering_url(request.user, plan.tiers),
            "goals_form": goals_form,
            "goal_errors": errors,
            "specs": specs,
            "can_make_goals": can_save and plan.goal_id is None,
            "can_set_budgets": can_save,
            "proposals": proposals,
            "split": split,
            "unassigned": [
                {"channel": channel_label(key), "amount": amount}
                for key, amount in (split.unassigned.items() if split else [])
            ],
            "budget_errors": budget_errors,
        },
        status=status,
    )


def _plan_to_act_on(user, pk: int):
    """A plan the user may see (else 404) and turn into work (else 403)."""
    plan = _visible_plan(user, pk)
    if not can_save_plans(user):
        raise PermissionDenied
    return plan


@login_required
def plan_detail(request, pk: int):
    plan = _visible_plan(request.user, pk)
    return _detail(request, plan, PlanGoalsForm(by=request.user))


@login_required
def plan_export(request, pk: int):
    """A saved plan as CSV, its figures as they stood the day it was saved."""
    plan = _visible_plan(request.user, pk)
    return plan_csv_response(preview_from_json(plan.result), filename=f"plan-{plan.pk}.csv")


@login_required
@require_POST
def plan_goals(request, pk: int):
    user = request.user
    plan = _plan_to_act_on(user, pk)
    form = PlanGoalsForm(request.POST, by=user)
    if not form.is_valid():
        return _detail(request, plan, form, status=422)
    try:
        parent = plan_create_goals(plan=plan, owners=form.cleaned_data, by=user)
    except PlanGoalsError as error:
        return _detail(request, plan, form, errors=error.messages, status=422)
    messages.success(request, f"Four goals made from “{plan.name}”; progress is measured.")
    return redirect("goals:goal_detail", pk=parent.pk)


@login_required
@require_POST
def plan_budgets(request, pk: int):
    """Set the playbooks' budgets the plan proposes (directors and admins, as for its goals)."""
    user = request.user
    plan = _plan_to_act_on(user, pk)
    try:
        changed = plan_set_budgets(plan=plan, by=user)
    except ValidationError as error:
        form = PlanGoalsForm(by=user)
        return _detail(request, plan, form, status=422, budget_errors=error.messages)
    if changed:
        names = ", ".join(pb.name for pb in changed)
        messages.success(request, f"Budgets set from “{plan.name}” for {names}.")
    else:
        messages.info(request, "The playbooks' budgets already match the plan: nothing changed.")
    return redirect("plans:plan_detail", pk=plan.pk)
