"""Money in imports (DOMAIN.md "Money in imports"): amounts in any currency, with a suffix, converted
into the reporting currency at the rate of their date.

`parse_money` reads a cell ("EUR 1.2m", "£75.2m", "$310k", "310 000 000 SEK") into `Money`; it
is pure and knows no rates, so a code it has never heard of ("XYZ") reads fine here and is refused
by `Rates.convert`, which the import's writers call with the rates loaded once per import
(`rates_load`). Rates are quoted in USD per unit (as most feeds publish them), so the reporting
currency (settings.ABM_REPORTING_CURRENCY) can be any currency the table holds.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from accounts.models import ExchangeRate
from accounts.values import CellError, read_decimal, shown, split_sign

CENTS = Decimal("0.01")
USD = "USD"

# A bare "$" is the US dollar; other dollars need their prefix (C$, A$...) or code.
SYMBOLS = {
    "US$": "USD",
    "$": "USD",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₪": "ILS",
}
# Symbols shared by several currencies: the row must say which.
AMBIGUOUS = {"kr": "SEK, NOK, DKK or ISK"}
MULTIPLIERS = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mm": 10**6,
    "mn": 10**6,
    "mln": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "bln": 10**9,
    "billion": 10**9,
}

_SYMBOL = "|".join(re.escape(symbol) for symbol in sorted(SYMBOLS, key=len, reverse=True))
_AMBIGUOUS = r"kr\.?"
_PREFIX = re.compile(
    rf"^(?:(?P<symbol>{_SYMBOL})|(?P<ambiguous>{_AMBIGUOUS})(?![a-z])"
    r"|(?P<code>[A-Za-z]{3})(?![A-Za-z]))\s*",
    re.IGNORECASE,
)
_SUFFIX = re.compile(
    rf"\s*(?:(?P<symbol>{_SYMBOL})|(?<![A-Za-z])(?P<ambiguous>{_AMBIGUOUS})"
    r"|(?<![A-Za-z])(?P<code>[A-Za-z]{3}))$",
    re.IGNORECASE,
)
_MULTIPLIER = re.compile(
    r"(?<=[\d\s.,])\s*(?P<word>" + "|".join(sorted(MULTIPLIERS, key=len, reverse=True)) + r")$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str = ""  # ISO 4217 code, written or implied by a symbol; "" when the cell had none
    raw: str = field(default="", compare=False)


class ConversionError(ValueError):
    """The amount's currency has no rate for its date; the message says which and why."""


def _currency(match: re.Match | None, raw: str, name: str) -> str:
    if match is None:
        return ""
    if match.group("ambiguous"):
        raise CellError(
            f"{name} {shown(raw)}: 'kr' could be {AMBIGUOUS['kr']}; write the currency code"
        )
    symbol = match.group("symbol")
    if symbol:
        return SYMBOLS[symbol.upper()]
    return match.group("code").upper()


def parse_money(raw: str, name: str, *, max_whole_digits: int = 16) -> Money:
    """An amount >= 0 with its currency ("" when the cell names none), rounded to cents."""
    negative, text = split_sign(raw)
    prefix = _PREFIX.match(text)
    if prefix and prefix.group("code") and prefix.group("code").lower() in MULTIPLIERS:
        prefix = None  # "mln 5" is not a currency
    before = _currency(prefix, raw, name)
    if prefix:
        text = text[prefix.end() :]
    inner_negative, text = split_sign(text)  # "$-5", "SEK (5)"
    suffix = _SUFFIX.search(text)
    if suffix and suffix.group("code") and suffix.group("code").lower() in MULTIPLIERS:
        suffix = None  # "1.5 mln"
    after = _currency(suffix, raw, name)
    if suffix:
        text = text[: suffix.start()]
    if before and after and before != after:
        raise CellError(f"{name} {shown(raw)} names two currencies ({before} and {after})")
    factor = 1
    multiplier = _MULTIPLIER.search(text)
    if multiplier:
        factor = MULTIPLIERS[multiplier.group("word").lower()]
        text = text[: multiplier.start()]
    # "1.234m" is 1.234 million: with a suffix a lone '.' is the decimal point.
    value = read_decimal(text.strip(), lone_dot_is_decimal=factor > 1)
    if value is None:
        raise CellError(f"{name} {shown(raw)} is not an amount")
    if (negative or inner_negative) and value:
        raise CellError(f"{name} {shown(raw)} must not be negative")
    amount = (value * factor).quantize(CENTS, ROUND_HALF_UP)
    if amount >= Decimal(10) ** max_whole_digits:
        raise CellError(f"{name} {shown(raw)} is too large")
    return Money(amount, before or after, raw.strip())


def money_parser(max_whole_digits: int) -> Callable[[str, str], Money]:
    def parse(raw: str, name: str) -> Money:
        return parse_money(raw, name, max_whole_digits=max_whole_digits)

    return parse


@dataclass(frozen=True)
class Rates:
    """The exchange-rate table in memory: currency -> (ascending dates, USD per unit)."""

    reporting: str
    quotes: dict[str, tuple[list[dt.date], list[Decimal]]]

    def known(self) -> list[str]:
        return sorted({USD, self.reporting, *self.quotes})

    def usd_per_unit(self, currency: str, day: dt.date) -> Decimal:
        """The latest rate on or before `day`."""
        if currency == USD:
            return Decimal(1)
        if currency not in self.quotes:
            raise ConversionError(
                f"unknown currency '{currency}' (rates are kept for {', '.join(self.known())}; "
                "an admin adds others under Exchange rates)"
            )
        dates, rates = self.quotes[currency]
        index = bisect_right(dates, day)
        if index == 0:
            raise ConversionError(
                f"no {currency} exchange rate on or before {day.isoformat()} "
                f"(the first is of {dates[0].isoformat()})"
            )
        return rates[index - 1]

    def convert(self, money: Money, day: dt.date) -> Decimal:
        """The amount in the reporting currency at the rate of `day`, rounded to cents."""
        currency = money.currency or self.reporting
        if currency == self.reporting:
            return money.amount
        rate = self.usd_per_unit(currency, day) / self.usd_per_unit(self.reporting, day)
        return (money.amount * rate).quantize(CENTS, ROUND_HALF_UP)

    def fields(self, money: Money, day: dt.date, *, name: str) -> dict[str, Decimal | str | None]:
        """`name`, `name_original` and `name_currency` for a model that keeps the original: the
        original and its code only for another currency than the reporting one."""
        foreign = money.currency not in ("", self.reporting)
        return {
            name: self.convert(money, day),
            f"{name}_original": money.amount if foreign else None,
            f"{name}_currency": money.currency if foreign else "",
        }


def reporting_currency() -> str:
    return settings.ABM_REPORTING_CURRENCY


def rates_load() -> Rates:
    """Every rate, once per import or batch (a few hundred rows at most)."""
    quotes: dict[str, tuple[list[dt.date], list[Decimal]]] = {}
    rows = ExchangeRate.objects.order_by("currency", "date").values_list(
        "currency", "date", "usd_per_unit"
    )
    for currency, day, rate in rows:
        dates, rates = quotes.setdefault(currency, ([], []))
        dates.append(day)
        rates.append(rate)
    return Rates(reporting_currency(), quotes)


_COMPACT = ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K"))
_PREFIXES = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def format_amount(amount: Decimal, currency: str) -> str:
    """An original amount as the file meant it: 'SEK 310,000,000', 'EUR 1,200,000.50'."""
    whole = amount == amount.to_integral_value()
    return f"{currency} {amount:,.0f}" if whole else f"{currency} {amount:,.2f}"


def format_compact(amount: Decimal, currency: str) -> str:
    """The converted amount, short: '$29.4M', 'EUR 1.2K'."""
    prefix = _PREFIXES.get(currency, f"{currency} ")
    for size, suffix in _COMPACT:
        if amount >= size:
            scaled = (amount / size).quantize(Decimal("0.1"), ROUND_HALF_UP)
            return f"{prefix}{scaled.normalize():f}{suffix}"
    return f"{prefix}{amount.quantize(Decimal(1), ROUND_HALF_UP):,}"
