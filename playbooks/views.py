"""Playbook pages: the list, new playbook and cadence. The builder lives in
playbooks/builder_views.py, the enrolments page in playbooks/enrolment_views.py, "My tasks" in
playbooks/task_views.py.

Thin views: each finds its rows through the scoping functions in playbooks/visibility.py, calls one
service, and answers an htmx request with a partial or a plain request with a redirect, so every
form also works without JavaScript.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import render

from abm.lib.channels import Channel
from abm.lib.colours import CHANNEL_COLOURS
from abm.lib.permissions import role_required
from playbooks import building
from playbooks.cadence import cadence_figure, stage_spans
from playbooks.forms import PlaybookCreateForm
from playbooks.models import EnrolmentStatus, OwnerRole, Stage
from playbooks.view_access import (
    EDIT_ROLES,
    back_to,
    can_edit,
    enrolment_counts,
    ordered_stages,
    visible_playbook,
)
from playbooks.visibility import enrolments_visible_to, playbooks_visible_to

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
