"""Display helpers for playbook pages: channel colours, merge fields, goal values."""

import re

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from abm.lib import colours
from abm.lib.colours import CHANNEL_COLOURS
from abm.templatetags.abm_extras import money, percent
from metrics.models import MONEY_METRICS, RATE_METRICS

register = template.Library()

_MERGE_FIELD = re.compile(r"{{\s*([A-Za-z_][\w.]*)\s*}}")
FALLBACK_COLOUR = colours.GRAY_500


@register.filter
def channel_colour(channel: str) -> str:
    """The channel's colour in every chart, for a legend dot beside its name."""
    return CHANNEL_COLOURS.get(channel, FALLBACK_COLOUR)


@register.filter
def merge_tokens(text: str) -> str:
    """A template with its merge fields shown as tokens: "Hi {{ contact.first_name }}" -> Hi [contact.first_name]."""
    escaped = str(escape(text or ""))
    return mark_safe(  # noqa: S308 - the text was escaped above; only our own span is added
        _MERGE_FIELD.sub(r'<span class="merge-token">\1</span>', escaped)
    )


@register.filter
def goal_value(value, metric: str) -> str:
    """A goal's target or current value in the metric's unit."""
    if value is None:
        return "—"
    if metric in MONEY_METRICS:
        return money(value)
    if metric in RATE_METRICS:
        return percent(value)
    return f"{float(value):,.0f}"


@register.simple_tag
def goal_progress(goal) -> int | None:
    """How far the current value is towards the target, 0-100 (None when not computed)."""
    if goal.current_value is None or not goal.target:
        return None
    return round(max(0.0, min(100.0, float(goal.current_value) / float(goal.target) * 100)))


@register.filter
def overdue_label(due_at) -> str:
    """How late a task is in calendar days: "1 day late", "12 days late"."""
    days = max((timezone.localdate() - timezone.localdate(due_at)).days, 1)
    return f"{days} day{'s' if days != 1 else ''} late"
