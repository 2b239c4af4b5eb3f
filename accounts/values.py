"""Cell readers of CSV imports: each turns one cell's text into a typed value or a CellError.

Shared by the CSV import (ingestion/importing.py) and the activity API (ingestion/api_batches.py).
`name` is what the message calls the value: the file's own header, or the API field. Money has
its own module (accounts/money.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from accounts.models import Seniority

_MESSAGE_VALUE_CHARS = 60


class CellError(ValueError):
    """One cell cannot be read; the message names the field, the value and why."""


def shown(raw: str) -> str:
    if len(raw) > _MESSAGE_VALUE_CHARS:
        raw = raw[: _MESSAGE_VALUE_CHARS - 1] + "…"
    return f"'{raw}'"


def loose_key(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_DOMAIN_LABEL = re.compile(r"^[\w-]+$")


def normalise_domain(value: str) -> str:
    """'https://www.Acme.com/about' -> 'acme.com'; '' when nothing domain-like is left."""
    domain = _SCHEME.sub("", value.strip().lower())
    domain = re.split(r"[/?#\s]", domain, maxsplit=1)[0]
    domain = domain.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    return domain


# A label as parse_domain reads it, lowered: word characters and hyphens, not starting with one
# ("İ" is the one word character whose lower case is not one).
_LABEL = r"[^\W\u0130](?:[^\W\u0130]|-)*"
# Exactly the text parse_domain accepts (after the API's strip), for the API's schema: an optional
# scheme and user, the host (dots around it dropped, and a leading "www." that leaves two labels
# or more), then anything after a port, a path, a query or a space.
DOMAIN_PATTERN = (
    r"^\s*(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?![A-Za-z][A-Za-z0-9+.-]*://)"
    r"(?:[^/?#\s\x00]*@)?\.*"
    rf"(?![Ww]{{3}}\.{_LABEL}\.*(?:[:/?#\s]|$)){_LABEL}(?:\.{_LABEL})+\.*"
    r"(?::[^/?#\s@\x00]*)?(?:[/?#\s][^\x00]*)?$"
)


def parse_domain(raw: str, name: str) -> str:
    domain = normalise_domain(raw)
    labels = domain.split(".")
    if (
        len(labels) < 2
        or len(domain) > 253
        or not all(_DOMAIN_LABEL.match(label) and not label.startswith("-") for label in labels)
    ):
        raise CellError(f"{name} {shown(raw)} is not a domain")
    return domain


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_email(raw: str, name: str) -> str:
    email = raw.strip().removeprefix("mailto:").lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise CellError(f"{name} {shown(raw)} is not an email address")
    return email


def text_parser(max_length: int) -> Callable[[str, str], str]:
    def parse(raw: str, name: str) -> str:
        if len(raw) > max_length:
            raise CellError(f"{name} is longer than {max_length} characters")
        return raw

    return parse


_GROUPING = re.compile(r"[\s\u00a0\u202f']")
_DIGITS = re.compile(r"^[\d.,]+$")


def read_decimal(text: str, *, lone_dot_is_decimal: bool = False) -> Decimal | None:
    """'1,234.50', '1.234,50', '1 234', "1'234.5" as a Decimal; None when it is not a number.

    The last of '.' and ',' is the decimal mark when both appear. One mark alone followed by
    exactly three digits groups thousands ("1,234" and "1.234" are both 1234) unless
    `lone_dot_is_decimal` says a lone '.' is a decimal point (money with a suffix: "1.234m").
    """
    text = _GROUPING.sub("", text)
    if not text or not _DIGITS.match(text) or not any(ch.isdigit() for ch in text):
        return None
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        grouping = "," if decimal_mark == "." else "."
        if text.count(decimal_mark) > 1 or not _grouped(text.split(decimal_mark)[0], grouping):
            return None
        text = text.replace(grouping, "").replace(decimal_mark, ".")
    elif dots or commas:
        mark = "." if dots else ","
        whole, _, fraction = text.rpartition(mark)
        grouped = text.count(mark) > 1 or (
            len(fraction) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0")
        )
        if mark == "." and lone_dot_is_decimal and text.count(mark) == 1:
            grouped = False
        if text.count(mark) > 1 and not _grouped(text, mark):
            return None  # "1.2.3" groups nothing
        text = text.replace(mark, "") if grouped else text.replace(mark, ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _grouped(whole: str, mark: str) -> bool:
    """Thousands groups: 1 to 3 digits, then groups of exactly three ("1,234,567")."""
    first, *rest = whole.split(mark)
    return 1 <= len(first) <= 3 and all(len(group) == 3 for group in rest)


def split_sign(text: str) -> tuple[bool, str]:
    """(negative, the rest) for '-5', '(5)' (accounting notation) and '5'."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        return True, text[1:-1].strip()
    if text.startswith("-"):
        return True, text[1:].strip()
    return False, text


def _number(raw: str, name: str) -> Decimal:
    negative, text = split_sign(raw)
    value = read_decimal(text)
    if value is None:
        raise CellError(f"{name} {shown(raw)} is not a number")
    if negative and value:
        raise CellError(f"{name} {shown(raw)} must not be negative")
    return value


def whole_parser(maximum: int) -> Callable[[str, str], int]:
    def parse(raw: str, name: str) -> int:
        value = _number(raw, name)
        if value != value.to_integral_value():
            raise CellError(f"{name} {shown(raw)} must be a whole number")
        if value > maximum:
            raise CellError(f"{name} {shown(raw)} is too large")
        return int(value)

    return parse


_TIER_WORDS = {
    "1": 1,
    "2": 2,
    "3": 3,
    "i": 1,
    "ii": 2,
    "iii": 3,
    "strategic": 1,
    "11": 1,  # "1:1"
    "1few": 2,
    "1many": 3,
}
_TIER = re.compile(r"^(?:tier|t)?[\s_-]*(i{1,3}|[123])(?:\s*\(.*\))?$")
NO_TIER = {"none", "notier", "notarget", "nottargeted"}


def parse_tier(raw: str, name: str) -> int | None:
    text = raw.strip().lower()
    match = _TIER.match(text)
    if match:
        return _TIER_WORDS[match.group(1)]
    word = loose_key(text)
    if word in _TIER_WORDS:
        return _TIER_WORDS[word]
    if word in NO_TIER:
        return None  # explicitly not a target: clears the tier
    raise CellError(
        f"unknown {name} {shown(raw)} (expected 1, 2 or 3, 'Tier 1'..'Tier 3', 'T1'..'T3', "
        "or 'none' for not a target)"
    )


def choice_parser(choices, aliases: dict[str, str] | None = None) -> Callable[[str, str], str]:
    """Accept an enum's values and labels in any case or punctuation, plus known aliases."""
    table = {}
    for value, label in choices.choices:
        table[loose_key(value)] = value
        table[loose_key(label)] = value
    for alias, value in (aliases or {}).items():
        table[loose_key(alias)] = value
    expected = ", ".join(choices.values)

    def parse(raw: str, name: str) -> str:
        value = table.get(loose_key(raw))
        if value is None:
            raise CellError(f"unknown {name} {shown(raw)} (expected one of {expected})")
        return value

    return parse


STAGE_ALIASES = {
    # Salesforce default opportunity stages
    "Prospecting": "qualification",
    "Needs Analysis": "discovery",
    "Id. Decision Makers": "discovery",
    "Perception Analysis": "discovery",
    "Value Proposition": "proposal",
    "Proposal/Price Quote": "proposal",
    "Negotiation/Review": "negotiation",
    # HubSpot default deal stages (internal values)
    "qualifiedtobuy": "qualification",
    "appointmentscheduled": "discovery",
    "presentationscheduled": "proposal",
    "decisionmakerboughtin": "negotiation",
    "contractsent": "negotiation",
    # common words
    "qualify": "qualification",
    "qualified": "qualification",
    "prospect": "qualification",
    "demo": "discovery",
    "quote": "proposal",
    "won": "closed_won",
    "win": "closed_won",
    "lost": "closed_lost",
    "loss": "closed_lost",
}
SOURCE_ALIASES = {
    **dict.fromkeys(
        ["mkt", "web", "website", "inbound", "webinar", "event", "trade show", "seminar"],
        "marketing",
    ),
    **dict.fromkeys(["advertisement", "advertising", "content", "paid search"], "marketing"),
    **dict.fromkeys(["organic search", "social media", "email", "marketing sourced"], "marketing"),
    **dict.fromkeys(["outbound", "sdr", "bdr", "cold call", "sales sourced"], "sales"),
    **dict.fromkeys(["partner referral", "channel", "reseller", "referral partner"], "partner"),
    **dict.fromkeys(["referral", "employee referral", "customer referral"], "other"),
    "purchased list": "other",
}
CHANNEL_ALIASES = {
    "e-mail": "email",
    "email marketing": "email",
    "inmail": "linkedin",
    "social ads": "paid_social",
    "linkedin ads": "paid_social",
    "facebook ads": "paid_social",
    "social": "paid_social",
    "programmatic": "display",
    "display ads": "display",
    "banner": "display",
    "mail": "direct_mail",
    "postal": "direct_mail",
    "events": "event",
    "trade show": "event",
    "conference": "event",
    "field event": "event",
    "webinars": "webinar",
    "virtual event": "webinar",
    "call": "phone",
    "calls": "phone",
    "telephone": "phone",
    "sdr": "sdr_outreach",
    "bdr": "sdr_outreach",
    "outreach": "sdr_outreach",
    "content syndication": "content",
    "website": "content",
    "web": "content",
    "blog": "content",
    "web personalization": "web_personalisation",
    "personalisation": "web_personalisation",
    "personalization": "web_personalisation",
}
KIND_ALIASES = {
    "sent": "email_sent",
    "send": "email_sent",
    "open": "email_open",
    "opened": "email_open",
    "email opened": "email_open",
    "click": "email_click",
    "clicked": "email_click",
    "email clicked": "email_click",
    "reply": "email_reply",
    "replied": "email_reply",
    "email replied": "email_reply",
    "visit": "web_visit",
    "page view": "web_visit",
    "website visit": "web_visit",
    "download": "content_download",
    "asset download": "content_download",
    "form": "form_fill",
    "form submission": "form_fill",
    "form submitted": "form_fill",
    "impression": "ad_impression",
    "attended event": "event_attended",
    "attended webinar": "webinar_attended",
    "meeting held": "meeting",
    "dial": "call_attempt",
    "call": "call_connected",
    "connected call": "call_connected",
    "intent": "intent_signal",
    "mail sent": "direct_mail_sent",
}
DIRECTION_ALIASES = {
    "out": "outbound",
    "ours": "outbound",
    "touch": "outbound",
    "in": "inbound",
    "theirs": "inbound",
    "response": "inbound",
}
SENIORITY_ALIASES = {
    "c-suite": "c_level",
    "cxo": "c_level",
    "executive": "c_level",
    "vice president": "vp",
    "svp": "vp",
    "evp": "vp",
    "avp": "vp",
    "head": "director",
    "mgr": "manager",
    "individual contributor": "other",
    "staff": "other",
}
BUYING_ROLE_ALIASES = {
    "dm": "decision_maker",
    "economic buyer": "decision_maker",
    "end user": "user",
    "detractor": "blocker",
}
LEAD_STATUS_ALIASES = {
    "open": "new",
    "Open - Not Contacted": "new",
    "contacted": "working",
    "in progress": "working",
    "Working - Contacted": "working",
    "converted": "qualified",
    "sql": "qualified",
    "accepted": "qualified",
    "Closed - Converted": "qualified",
    "unqualified": "disqualified",
    "rejected": "disqualified",
    "junk": "disqualified",
    "Closed - Not Converted": "disqualified",
}

_TITLE_SENIORITY = (
    (re.compile(r"\b(vp|vice[\s-]*president|svp|evp|avp)\b"), Seniority.VP),
    (
        re.compile(r"\b(chief|ceo|cfo|cto|cmo|coo|cio|ciso|cro|cpo|president|founder)\b"),
        Seniority.C_LEVEL,
    ),
    (re.compile(r"\b(director|head)\b"), Seniority.DIRECTOR),
    (re.compile(r"\b(manager|mgr|lead)\b"), Seniority.MANAGER),
)


def seniority_from_title(title: str) -> str:
    """A best guess used only when a new contact comes without a seniority."""
    lowered = title.lower()
    for pattern, seniority in _TITLE_SENIORITY:
        if pattern.search(lowered):
            return seniority.value
    return Seniority.OTHER.value


# Dates ------------------------------------------------------------------------------------------

_TIME = r"(?:[\sT,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([ap]\.?m\.?)?)?$"
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME, re.IGNORECASE)
_YEAR_FIRST_DATE = re.compile(r"^(\d{4})([./-])(\d{1,2})\2(\d{1,2})" + _TIME, re.IGNORECASE)
_NAMED_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%d-%b-%Y")
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def date_order(values: Iterable[str]) -> str:
    """'dmy' when a column's slash or dash dates only make sense day first, else 'mdy' (US)."""
    day_first = month_first = False
    for value in values:
        match = _NUMERIC_DATE.match(value.strip())
        if match and match.group(2) != ".":
            first, second = int(match.group(1)), int(match.group(3))
            day_first |= first > 12 and second <= 12
            month_first |= second > 12 and first <= 12
    return "dmy" if day_first and not month_first else "mdy"


def _parse_moment(raw: str, order: str) -> dt.datetime | None:
    """A naive or aware datetime from the usual formats, None when it is none of them."""
    text = raw.strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        moment = None
    if moment is not None:
        return moment
    match = _NUMERIC_DATE.match(text)
    year_first = None if match else _YEAR_FIRST_DATE.match(text)
    if match or year_first:
        if year_first:
            match = year_first
            year, month, day = (int(match.group(n)) for n in (1, 3, 4))
        else:
            first, mark, second, short_year = match.group(1, 2, 3, 4)
            if mark == "." or order == "dmy":
                day, month = int(first), int(second)
            else:
                month, day = int(first), int(second)
            year = int(short_year)
            if len(short_year) == 2:
                year += 2000 if year < 70 else 1900
        hour, minute, second_ = (int(match.group(n) or 0) for n in (5, 6, 7))
        meridiem = (match.group(8) or "").replace(".", "").lower()
        if meridiem:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if meridiem == "pm" else 0)
        try:
            return dt.datetime(year, month, day, hour, minute, second_)  # noqa: DTZ001
        except ValueError:
            return None
    for pattern in _NAMED_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern)  # noqa: DTZ007
        except ValueError:
            continue
    return None


def _not_a_date(raw: str, name: str, order: str) -> CellError:
    match = _NUMERIC_DATE.match(raw.strip())
    hint = ""
    if match and match.group(2) != ".":
        hint = " (this column reads " + ("day/month/year)" if order == "dmy" else "month/day/year)")
    return CellError(f"{name} {shown(raw)} is not a date{hint}")


def datetime_parser(order: str, tz: dt.tzinfo) -> Callable[[str, str], dt.datetime]:
    def parse(raw: str, name: str) -> dt.datetime:
        moment = _parse_moment(raw, order)
        if moment is None:
            raise _not_a_date(raw, name, order)
        if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
            raise CellError(f"{name} {shown(raw)} is out of range ({_MIN_YEAR}-{_MAX_YEAR})")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return moment

    return parse


def date_parser(order: str) -> Callable[[str, str], dt.date]:
    def parse(raw: str, name: str) -> dt.date:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            moment = _parse_moment(raw, order)
            if moment is None:
                raise _not_a_date(raw, name, order) from None
            day = moment.date()
        if not _MIN_YEAR <= day.year <= _MAX_YEAR:
            raise CellError(f"{name} {shown(raw)} is out of range ({_MIN_YEAR}-{_MAX_YEAR})")
        return day

    return parse
