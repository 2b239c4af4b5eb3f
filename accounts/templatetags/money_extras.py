"""Amounts kept in another currency, shown as the file gave them beside the reporting figure."""

from django import template
from django.conf import settings

from abm.templatetags.abm_extras import money
from accounts.money import format_amount, format_compact

register = template.Library()


@register.simple_tag
def money_original(amount, original, currency) -> str:
    """'SEK 310,000,000 (≈ $29.4M)' for an amount imported in another currency, else '$310,000'."""
    if amount is None:
        return money(amount)
    if original is None or not currency or currency == settings.ABM_REPORTING_CURRENCY:
        return money(amount)
    converted = format_compact(amount, settings.ABM_REPORTING_CURRENCY)
    return f"{format_amount(original, currency)} (≈ {converted})"
