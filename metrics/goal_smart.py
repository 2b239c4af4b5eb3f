"""The SMART check of a goal (DOMAIN.md "Goals (SMART)"): pure, shared by the form and the
live check beside it.

Errors stop a goal from being saved (Specific, Measurable, Timely); Attainable and Relevant only
warn, with the numbers, because a stretch target or a company-wide goal can be deliberate.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

from metrics.goal_progress import CUMULATIVE_METRICS, format_value, previous_period
from metrics.models import RATE_METRICS, GoalMetric

OK, WARNING, ERROR, PENDING = "ok", "warning", "error", "pending"
RULES = (
    ("specific", "Specific"),
    ("measurable", "Measurable"),
    ("attainable", "Attainable"),
    ("relevant", "Relevant"),
    ("timely", "Timely"),
)
TASK_EXPLANATION = (
    "A task is work you do (write three blog posts, launch a webinar); a goal is the result that "
    "work should bring, measured on an outcome such as pipeline created, MQA accounts or meetings "
    "held. Name the result and choose its metric; plan the tasks in a playbook."
)
# A name that starts with one of these and names no outcome describes work, not a result.
_TASK_VERBS = frozenset(
    "write publish send launch post host run produce design build organise organize make record "
    "ship draft finish complete deliver prepare redesign implement migrate set attend hire update "
    "create".split()
)
_OUTCOME_WORDS = re.compile(
    r"pipeline|revenue|opportunit|deal|mqa|account|win|meeting|follow|lead|booking|arr\b|"
    r"engag|conversion|\$|%",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Check:
    rule: str
    label: str
    level: str  # ok | warning | error | pending (not enough filled in yet)
    message: str
    field: str | None = None  # the form field an error belongs to

    def as_dict(self) -> dict:
        return asdict(self)


def is_task_like(name: str) -> bool:
    """ "Write three blog posts" is a task; "Create $2M pipeline" names an outcome and is not."""
    words = re.findall(r"[a-z]+", (name or "").lower())
    return bool(words) and words[0] in _TASK_VERBS and not _OUTCOME_WORDS.search(name)


def smart_check(
    *,
    name: str,
    metric: str | None,
    target: float | None,
    has_owner: bool,
    tiers: tuple[int, ...],
    playbook: str | None,
    scope_owner: str | None,
    start: dt.date | None,
    end: dt.date | None,
    baseline: float | None,
    pace_limit: float,
) -> list[Check]:
    """One check per SMART rule, in order. ``target`` and ``baseline`` are in stored units (a
    rate as a fraction); ``playbook`` and ``scope_owner`` are display names or None."""
    label = dict(RULES)
    known = metric in GoalMetric.values
    return [
        _specific(label["specific"], metric, known, has_owner, tiers, playbook, scope_owner),
        _measurable(label["measurable"], name, metric, known, target),
        _attainable(label["attainable"], metric, known, target, baseline, start, end, pace_limit),
        _relevant(label["relevant"], tiers, playbook),
        _timely(label["timely"], start, end),
    ]


def describe_scope(tiers, playbook: str | None, scope_owner: str | None) -> str:
    parts = []
    if tiers:
        parts.append("tier " + ", ".join(str(t) for t in sorted(tiers)) + " accounts")
    if playbook:
        parts.append(f"accounts enrolled in {playbook}")
    if scope_owner:
        parts.append(f"{scope_owner}'s accounts")
    return " · ".join(parts) or "all accounts"


def _specific(label, metric, known, has_owner, tiers, playbook, scope_owner) -> Check:
    if not known:
        return Check("specific", label, ERROR, "Say what will change: choose a metric.", "metric")
    if not (tiers or playbook or scope_owner):
        return Check(
            "specific",
            label,
            ERROR,
            "Say for which accounts: choose tiers, a playbook or a rep's accounts.",
            "scope_tiers",
        )
    if not has_owner:
        return Check("specific", label, ERROR, "Name the owner who is accountable for it.", "owner")
    scope = describe_scope(tiers, playbook, scope_owner)
    return Check("specific", label, OK, f"{GoalMetric(metric).label} for {scope}.")


def _measurable(label, name, metric, known, target) -> Check:
    if metric and not known:
        return Check(
            "measurable",
            label,
            ERROR,
            f"“{metric}” is not an outcome. {TASK_EXPLANATION}",
            "metric",
        )
    if is_task_like(name):
        return Check(
            "measurable",
            label,
            ERROR,
            f"“{name}” reads like a task, not a goal. {TASK_EXPLANATION}",
            "name",
        )
    if not known:
        return Check("measurable", label, PENDING, "Choose an outcome metric.", "metric")
    if target is None:
        return Check("measurable", label, ERROR, "Enter a numeric target.", "target")
    if target <= 0:
        return Check("measurable", label, ERROR, "The target must be above zero.", "target")
    if metric in RATE_METRICS and target > 1:
        return Check("measurable", label, ERROR, "A rate can be at most 100%.", "target")
    return Check(
        "measurable",
        label,
        OK,
        f"{GoalMetric(metric).label} reaching {format_value(target, metric)}.",
    )


def _attainable(label, metric, known, target, baseline, start, end, pace_limit) -> Check:
    if not known or target is None or target <= 0 or not _dates_ok(start, end):
        return Check("attainable", label, PENDING, "Needs a metric, a target and dates.")
    prev_start, prev_end = previous_period(start, end)
    period = f"{prev_start:%b %-d, %Y} – {prev_end:%b %-d, %Y}"
    if not baseline:
        return Check(
            "attainable",
            label,
            WARNING,
            f"Nothing to compare with: the baseline ({period}) is "
            f"{format_value(baseline, metric)}, so the target's pace cannot be checked.",
        )
    if metric in CUMULATIVE_METRICS:
        # Per day, as the previous period can be a day or two shorter (Q1 against Q2).
        days = (end - start).days + 1
        previous_days = (prev_end - prev_start).days + 1
        pace = (target / days) / (baseline / previous_days)
    else:
        pace = target / baseline
    said = f"{pace:.1f}x the baseline pace ({format_value(baseline, metric)} in {period})"
    if pace > pace_limit:
        return Check(
            "attainable",
            label,
            WARNING,
            f"The target needs {said}: more than {pace_limit:g}x is rarely attainable. "
            "Lower it, lengthen the period or widen the scope.",
        )
    return Check("attainable", label, OK, f"The target needs {said}.")


def _relevant(label, tiers, playbook) -> Check:
    if not (tiers or playbook):
        return Check(
            "relevant",
            label,
            WARNING,
            "Tie it to a playbook or to tiers, so it is clear which work moves it.",
        )
    return Check("relevant", label, OK, "Tied to " + describe_scope(tiers, playbook, None) + ".")


def _dates_ok(start, end) -> bool:
    return start is not None and end is not None and start < end


def _timely(label, start, end) -> Check:
    if start is None or end is None:
        return Check("timely", label, ERROR, "Set a start and an end date.", "end_date")
    if start >= end:
        return Check(
            "timely", label, ERROR, "The end date must be after the start date.", "end_date"
        )
    days = (end - start).days + 1
    return Check("timely", label, OK, f"{start:%b %-d, %Y} – {end:%b %-d, %Y} ({days} days).")
