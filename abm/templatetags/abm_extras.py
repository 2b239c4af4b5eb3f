"""Number formats shared by every page: money, percentages, and the demo-login hint switch."""

from django import template
from django.conf import settings

from abm.lib.formats import EMPTY, money, money_cents, money_short, percent, signed_percent

register = template.Library()

__all__ = ["EMPTY", "money", "money_cents", "money_short", "percent", "signed_percent"]

for _format in (money, money_cents, money_short, percent, signed_percent):
    register.filter(_format.__name__, _format)


@register.simple_tag
def demo_logins_visible() -> bool:
    """The login page lists the seeded demo users only on a development server."""
    return bool(settings.DEBUG)
