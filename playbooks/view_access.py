"""What the playbook pages share: who may edit, finding a visible playbook, and its counts."""

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from abm.lib.permissions import user_role
from abm.models import Role
from playbooks.models import EnrolmentStatus, Playbook, Stage, Step
from playbooks.visibility import enrolments_visible_to, playbooks_visible_to

# Who changes playbooks and enrolments (DOMAIN.md): directors and reps only read them.
EDIT_ROLES = (Role.MARKETER, Role.ADMIN)


def can_edit(user) -> bool:
    return user_role(user) in EDIT_ROLES


def visible_playbook(user, pk: int) -> Playbook:
    """The playbook if the user may see it (a 404 otherwise); editors reach changes through
    role_required first."""
    return get_object_or_404(playbooks_visible_to(user).select_related("owner", "goal"), pk=pk)


def back_to(playbook: Playbook, name: str = "playbooks:detail"):
    return redirect(reverse(name, args=[playbook.pk]))


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def ordered_stages(playbook: Playbook) -> list[Stage]:
    return list(
        playbook.stages.order_by("order", "id").prefetch_related(
            Prefetch("steps", queryset=Step.objects.order_by("order", "id"))
        )
    )


def enrolment_counts(user, playbook: Playbook) -> dict:
    return (
        enrolments_visible_to(user)
        .filter(playbook=playbook)
        .aggregate(
            total=Count("pk"),
            **{status: Count("pk", filter=Q(status=status)) for status in EnrolmentStatus.values},
        )
    )
