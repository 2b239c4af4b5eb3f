"""The SMART check of a goal (DOMAIN.md "Goals (SMART)"): pure, shared by the form and the
live check beside it.

Errors stop a goal from being saved: Specific, Measurable, Timely (start before end, end after
today), and Attainable when the target is no improvement on the baseline. Attainable also warns,
with the numbers, when the target needs more than ``pace_limit`` times the baseline's pace or more
than the best equal period on record (a stretch can be deliberate, so it is not an error; the
form shows it beside the target). Relevant only warns: a company-wide goal can be deliberate.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import asdict, dataclass

from goals.choices import RATE_METRICS, GoalMetric
from goals.progress import CUMULATIVE_METRICS, format_value, previous_period
from goals.record import Record

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
# Every catalogue metric is better higher (more pipeline, a higher win rate, more meetings), so
# a target at or below the baseline is no improvement. A metric that should fall would go here
# with the comparison reversed; the catalogue has none.
RISING_METRICS = frozenset(GoalMetric.values)
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
    field: str | None = None  # the form field the reason is shown beside
    strong: bool = False  # a warning to read before saving (a target beyond the record)

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
    today: dt.date | None,
    record: Record | None = None,
) -> list[Check]:
    """One check per SMART rule, in order. ``target`` and ``baseline`` are in stored units (a
    rate as a fraction); ``playbook`` and ``scope_owner`` are display names or None.

    ``today`` None skips "the end is in the future" (a stored goal whose dates were checked when
    they were set); ``record`` None skips the best-period comparison (not measured)."""
    label = dict(RULES)
    known = metric in GoalMetric.values
    return [
        _specific(label["specific"], metric, known, has_owner, tiers, playbook, scope_owner),
        _measurable(label["measurable"], name, metric, known, target),
        _attainable(
            label["attainable"], metric, known, target, baseline, record, start, end, pace_limit
        ),
        _relevant(label["relevant"], tiers, playbook),
        _timely(label["timely"], start, end, today),
    ]


def period_label(start: dt.date, end: dt.date) -> str:
    """ "Q3 2026", "March 2026", "2026", else the dates."""
    last_day = calendar.monthrange(end.year, end.month)[1]
    if start.day == 1 and end.day == last_day and start.year == end.year:
        months = end.month - start.month + 1
        if months == 12:
            return str(start.year)
        if months == 3 and start.month % 3 == 1:
            return f"Q{start.month // 3 + 1} {start.year}"
        if months == 1:
            return f"{start:%B %Y}"
    if start.year == end.year:
        return f"{start:%b %-d} – {end:%b %-d, %Y}"
    return f"{start:%b %-d, %Y} – {end:%b %-d, %Y}"


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


def _attainable(label, metric, known, target, baseline, record, start, end, pace_limit) -> Check:
    if not known or target is None or target <= 0 or not _dates_ok(start, end):
        return Check("attainable", label, PENDING, "Needs a metric, a target and dates.")
    period = period_label(*previous_period(start, end))
    shown = format_value(target, metric)
    if baseline is not None and metric in RISING_METRICS and target <= baseline:
        return Check(
            "attainable",
            label,
            ERROR,
            f"A target of {shown} is no improvement on the baseline, "
            f"{format_value(baseline, metric)} in {period}: "
            f"{GoalMetric(metric).label.lower()} should rise. Set a target above the baseline.",
            "target",
        )
    stretch, said = [], ""
    if baseline:
        pace = _pace(metric, target, baseline, start, end)
        said = f"{pace:,.1f}x the baseline pace ({format_value(baseline, metric)} in {period})"
        if pace > pace_limit:
            stretch.append(f"needs {said}, more than the {pace_limit:g}x that is attainable")
    if record is not None and record.best is not None and target > record.best:
        times = f"{target / record.best:,.1f}x" if record.best > 0 else "more than"
        of = f"the best of {record.periods}" if record.periods > 1 else "the only one"
        stretch.append(
            f"is {times} the best equal period on record "
            f"({format_value(record.best, metric)} in "
            f"{period_label(record.best_start, record.best_end)}, {of} the data cover)"
        )
    if stretch:
        return Check(
            "attainable",
            label,
            WARNING,
            f"The target, {shown}, " + " and ".join(stretch) + ". Check it before you save: "
            "lower it, lengthen the period or widen the scope.",
            "target",
            strong=True,
        )
    if not baseline:
        return Check(
            "attainable",
            label,
            WARNING,
            f"Nothing to compare with: the baseline ({period}) is "
            f"{format_value(baseline, metric)}, so the target's pace cannot be checked."
            if baseline is not None
            else f"Nothing to compare with: {period} has no "
            f"{GoalMetric(metric).label.lower()} to measure, so the target's pace cannot be "
            "checked.",
            "target",
        )
    within = ""
    if record is not None and record.best is not None:
        within = f", within the best equal period on record ({format_value(record.best, metric)})"
    return Check("attainable", label, OK, f"The target needs {said}{within}.")


def _pace(metric, target, baseline, start, end) -> float:
    if metric not in CUMULATIVE_METRICS:
        return target / baseline
    # Per day, as the previous period can be a day or two shorter (Q1 against Q2).
    prev_start, prev_end = previous_period(start, end)
    days = (end - start).days + 1
    previous_days = (prev_end - prev_start).days + 1
    return (target / days) / (baseline / previous_days)


def _relevant(label, tiers, playbook) -> Check:
    if not (tiers or playbook):
        return Check(
            "relevant",
            label,
            WARNING,
            "Tie it to a playbook or to tiers, so it is clear which work moves it.",
            "scope_tiers",
        )
    return Check("relevant", label, OK, "Tied to " + describe_scope(tiers, playbook, None) + ".")


def _dates_ok(start, end) -> bool:
    return start is not None and end is not None and start < end


def _timely(label, start, end, today) -> Check:
    if start is None or end is None:
        return Check("timely", label, ERROR, "Set a start and an end date.", "end_date")
    if start >= end:
        return Check(
            "timely", label, ERROR, "The end date must be after the start date.", "end_date"
        )
    if today is not None and end <= today:
        return Check(
            "timely",
            label,
            ERROR,
            f"The period ended on {end:%b %-d, %Y}: a goal for a past period is a report, not a "
            "goal. Choose an end date after today.",
            "end_date",
        )
    days = (end - start).days + 1
    return Check("timely", label, OK, f"{start:%b %-d, %Y} – {end:%b %-d, %Y} ({days} days).")
