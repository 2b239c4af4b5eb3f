"""Number formats shared by every page and chart: money and percentages.

Plain functions, so pure modules (goal progress, dashboard figures) format as the templates do;
abm/templatetags/abm_extras.py registers them as template filters.
"""

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

EMPTY = "—"
# A real minus sign lines up with "+" in tables; a hyphen is narrower.
MINUS = "−"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _percent_text(number: Decimal) -> str:
    return f"{(number * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,}%"


def money(value) -> str:
    """1234567.5 -> "$1,234,568"; whole dollars, half rounds up; None -> "—"."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    whole = number.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    if whole == 0:
        return "$0"
    sign = MINUS if whole < 0 else ""
    return f"{sign}${abs(whole):,}"


def money_cents(value) -> str:
    """1234.5 -> "$1,234.50": a single cost, where whole dollars would hide small ones."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    cents = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = MINUS if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def money_short(value) -> str:
    """Money for a tile: 1234567 -> "$1.23M", 5270000000 -> "$5.27B", 48500 -> "$48.5K"."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    sign = MINUS if number < 0 else ""
    number = abs(number)
    for size, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if number >= size:
            scaled = (number / size).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            text = f"{scaled:.3g}" if scaled < 100 else f"{scaled:.0f}"
            return f"{sign}${text}{suffix}"
    return sign + money(number)


def percent(value) -> str:
    """A fraction as a percentage with one decimal: 0.1234 -> "12.3%"; None -> "—"."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    text = _percent_text(abs(number))
    if number < 0 and text != "0.0%":
        return MINUS + text
    return text


def signed_percent(value) -> str:
    """A change as a signed percentage: 0.123 -> "+12.3%", -0.04 -> "−4.0%", 0 -> "0.0%"."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    text = _percent_text(abs(number))
    if text == "0.0%":
        return text
    return ("+" if number > 0 else MINUS) + text
