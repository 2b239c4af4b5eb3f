"""CSV imports, the pure part: read a file, map its columns, turn cells into typed values.

No database here. `parse` gives typed rows (only the cells that had a value) and the rows
refused with their physical line number and a reason; accounts/import_upsert.py resolves owners,
accounts and contacts and writes. The rules are listed in the README under "Import rules".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from abm.lib.channels import ActivityKind, Channel, Direction
from accounts.models import (
    BuyingRole,
    ImportKind,
    LeadStatus,
    OpportunitySource,
    OpportunityStage,
    Seniority,
)

DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 64 * 1024
_MESSAGE_VALUE_CHARS = 60
_MEMORY = 10_000


class ImportRefused(Exception):
    """The file as a whole cannot be imported (too big, not a CSV, required columns missing)."""


class CellError(ValueError):
    """One cell cannot be read; the message names the field, the value and why."""


@dataclass(frozen=True)
class Record:
    line: int  # physical line where the record starts; the header is line 1
    cells: list[str]


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    cells: list[str]


@dataclass
class Row:
    line: int
    values: dict[str, Any]  # field -> typed value, only for cells that were not blank
    cells: list[str]


@dataclass
class Table:
    encoding: str
    delimiter: str
    headers: list[str]
    records: list[Record]
    unreadable: list[Reject] = field(default_factory=list)


@dataclass
class Parsed:
    table: Table
    mapping: dict[str, str]
    rows: list[Row]
    rejects: list[Reject]


@dataclass
class Preview:
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: dict[str, str]
    unmapped: list[str]
    missing: str  # what required columns are missing, "" when the mapping is complete
    rows: list[dict]  # {"line", "cells", "values", "errors"} for the first rows


# --- Reading ------------------------------------------------------------------------------------

_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or a zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)
_SAVE_AS_CSV = "save it as CSV (comma or semicolon separated) and upload that"


def check_size(size: int, *, limit: int) -> None:
    if size > limit:
        raise ImportRefused(
            f"The file is {_megabytes(size)}; imports are limited to {_megabytes(limit)}. "
            "Split it into smaller files."
        )
    if size == 0:
        raise ImportRefused("The file is empty.")


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252."""
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ImportRefused(f"This file is {what}, not a CSV: {_SAVE_AS_CSV}.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise ImportRefused("The file says it is UTF-16 but is not readable as such.") from None
    if b"\x00" in data[:_SNIFF_CHARS]:
        raise ImportRefused(f"This is a binary file, not a CSV: {_SAVE_AS_CSV}.")
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            # Excel on Windows saves "CSV" in the ANSI code page; five bytes are undefined there.
            encoding = "cp1252"
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                encoding = "latin-1"
    text = data.decode(encoding, errors="strict")
    head = text[:_SNIFF_CHARS]
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\r\n\f")
    if controls > len(head) / 100:
        raise ImportRefused(f"This is a binary file, not a CSV: {_SAVE_AS_CSV}.")
    if head.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        raise ImportRefused("This is a web page (HTML), not a CSV.")
    return text, encoding


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most columns, with rows agreeing."""
    sample = text[:_SNIFF_CHARS]
    if not sample.strip():
        raise ImportRefused("The file has no header line.")
    best, best_score = "", 0.0
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        lengths = []
        try:
            for row in reader:
                if row:
                    lengths.append(len(row))
                if len(lengths) >= 50:
                    break
        except csv.Error:
            pass
        if not lengths or lengths[0] < 2:
            continue
        body = lengths[1:-1] or lengths[1:]  # the last sampled row may be cut off
        agreeing = sum(1 for n in body if n == lengths[0]) / len(body) if body else 1.0
        score = lengths[0] * (0.5 + agreeing)
        if score > best_score:
            best, best_score = delimiter, score
    if not best:
        raise ImportRefused(
            "No comma, semicolon or tab separates the columns of the first line: "
            "this does not look like a CSV file."
        )
    return best


def read_table(data: bytes, *, limit: int | None = None) -> Table:
    """Decode, sniff and split into records, keeping each record's first physical line."""
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    stream = io.StringIO(text, newline="")
    # strict: a quote left open to the end of the file is an error, not one giant cell.
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    headers: list[str] | None = None
    records: list[Record] = []
    unreadable: list[Reject] = []
    previous_line = 0
    raw_lines: list[str] | None = None
    while headers is None or limit is None or len(records) < limit:
        start = previous_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise ImportRefused(
                    f"line {start}: a quoted value starts here and is never closed, so the rest "
                    "of the file cannot be read. Fix the quote and upload again."
                ) from None
            if raw_lines is None:
                raw_lines = io.StringIO(text, newline="").readlines()
            raw = "".join(raw_lines[start - 1 : reader.line_num]).rstrip("\r\n")
            previous_line = reader.line_num
            if headers is None:
                raise ImportRefused(f"line {start}: the header cannot be read ({exc}).") from None
            unreadable.append(Reject(start, f"cannot be read as CSV ({exc})", [raw]))
            continue
        previous_line = reader.line_num
        if not "".join(cells).strip():
            continue  # blank lines are not rows
        if headers is None:
            headers = _unique_headers(cells)
            continue
        records.append(Record(start, cells))
    if headers is None:
        raise ImportRefused("The file has no header line.")
    return Table(encoding, delimiter, headers, records, unreadable)


def _unique_headers(cells: list[str]) -> list[str]:
    headers, seen = [], {}
    for position, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff") or f"(column {position})"
        seen[name] = seen.get(name, 0) + 1
        headers.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return headers


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


# --- Values -------------------------------------------------------------------------------------


def _shown(raw: str) -> str:
    if len(raw) > _MESSAGE_VALUE_CHARS:
        raw = raw[: _MESSAGE_VALUE_CHARS - 1] + "…"
    return f"'{raw}'"


def _key(value: str) -> str:
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


def parse_domain(raw: str, name: str) -> str:
    domain = normalise_domain(raw)
    labels = domain.split(".")
    if (
        len(labels) < 2
        or len(domain) > 253
        or not all(_DOMAIN_LABEL.match(label) and not label.startswith("-") for label in labels)
    ):
        raise CellError(f"{name} {_shown(raw)} is not a domain")
    return domain


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_email(raw: str, name: str) -> str:
    email = raw.strip().removeprefix("mailto:").lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise CellError(f"{name} {_shown(raw)} is not an email address")
    return email


def text_parser(max_length: int) -> Callable[[str, str], str]:
    def parse(raw: str, name: str) -> str:
        if len(raw) > max_length:
            raise CellError(f"{name} is longer than {max_length} characters")
        return raw

    return parse


_CURRENCY_PREFIX = re.compile(r"^(?:[A-Z]{3}|US\$|[$€£¥₹])\s*")
_CURRENCY_SUFFIX = re.compile(r"\s*(?:[A-Z]{3}|[$€£¥₹])$")
_GROUPING = re.compile(r"[\s\u00a0\u202f']")
_DIGITS = re.compile(r"^[\d.,]+$")


def _number(raw: str, name: str, *, currency: bool) -> Decimal:
    """A decimal from '1,234.50', '1.234,50', '1 234', "1'234.5" and, for money, '$1,234.50'."""
    text = raw.strip()
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accounting notation
        negative, text = True, text[1:-1].strip()
    if text.startswith("-"):
        negative, text = True, text[1:].strip()
    if currency:
        text = _CURRENCY_SUFFIX.sub("", _CURRENCY_PREFIX.sub("", text))
        if text.startswith("-"):  # "$-5"
            negative, text = True, text[1:]
    text = _GROUPING.sub("", text)
    if not text or not _DIGITS.match(text) or not any(ch.isdigit() for ch in text):
        what = "an amount" if currency else "a number"
        raise CellError(f"{name} {_shown(raw)} is not {what}")
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        grouping = "," if decimal_mark == "." else "."
        if text.count(decimal_mark) > 1:
            raise CellError(
                f"{name} {_shown(raw)} is not {'an amount' if currency else 'a number'}"
            )
        text = text.replace(grouping, "").replace(decimal_mark, ".")
    elif dots or commas:
        mark = "." if dots else ","
        whole, _, fraction = text.rpartition(mark)
        # One mark followed by exactly three digits groups thousands ("1,234" and "1.234" are
        # both 1234); anything else is the decimal mark ("12,50", "1234.5").
        if text.count(mark) > 1 or (
            len(fraction) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0")
        ):
            text = text.replace(mark, "")
        else:
            text = text.replace(mark, ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(f"{name} {_shown(raw)} is not a number") from None
    if negative and value:
        raise CellError(f"{name} {_shown(raw)} must not be negative")
    return value


def money_parser(max_whole_digits: int) -> Callable[[str, str], Decimal]:
    limit = Decimal(10) ** max_whole_digits

    def parse(raw: str, name: str) -> Decimal:
        value = _number(raw, name, currency=True).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if value >= limit:
            raise CellError(f"{name} {_shown(raw)} is too large")
        return value

    return parse


def whole_parser(maximum: int) -> Callable[[str, str], int]:
    def parse(raw: str, name: str) -> int:
        value = _number(raw, name, currency=False)
        if value != value.to_integral_value():
            raise CellError(f"{name} {_shown(raw)} must be a whole number")
        if value > maximum:
            raise CellError(f"{name} {_shown(raw)} is too large")
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
    key = _key(text)
    if key in _TIER_WORDS:
        return _TIER_WORDS[key]
    if key in NO_TIER:
        return None  # explicitly not a target: clears the tier
    raise CellError(
        f"unknown {name} {_shown(raw)} (expected 1, 2 or 3, 'Tier 1'..'Tier 3', 'T1'..'T3', "
        "or 'none' for not a target)"
    )


def choice_parser(choices, aliases: dict[str, str] | None = None) -> Callable[[str, str], str]:
    """Accept an enum's values and labels in any case or punctuation, plus known aliases."""
    table = {}
    for value, label in choices.choices:
        table[_key(value)] = value
        table[_key(label)] = value
    for alias, value in (aliases or {}).items():
        table[_key(alias)] = value
    expected = ", ".join(choices.values)

    def parse(raw: str, name: str) -> str:
        value = table.get(_key(raw))
        if value is None:
            raise CellError(f"unknown {name} {_shown(raw)} (expected one of {expected})")
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
    return CellError(f"{name} {_shown(raw)} is not a date{hint}")


def datetime_parser(order: str, tz: dt.tzinfo) -> Callable[[str, str], dt.datetime]:
    def parse(raw: str, name: str) -> dt.datetime:
        moment = _parse_moment(raw, order)
        if moment is None:
            raise _not_a_date(raw, name, order)
        if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
            raise CellError(f"{name} {_shown(raw)} is out of range ({_MIN_YEAR}-{_MAX_YEAR})")
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
            raise CellError(f"{name} {_shown(raw)} is out of range ({_MIN_YEAR}-{_MAX_YEAR})")
        return day

    return parse


# --- Fields per kind ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """How one field reads a cell; `aliases` are the CRM headers recognised for it."""

    parse: Callable[[str, str], Any] | None
    aliases: tuple[str, ...] = ()
    date: str = ""  # "date" or "datetime": parser built per column (day/month order)


ACCOUNT_REFS = ("account_external_id", "account_domain", "account_name")
CONTACT_REFS = ("contact_external_id", "contact_email")

_ACCOUNT_REF_SPECS = {
    "account_external_id": Spec(
        text_parser(64),
        ("AccountId", "Account ID", "Associated Company ID", "Company ID", "Account Record ID"),
    ),
    "account_domain": Spec(
        parse_domain,
        ("Company Domain Name", "Account Domain", "Company Domain", "Domain", "Website"),
    ),
    "account_name": Spec(
        text_parser(200),
        ("Account Name", "Company Name", "Company", "Account", "Associated Company"),
    ),
}
_CONTACT_REF_SPECS = {
    "contact_external_id": Spec(text_parser(64), ("ContactId", "Contact ID", "Contact Record ID")),
    "contact_email": Spec(parse_email, ("Contact Email", "Email", "Email Address", "E-mail")),
}
_OWNER = Spec(
    text_parser(254),
    (
        "Owner",
        "OwnerId",
        "Owner ID",
        "Owner Email",
        "Owner Name",
        "Account Owner",
        "Company owner",
        "Contact owner",
        "Deal owner",
        "HubSpot Owner",
    ),
)

FIELDS: dict[str, dict[str, Spec]] = {
    ImportKind.ACCOUNTS: {
        "external_id": Spec(
            text_parser(64),
            ("Id", "Account ID", "Record ID", "Company ID", "CRM ID", "External ID"),
        ),
        "name": Spec(text_parser(200), ("Account Name", "Company name", "Name", "Company")),
        "domain": Spec(
            parse_domain, ("Website", "Company Domain Name", "Domain", "Web Site", "URL")
        ),
        "industry": Spec(text_parser(100), ("Industry", "Sector")),
        "employees": Spec(
            whole_parser(2_147_483_647),
            (
                "NumberOfEmployees",
                "Number of Employees",
                "Employees",
                "Employee Count",
                "Headcount",
            ),
        ),
        "annual_revenue": Spec(money_parser(14), ("AnnualRevenue", "Annual Revenue", "Revenue")),
        "country": Spec(
            text_parser(64), ("BillingCountry", "Country/Region", "Country", "ShippingCountry")
        ),
        "tier": Spec(parse_tier, ("Tier", "ABM Tier", "Account Tier", "Target Tier")),
        "owner": _OWNER,
    },
    ImportKind.CONTACTS: {
        "external_id": Spec(text_parser(64), ("Id", "Contact ID", "Record ID", "External ID")),
        "first_name": Spec(text_parser(100), ("First Name", "FirstName", "Given Name")),
        "last_name": Spec(text_parser(100), ("Last Name", "LastName", "Surname", "Family Name")),
        "email": Spec(parse_email, ("Email", "Email Address", "E-mail")),
        "title": Spec(text_parser(200), ("Title", "Job Title", "Position")),
        "seniority": Spec(choice_parser(Seniority, SENIORITY_ALIASES), ("Seniority", "Level")),
        "buying_role": Spec(
            choice_parser(BuyingRole, BUYING_ROLE_ALIASES),
            ("Buying Role", "Role", "Contact Role", "Persona"),
        ),
        **_ACCOUNT_REF_SPECS,
    },
    ImportKind.OPPORTUNITIES: {
        "external_id": Spec(
            text_parser(64), ("Id", "Opportunity ID", "OpportunityId", "Deal ID", "Record ID")
        ),
        "name": Spec(text_parser(200), ("Opportunity Name", "Deal Name", "Name")),
        "amount": Spec(money_parser(12), ("Amount", "Deal Amount", "Value")),
        "stage": Spec(
            choice_parser(OpportunityStage, STAGE_ALIASES),
            ("StageName", "Stage", "Deal Stage", "Stage Name"),
        ),
        "created_at": Spec(
            None, ("CreatedDate", "Created Date", "Create Date", "Created"), date="datetime"
        ),
        "close_date": Spec(None, ("CloseDate", "Close Date", "Expected Close Date"), date="date"),
        "closed_at": Spec(None, ("Closed At", "Actual Close Date", "Date Closed"), date="datetime"),
        "source": Spec(
            choice_parser(OpportunitySource, SOURCE_ALIASES),
            ("LeadSource", "Lead Source", "Source", "Opportunity Source", "Original Source"),
        ),
        **_ACCOUNT_REF_SPECS,
    },
    ImportKind.LEADS: {
        "external_id": Spec(text_parser(64), ("Id", "Lead ID", "LeadId", "Record ID")),
        "source_channel": Spec(
            choice_parser(Channel, CHANNEL_ALIASES),
            ("Source Channel", "Channel", "Lead Source Channel", "Lead Source"),
        ),
        "handed_off_at": Spec(
            None,
            ("Handed Off At", "Hand-off Date", "Handoff Date", "Handed Off", "MQL Date"),
            date="datetime",
        ),
        "first_follow_up_at": Spec(
            None,
            ("First Follow Up At", "First Follow-up", "First Follow Up", "First Activity Date"),
            date="datetime",
        ),
        "status": Spec(choice_parser(LeadStatus, LEAD_STATUS_ALIASES), ("Status", "Lead Status")),
        **_ACCOUNT_REF_SPECS,
        **_CONTACT_REF_SPECS,
    },
    ImportKind.ACTIVITIES: {
        "external_id": Spec(
            text_parser(100), ("Id", "Activity ID", "Event ID", "Record ID", "External ID")
        ),
        "channel": Spec(choice_parser(Channel, CHANNEL_ALIASES), ("Channel", "Medium")),
        "kind": Spec(
            choice_parser(ActivityKind, KIND_ALIASES),
            ("Kind", "Type", "Activity Type", "Event Type"),
        ),
        "direction": Spec(choice_parser(Direction, DIRECTION_ALIASES), ("Direction",)),
        "occurred_at": Spec(
            None,
            ("Occurred At", "Activity Date", "Event Date", "Timestamp", "Date", "Time"),
            date="datetime",
        ),
        "cost": Spec(money_parser(10), ("Cost", "Spend")),
        "duration_minutes": Spec(
            whole_parser(2_147_483_647), ("Duration Minutes", "Duration (minutes)", "Duration")
        ),
        "notes": Spec(text_parser(10_000), ("Notes", "Description", "Subject", "Comments")),
        **_ACCOUNT_REF_SPECS,
        **_CONTACT_REF_SPECS,
    },
}

# Each alternative lists groups; a group is satisfied by any one of its fields being mapped.
REQUIRED: dict[str, list[list[tuple[str, ...]]]] = {
    ImportKind.ACCOUNTS: [[("domain", "external_id")]],
    ImportKind.CONTACTS: [[("external_id",)], [("email",), ACCOUNT_REFS]],
    ImportKind.OPPORTUNITIES: [[("external_id",)]],
    ImportKind.LEADS: [[("external_id",)]],
    ImportKind.ACTIVITIES: [
        [("external_id",), ACCOUNT_REFS, ("channel",), ("kind",), ("occurred_at",)]
    ],
}


def check_kind(kind: str) -> str:
    if kind not in ImportKind.values:
        raise ImportRefused(f"Unknown import kind '{kind}' (expected one of {_or(ImportKind)}).")
    return kind


def _or(choices) -> str:
    return ", ".join(choices.values)


def suggest_mapping(kind: str, headers: Iterable[str]) -> dict[str, str]:
    """header -> field for every header recognised; each field taken by at most one header.

    Our own field names win, then each field's aliases in order, so 'Website' is the domain of
    an accounts file but 'Company Domain Name' finds the account of a contacts file.
    """
    specs = FIELDS[check_kind(kind)]
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(_key(header), header)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for rank in ("own", "alias"):
        for name, spec in specs.items():
            if name in taken:
                continue
            candidates = (name,) if rank == "own" else spec.aliases
            for candidate in candidates:
                header = by_key.get(_key(candidate))
                if header is not None and header not in mapping:
                    mapping[header] = name
                    taken.add(name)
                    break
    return {header: mapping[header] for header in by_key.values() if header in mapping}


def missing_columns(kind: str, mapping: dict[str, str]) -> str:
    """'' when the mapped fields let rows be matched, else what is missing, in words."""
    mapped = set(mapping.values())
    alternatives = REQUIRED[check_kind(kind)]
    for groups in alternatives:
        if all(mapped & set(group) for group in groups):
            return ""

    def words(groups: list[tuple[str, ...]]) -> str:
        items = [group[0] for group in groups if len(group) == 1] + [
            "one of " + " / ".join(group) for group in groups if len(group) > 1
        ]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    if len(alternatives) == 1:
        missing = [group for group in alternatives[0] if not mapped & set(group)]
        return words(missing)
    return ", or ".join(words(groups) for groups in alternatives)


def merge_mapping(suggested: dict[str, str], chosen: dict[str, str]) -> dict[str, str]:
    """The suggestion with the user's choices on top; a field the user gave a header leaves
    the header suggested for it, and '-' (or '') ignores a column."""
    taken = set(chosen.values())
    merged = {h: f for h, f in suggested.items() if h not in chosen and f not in taken}
    merged.update(chosen)
    return merged


def check_mapping(kind: str, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """The mapping, cleaned of ignored headers; ImportRefused when it cannot work."""
    specs = FIELDS[check_kind(kind)]
    clean: dict[str, str] = {}
    used: dict[str, str] = {}
    for header, name in mapping.items():
        if header not in headers:
            raise ImportRefused(f"The file has no column '{header}'.")
        if not name or name == "-":
            continue
        if name not in specs:
            raise ImportRefused(
                f"'{name}' is not a field of {kind} imports (fields: {', '.join(specs)})."
            )
        if name in used:
            raise ImportRefused(f"Columns '{used[name]}' and '{header}' both map to '{name}'.")
        used[name] = header
        clean[header] = name
    missing = missing_columns(kind, clean)
    if missing:
        raise ImportRefused(
            f"Missing required columns for importing {kind}: {missing}. "
            "Map a column to each or add them to the file."
        )
    return clean


# --- Cleaning -----------------------------------------------------------------------------------


def clean_rows(
    kind: str, table: Table, mapping: dict[str, str], *, tz: dt.tzinfo
) -> tuple[list[Row], list[Reject]]:
    """Typed rows for every record whose cells all read; a reject with every reason otherwise."""
    specs = FIELDS[check_kind(kind)]
    width = len(table.headers)
    columns = []
    for header, name in mapping.items():
        index = table.headers.index(header)
        spec = specs[name]
        parse = spec.parse
        if spec.date:
            order = date_order(r.cells[index] for r in table.records if index < len(r.cells))
            parse = datetime_parser(order, tz) if spec.date == "datetime" else date_parser(order)
        columns.append((index, name, _remembering(parse)))
    rows: list[Row] = []
    rejects: list[Reject] = list(table.unreadable)
    for record in table.records:
        cells = record.cells
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            rejects.append(
                Reject(
                    record.line,
                    f"has {len(cells)} values but the header has {width} columns "
                    "(an unquoted delimiter inside a value?)",
                    cells,
                )
            )
            continue
        values: dict[str, Any] = {}
        errors: list[str] = []
        for index, name, parse in columns:
            raw = cells[index].strip() if index < len(cells) else ""
            if not raw:
                continue
            try:
                values[name] = parse(raw, name)
            except CellError as exc:
                errors.append(str(exc))
        if errors:
            rejects.append(Reject(record.line, "; ".join(errors), cells))
        else:
            rows.append(Row(record.line, values, cells))
    rejects.sort(key=lambda reject: reject.line)
    return rows, rejects


@dataclass(frozen=True)
class _Refusal:
    message: str


def _remembering(parse: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """The parser with a memory of the values it read: a 100k-row file names a few hundred
    domains, channels and kinds over and over. The memory stops growing at _MEMORY values."""
    memory: dict[str, Any] = {}

    def remembered(raw: str, name: str) -> Any:
        try:
            found = memory[raw]
        except KeyError:
            try:
                found = parse(raw, name)
            except CellError as exc:
                found = _Refusal(str(exc))
            if len(memory) < _MEMORY:
                memory[raw] = found
        if isinstance(found, _Refusal):
            raise CellError(found.message)  # a fresh one: a re-raised error grows its traceback
        return found

    return remembered


def parse(
    data: bytes, kind: str, *, tz: dt.tzinfo, mapping: dict[str, str] | None = None
) -> Parsed:
    """Read the whole file; mapping None means suggest_mapping's."""
    table = read_table(data)
    if mapping is None:
        mapping = suggest_mapping(kind, table.headers)
    mapping = check_mapping(kind, table.headers, mapping)
    rows, rejects = clean_rows(kind, table, mapping, tz=tz)
    return Parsed(table, mapping, rows, rejects)


def preview(
    data: bytes,
    kind: str,
    *,
    tz: dt.tzinfo,
    mapping: dict[str, str] | None = None,
    rows: int = 20,
) -> Preview:
    """What the mapping page shows: detected format, the mapping and the first rows as read.

    Day/month order is inferred from the previewed rows only; the import reads every row.
    """
    check_kind(kind)
    table = read_table(data, limit=rows)
    if mapping is None:
        mapping = suggest_mapping(kind, table.headers)
    mapping = {h: f for h, f in mapping.items() if f and f != "-" and h in table.headers}
    good, bad = clean_rows(
        kind, table, {h: f for h, f in mapping.items() if f in FIELDS[kind]}, tz=tz
    )
    shown = [
        {"line": row.line, "cells": row.cells, "values": row.values, "errors": ""} for row in good
    ] + [{"line": r.line, "cells": r.cells, "values": {}, "errors": r.reason} for r in bad]
    shown.sort(key=lambda row: row["line"])
    return Preview(
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        mapping=mapping,
        unmapped=[header for header in table.headers if header not in mapping],
        missing=missing_columns(kind, mapping),
        rows=shown,
    )
