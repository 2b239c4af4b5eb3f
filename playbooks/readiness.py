"""What the builder's readiness box says: steps that are not finished and stages nobody will enter.

Steps without a subject or with a template error stop a playbook from being activated (they would
become untitled or broken tasks). Message steps without a body and stages no enrolled account will
enter do not (a rep may write the message; accounts enrolled later may enter), but the box then
names them instead of saying "Ready", since their tasks would be empty or go to nobody.
"""

from django.db.models import Count

from abm.lib.channels import Channel
from accounts.models import JourneyStage
from playbooks.models import Enrolment, EnrolmentStatus, Playbook, Stage
from playbooks.templating import template_errors

# Channels whose task is a message someone sends: it needs the text, not only a title.
MESSAGE_CHANNELS = frozenset(
    {Channel.EMAIL, Channel.LINKEDIN, Channel.DIRECT_MAIL, Channel.SDR_OUTREACH}
)
JOURNEY_RANK = {stage: i for i, stage in enumerate(JourneyStage.values)}


def _step_label(stage: Stage, number: int, step) -> str:
    return f"{stage.name}, step {number} ({step.get_channel_display()}, day {step.day_offset})"


def step_gaps(*, channel: str, subject: str, body: str) -> dict[str, str]:
    """What a step still lacks, per field: a subject (its task's title) and, for a message, a
    body. The step form refuses these; readiness lists steps saved before that rule."""
    gaps = {}
    if not (subject or "").strip():
        gaps["subject"] = "no subject: it is the title of every task the step creates"
    if channel in MESSAGE_CHANNELS and not (body or "").strip():
        label = Channel(channel).label
        gaps["body"] = (
            f"no body: a{'n' if label[0] in 'AEIOU' else ''} {label} step needs the message to send"
        )
    return gaps


def incomplete_steps(stages: list[Stage]) -> list[str]:
    """Steps that would create untitled or broken tasks: no subject, or a template error.
    These stop activation."""
    problems = []
    for stage, number, step in _numbered_steps(stages):
        label = _step_label(stage, number, step)
        if gap := step_gaps(channel=step.channel, subject=step.subject, body="-").get("subject"):
            problems.append(f"{label}: {gap}.")
        for field in ("subject", "body"):
            for error in template_errors(getattr(step, field)):
                problems.append(f"{label} {field}: {error}")
    return problems


def messages_missing(stages: list[Stage]) -> list[str]:
    """Message steps without a body: listed (the box does not say "Ready") but not blocking,
    since a rep can still write the message when the task comes (steps saved via the API)."""
    return [
        f"{_step_label(stage, number, step)}: {gap}."
        for stage, number, step in _numbered_steps(stages)
        if (gap := step_gaps(channel=step.channel, subject="-", body=step.body).get("body"))
    ]


def _numbered_steps(stages: list[Stage]):
    for stage in stages:
        for number, step in enumerate(stage.steps.all(), start=1):
            yield stage, number, step


def entry_index(stages: list[Stage], journey_stage: str) -> int:
    """The stage an account at `journey_stage` is in: the first whose exit it has not reached.

    So an account enters a stage only once it reached every earlier stage's exit. Returns
    len(stages) when it is past them all (the playbook is complete for it).
    """
    rank = JOURNEY_RANK.get(journey_stage, -1)
    for index, stage in enumerate(stages):
        if not stage.exit_stage or JOURNEY_RANK[stage.exit_stage] > rank:
            return index
    return len(stages)


def _unreachable_by_rule(stages: list[Stage]) -> dict[int, str]:
    why, highest_exit, stuck_at = {}, -1, None
    for index, stage in enumerate(stages):
        if stuck_at is not None:
            why[index] = f"“{stuck_at}” has no exit rule, so no account ever leaves it"
        elif stage.exit_stage and JOURNEY_RANK[stage.exit_stage] <= highest_exit:
            why[index] = (
                f"its exit ({stage.get_exit_stage_display()}) is reached before an account can "
                "leave the stages above it"
            )
        if stage.exit_stage:
            highest_exit = max(highest_exit, JOURNEY_RANK[stage.exit_stage])
        elif stuck_at is None:
            stuck_at = stage.name
    return why


def unentered_stages(playbook: Playbook, stages: list[Stage]) -> list[str]:
    """Stages with steps that no account enrolled now will enter, and why."""
    by_rule = _unreachable_by_rule(stages)
    position = {stage.pk: index for index, stage in enumerate(stages)}
    groups = (
        Enrolment.objects.filter(
            playbook=playbook, status__in=(EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED)
        )
        .order_by()
        .values_list("status", "current_stage")
        .annotate(n=Count("pk"))
    )
    # The earliest stage an enrolled account is in (completed = past the last): the stages from
    # there on are still ahead of someone.
    earliest = min(
        (
            len(stages) if status == EnrolmentStatus.COMPLETED else position.get(pk, len(stages))
            for status, pk, _ in groups
        ),
        default=None,
    )
    warnings = []
    for index, stage in enumerate(stages):
        if not stage.steps.all():
            continue
        steps = len(stage.steps.all())
        what = f"“{stage.name}” ({steps} step{'s' if steps != 1 else ''})"
        if index in by_rule:
            warnings.append(f"No account can enter {what}: {by_rule[index]}.")
        elif earliest is not None and earliest > index:
            warnings.append(
                f"No enrolled account will enter {what}: every one is already past it, so its "
                "steps create no task."
            )
    return warnings
