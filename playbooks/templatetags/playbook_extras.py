"""Display helpers for playbook pages: channel colours, merge fields, goal values."""

import re

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from abm.lib import colours
from abm.lib.colours import CHANNEL_COLOURS

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
def overdue_label(due_at) -> str:
    """How late a task is in calendar days: "1 day late", "12 days late"."""
    days = max((timezone.localdate() - timezone.localdate(due_at)).days, 1)
    return f"{days} day{'s' if days != 1 else ''} late"
