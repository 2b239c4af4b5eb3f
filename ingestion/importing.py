"""CSV imports, the pure part: read a file, map its columns, turn cells into typed values.

No database here. `parse` gives typed rows (only the cells that had a value) and the rows
refused with their physical line number and a reason; ingestion/import_upsert.py resolves owners,
accounts and contacts and writes. The rules are listed in the README under "Import rules".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from abm.lib.channels import ActivityKind, Channel, Direction
from accounts.models import BuyingRole, LeadStatus, OpportunitySource, OpportunityStage, Seniority
from accounts.money import money_parser
from accounts.values import (  # noqa: F401 (re-exported: the API and tests read them here)
    BUYING_ROLE_ALIASES,
    CHANNEL_ALIASES,
    DIRECTION_ALIASES,
    KIND_ALIASES,
    LEAD_STATUS_ALIASES,
    SENIORITY_ALIASES,
    SOURCE_ALIASES,
    STAGE_ALIASES,
    CellError,
    choice_parser,
    date_order,
    date_parser,
    datetime_parser,
    loose_key,
    normalise_domain,
    parse_domain,
    parse_email,
    parse_tier,
    seniority_from_title,
    text_parser,
    whole_parser,
)
from ingestion.models import ImportKind

DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 64 * 1024


class ImportRefused(Exception):
    """The file as a whole cannot be imported (too big, not a CSV, required columns missing)."""


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

_SAVE_AS_CSV = "save it as CSV (comma or semicolon separated) and upload that"
_UNPACK = "unpack it and upload the CSV file inside"
_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or a zip archive", _SAVE_AS_CSV),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook", _SAVE_AS_CSV),
    (b"%PDF", "a PDF document", _SAVE_AS_CSV),
    (b"\x89PNG", "a PNG image", _SAVE_AS_CSV),
    (b"\xff\xd8\xff", "a JPEG image", _SAVE_AS_CSV),
    # Archives are refused, never unpacked: a few kilobytes can unpack to gigabytes.
    (b"\x1f\x8b", "a gzip archive", _UNPACK),
    (b"PK\x05\x06", "a zip archive", _UNPACK),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", _UNPACK),
    (b"\xfd7zXZ\x00", "an xz archive", _UNPACK),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive", _UNPACK),
    (b"Rar!\x1a\x07", "a RAR archive", _UNPACK),
    *((b"BZh" + bytes([digit]) + b"1AY&SY", "a bzip2 archive", _UNPACK) for digit in b"123456789"),
)
# Far above any CRM export's width: a wider first line is no table anyone maps column by column.
MAX_COLUMNS = 1000
_KEPT_RAW_CHARS = 4096


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
    for signature, what, advice in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ImportRefused(f"This file is {what}, not a CSV: {advice}.")
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
            if len(raw) > _KEPT_RAW_CHARS:
                # Rejects are stored and shown: a runaway value is cut, not copied whole.
                raw = raw[:_KEPT_RAW_CHARS] + "…"
            previous_line = reader.line_num
            if headers is None:
                raise ImportRefused(
                    f"line {start}: the header cannot be read ({_csv_problem(exc)})."
                ) from None
            unreadable.append(Reject(start, f"cannot be read as CSV ({_csv_problem(exc)})", [raw]))
            continue
        previous_line = reader.line_num
        if not "".join(cells).strip():
            continue  # blank lines are not rows
        if len(cells) > MAX_COLUMNS:
            if headers is None:
                raise ImportRefused(
                    f"The first line has {len(cells):,} columns; an import reads at most "
                    f"{MAX_COLUMNS:,}. Check that this is the right file, or remove the columns "
                    "you do not need."
                )
            # Not kept whole: the rejects file would be as wide as the row.
            reason = f"has {len(cells):,} values; a row may hold at most {MAX_COLUMNS:,}"
            unreadable.append(Reject(start, reason, cells[: len(headers)]))
            continue
        if headers is None:
            headers = _unique_headers(cells)
            continue
        records.append(Record(start, cells))
    if headers is None:
        raise ImportRefused("The file has no header line.")
    return Table(encoding, delimiter, headers, records, unreadable)


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        # The csv module's own bound on one value, which keeps a runaway value from filling memory.
        return (
            f"a value is longer than {csv.field_size_limit():,} characters, more than any field "
            "holds; the file may be damaged or not a CSV"
        )
    return str(exc)


def _unique_headers(cells: list[str]) -> list[str]:
    headers, seen = [], {}
    for position, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff") or f"(column {position})"
        seen[name] = seen.get(name, 0) + 1
        headers.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return headers


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


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
        by_key.setdefault(loose_key(header), header)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for rank in ("own", "alias"):
        for name, spec in specs.items():
            if name in taken:
                continue
            candidates = (name,) if rank == "own" else spec.aliases
            for candidate in candidates:
                header = by_key.get(loose_key(candidate))
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
    """Typed rows for every record whose cells all read; a reject with every reason otherwise.

    Column by column: a 100k-row file names a few hundred domains, channels and kinds over and
    over, so each distinct cell of a column is read once and its outcome spread to its rows."""
    specs = FIELDS[check_kind(kind)]
    width = len(table.headers)
    rejects: list[Reject] = list(table.unreadable)
    records = []
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
        else:
            records.append(record)
    columns = []
    for header, name in mapping.items():
        index = table.headers.index(header)
        spec = specs[name]
        parse = spec.parse
        if spec.date:
            order = date_order(r.cells[index] for r in table.records if index < len(r.cells))
            parse = datetime_parser(order, tz) if spec.date == "datetime" else date_parser(order)
        raw = [r.cells[index].strip() if index < len(r.cells) else "" for r in records]
        columns.append((name, _read_column(raw, parse, header)))
    rows: list[Row] = []
    for at, record in enumerate(records):
        values: dict[str, Any] = {}
        errors: list[str] = []
        for name, outcomes in columns:
            found = outcomes[at]
            if found is _BLANK:
                continue
            if isinstance(found, _Refusal):
                errors.append(found.message)
            else:
                values[name] = found
        if errors:
            rejects.append(Reject(record.line, "; ".join(errors), record.cells))
        else:
            rows.append(Row(record.line, values, record.cells))
    rejects.sort(key=lambda reject: reject.line)
    return rows, rejects


@dataclass(frozen=True)
class _Refusal:
    message: str


_BLANK = object()  # a blank cell: no value, no error


def _read_column(raw: list[str], parse: Callable[[str, str], Any], header: str) -> list:
    """Each cell's value, _Refusal or _BLANK, reading each distinct cell once."""
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object))
    outcomes = np.empty(len(uniques), dtype=object)
    for at, cell in enumerate(uniques):
        if not cell:
            outcomes[at] = _BLANK
            continue
        try:
            # Reasons speak the file's own words: "Annual Revenue '£75.2m' ...".
            outcomes[at] = parse(cell, header)
        except CellError as exc:
            outcomes[at] = _Refusal(str(exc))
    return outcomes[codes].tolist() if len(codes) else []


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
