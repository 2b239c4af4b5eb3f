"""Shared by every page: money and percentage formats, the demo-login hint switch, job errors."""

from django import template
from django.conf import settings

from abm.job_reading import error_for
from abm.lib.formats import EMPTY, money, money_cents, money_short, percent, signed_percent

register = template.Library()

__all__ = ["EMPTY", "money", "money_cents", "money_short", "percent", "signed_percent"]

for _format in (money, money_cents, money_short, percent, signed_percent):
    register.filter(_format.__name__, _format)


@register.simple_tag
def demo_logins_visible() -> bool:
    """The login page lists the seeded demo users only on a development server."""
    return bool(settings.DEBUG)


@register.filter
def run_error(run, user) -> str:
    """A failed job's error as ``user`` may read it (abm/job_reading.py)."""
    return error_for(run, user)
