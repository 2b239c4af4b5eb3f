"""Email a goal's owner when it turns at_risk or off_track: once per change, not every recompute."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.urls import reverse

from goals.models import Goal
from goals.progress import RISK_STATUSES, format_value
from goals.visibility import goal_figures_visible

log = logging.getLogger(__name__)


def notify_goal_owners() -> int:
    """Send one email per goal whose status is at_risk or off_track and differs from the status
    its owner was last told about. Returns the number of emails sent.

    Each goal is claimed with a conditional UPDATE before sending, so two recomputes finishing
    together (or a re-delivered task) email once: the second finds nothing left to claim.
    """
    pending = (
        Goal.objects.filter(status__in=RISK_STATUSES)
        .exclude(notified_status=F("status"))
        .select_related("owner")
    )
    sent = 0
    for goal in pending:
        claimed = Goal.objects.filter(
            pk=goal.pk, status=goal.status, notified_status=goal.notified_status
        ).update(notified_status=goal.status)
        if not claimed:
            continue  # another worker process got there first, or the status moved on
        if not goal_figures_visible(goal, goal.owner):
            # Its status is judged on accounts the owner may not see (a rep owning a tier goal):
            # the goal page shows its figures to marketers and directors, the email says nothing.
            log.info("goal %s turned %s; its owner may not see its figures", goal.pk, goal.status)
            continue
        if not goal.owner.email:
            log.warning("goal %s turned %s; its owner has no email address", goal.pk, goal.status)
            continue
        try:
            send_mail(
                subject=_subject(goal),
                message=_body(goal),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[goal.owner.email],
            )
        except Exception:
            # Release the claim so the next recompute tries again.
            Goal.objects.filter(pk=goal.pk, notified_status=goal.status).update(
                notified_status=goal.notified_status
            )
            log.exception("could not email the owner of goal %s", goal.pk)
            continue
        sent += 1
    return sent


def _subject(goal: Goal) -> str:
    return f"Goal {goal.get_status_display().lower()}: {goal.name}"


def _body(goal: Goal) -> str:
    name = goal.owner.get_full_name() or goal.owner.username
    return "\n".join(
        [
            f"Hello {name},",
            "",
            f"Your goal “{goal.name}” is now {goal.get_status_display().lower()}.",
            "",
            f"{goal.get_metric_display()}: {format_value(goal.current_value, goal.metric)} so far, "
            f"{format_value(goal.expected_value, goal.metric)} expected by now, "
            f"target {format_value(goal.target, goal.metric)} by {goal.end_date:%b %-d, %Y}.",
            "",
            f"See its progress: {reverse('goals:goal_detail', args=[goal.pk])}",
            "",
            "You get this email once each time the goal's status changes for the worse.",
        ]
    )
