"""Activities sent by other systems through the API, in batches, written like a CSV import.

An item goes through the same checks as an import row (ingestion/importing.py reads each value,
ingestion/import_upsert.py finds, counts and bulk-writes by natural key), with source 'api', so
re-sending a batch changes nothing. What the API adds: JSON types, the one `account` field (its
external_id or domain) looked up among the accounts the sender may see, and a status per item.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from abm.change_feed import announce_change
from abm.lib.permissions import ingest_allowed
from accounts.visibility import accounts_visible_to
from ingestion import importing
from ingestion.import_upsert import (
    ActivityWriter,
    ContactRefs,
    Counts,
    Plan,
    RowRejected,
    write_batch,
)
from ingestion.importing import CellError, Row
from ingestion.models import ImportKind
from playbooks.models import ActivitySource

logger = logging.getLogger(__name__)

REQUIRED = ("external_id", "account", "channel", "kind", "occurred_at")
OPTIONAL = ("contact", "direction", "cost", "duration_minutes", "notes")
FIELDS = REQUIRED + OPTIONAL
# Values read by the import's cell readers, under the import's field names.
_SPECS = importing.FIELDS[ImportKind.ACTIVITIES]
_CACHED = frozenset({"channel", "kind", "direction", "cost"})  # a few distinct values per batch
_CENTS = Decimal("0.01")
_MAX_COST_DIGITS = 20  # far above any real cost; longer numbers overflow the decimal context
_SHOWN_CHARS = 60


@dataclass(frozen=True)
class ItemResult:
    index: int
    external_id: str | None
    status: str  # created, updated, unchanged or rejected
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        shown = {"index": self.index, "external_id": self.external_id, "status": self.status}
        if self.reason:
            shown["reason"] = self.reason
        return shown


@dataclass
class BatchResult:
    items: list[ItemResult]

    def totals(self) -> Counts:
        counts = Counts()
        for item in self.items:
            setattr(counts, item.status, getattr(counts, item.status) + 1)
        return counts

    @property
    def changed(self) -> bool:
        totals = self.totals()
        return bool(totals.created or totals.updated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": {"received": len(self.items), **self.totals().as_dict()},
            "items": [item.as_dict() for item in self.items],
        }


def activities_ingest(*, items: list, by) -> BatchResult:
    """Create, update or leave unchanged each item's activity; reject the items that cannot be.

    Nothing an item contains raises: every problem is that item's reason. The whole batch is
    written in one transaction with a fixed number of queries, whatever its size; when it created
    or updated anything, a metrics recompute is requested once the activities are committed.
    """
    if not ingest_allowed(by):
        raise PermissionDenied("Directors have read-only access to activities.")
    tz = timezone.get_current_timezone()
    rows: list[Row] = []
    reasons: dict[int, str] = {}
    cleaner = _Cleaner(tz)
    for index, item in enumerate(items):
        values, errors = cleaner.clean(item)
        if errors:
            reasons[index] = "; ".join(errors)
        else:
            rows.append(Row(index, values, []))
    plans = write_batch(ApiActivityWriter(by=by), rows) if rows else []
    created, updated, touched = set(), set(), set()
    for plan in plans:
        touched.update(new["account_id"] for new in plan.creates)
        touched.update(activity.account_id for activity in plan.updates)
        created.update(new["external_id"] for new in plan.creates)
        updated.update(activity.external_id for activity in plan.updates)
        reasons.update((reject.line, reject.reason) for reject in plan.rejects)
    # Rows that were not rejected have distinct external ids (a repeated one is rejected).
    written = {}
    for row in rows:
        external_id = row.values["external_id"]
        if external_id in created:
            written[row.line] = "created"
        elif external_id in updated:
            written[row.line] = "updated"
        else:
            written[row.line] = "unchanged"
    result = BatchResult(
        [
            ItemResult(index, _external_id_of(item), "rejected", reasons[index])
            if index in reasons
            else ItemResult(index, _external_id_of(item), written[index])
            for index, item in enumerate(items)
        ]
    )
    if result.changed:
        _announce(f"{len(created) + len(updated)} activities ingested by the API", touched)
    return result


def _announce(reason: str, account_ids: set[int]) -> None:
    """After write_batch committed (inside a caller's transaction, the trigger's on_commit waits
    for it), so the run reads these activities."""
    try:
        with transaction.atomic():
            announce_change(reason=reason, account_ids=account_ids)
    except Exception:
        # The activities are saved and the answer must say so; the nightly run catches up.
        logger.exception("Could not request a metrics recompute (%s)", reason)


def _external_id_of(item) -> str | None:
    if not isinstance(item, dict):
        return None
    value = item.get("external_id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def _shown(value: str) -> str:
    if len(value) > _SHOWN_CHARS:
        value = value[: _SHOWN_CHARS - 1] + "…"
    return f"'{value}'"


def json_type(value) -> str:
    """How the JSON specification would name the type of a parsed value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _words(names: Iterable[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class _Cleaner:
    """JSON values to the import's typed values, with every problem of an item in words."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.parsers = {name: _SPECS[name].parse for name in OPTIONAL + REQUIRED if name in _SPECS}
        # Day/month order never matters: occurred_at must be ISO 8601, checked before this reads it.
        self.parsers["occurred_at"] = importing.datetime_parser("mdy", tz)
        self.parsers["contact_email"] = _SPECS["contact_email"].parse
        self.parsers["contact_external_id"] = _SPECS["contact_external_id"].parse
        self.memory: dict[tuple[str, str], Any] = {}

    def clean(self, item) -> tuple[dict[str, Any], list[str]]:
        if not isinstance(item, dict):
            return {}, [f"must be an object with the activity's fields, not {json_type(item)}"]
        errors: list[str] = []
        unknown = [str(name) for name in item if name not in FIELDS]
        if unknown:
            errors.append(
                f"unknown field{'s' if len(unknown) > 1 else ''} {_words(map(_shown, unknown))} "
                f"(fields: {', '.join(FIELDS)})"
            )
        cells: dict[str, str] = {}
        wrong: set[str] = set()
        for name in FIELDS:
            value = item.get(name)
            if value is None:
                continue
            try:
                cell = _cell(name, value)
            except CellError as exc:
                errors.append(str(exc))
                wrong.add(name)
                continue
            if cell:
                cells[name] = cell
        missing = [name for name in REQUIRED if name not in cells and name not in wrong]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            # Missing comes first: it is usually the one thing to fix.
            errors.insert(0, f"{_words(missing)} {verb} required")
        values: dict[str, Any] = {}
        for name, cell in cells.items():
            if name == "account":
                values["account"] = cell
                continue
            key = name
            if name == "contact":
                key = "contact_email" if "@" in cell else "contact_external_id"
            try:
                values[key] = self.read(key, cell, name)
            except CellError as exc:
                errors.append(str(exc))
        return values, errors

    def read(self, key: str, cell: str, name: str) -> Any:
        """The value of an import field `key` from its cell; messages call it `name`."""
        if key not in _CACHED:
            return self.parsers[key](cell, name)
        if (key, cell) not in self.memory:
            try:
                self.memory[key, cell] = self.parsers[key](cell, name)
            except CellError as exc:
                self.memory[key, cell] = exc
        found = self.memory[key, cell]
        if isinstance(found, CellError):
            raise CellError(str(found))
        return found


def _cell(name: str, value) -> str:
    """The text an import cell would hold for this JSON value; CellError for a wrong type."""
    if name in ("external_id", "account", "contact"):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise CellError(f"{name} must be a string, not {json_type(value)}")
        return str(value).strip()
    if name == "cost":
        return _cost_cell(value)
    if name == "duration_minutes":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise CellError(f"duration_minutes must be a whole number, not {json_type(value)}")
        if isinstance(value, float):
            if not value.is_integer():
                raise CellError(f"duration_minutes {value} must be a whole number")
            value = int(value)
        return str(value).strip()
    if not isinstance(value, str):
        raise CellError(f"{name} must be a string, not {json_type(value)}")
    if name == "occurred_at":
        text = value.strip()
        try:
            dt.datetime.fromisoformat(text)
        except ValueError:
            raise CellError(
                f"occurred_at {_shown(text)} is not an ISO 8601 date and time "
                "(such as 2025-03-04T09:30:00Z)"
            ) from None
        return text
    return value.strip()


def _cost_cell(value) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CellError(f"cost must be a number, not {json_type(value)}")
    if isinstance(value, str):
        text = value.strip()
        if sum(ch.isdigit() for ch in text) > _MAX_COST_DIGITS:
            raise CellError(f"cost {_shown(text)} is too large")
        return text
    number = Decimal(str(value))
    if abs(number) >= 10**_MAX_COST_DIGITS:
        raise CellError(f"cost {value} is too large")
    if number.as_tuple().exponent < -2:
        # Rounded to cents first: the import reads "1.234" as one thousand two hundred thirty-four.
        number = number.quantize(_CENTS, ROUND_HALF_UP)
    return f"{number:f}"


def _chunks(values: Iterable) -> Iterable[list]:
    values = list(values)
    # SQLite counts bound parameters (Django assumes 999); PostgreSQL takes them all at once.
    size = max((connection.features.max_query_params or len(values) + 10) - 10, 1)
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _ContactsAtAccount(ContactRefs):
    """A contact is looked for at the item's account only. Whatever else the lookup found, the
    sender hears 'not found', so it learns nothing about contacts of accounts it cannot see."""

    def resolve(self, values: dict, account_id: int | None) -> int | None:
        try:
            return super().resolve(values, account_id)
        except RowRejected:
            given = values.get("contact_email") or values.get("contact_external_id")
            raise RowRejected(f"contact {_shown(given)} not found at this account") from None


class ApiActivityWriter(ActivityWriter):
    """The import's activity writer with source 'api', accounts scoped to the sender, and items
    counted from 0 in messages."""

    row_noun = "item"

    def __init__(self, *, by) -> None:
        super().__init__(by=by, source=ActivitySource.API)
        self.contacts = _ContactsAtAccount()
        self.visible = accounts_visible_to(by)
        self.taken: set[str] = set()

    def resolve_accounts(self, batch: list[Row]) -> dict[int, int | RowRejected]:
        refs = {row.values["account"] for row in batch}
        domains = {ref: importing.normalise_domain(ref) for ref in refs if "." in ref}
        visible = self.visible.order_by()
        by_external_id: dict[str, int] = {}
        for chunk in _chunks(refs):
            found = visible.filter(external_id__in=chunk).values_list("external_id", "pk")
            by_external_id.update(found)
        by_domain: dict[str, int] = {}
        for chunk in _chunks(set(domains.values())):
            by_domain.update(visible.filter(domain__in=chunk).values_list("domain", "pk"))
        resolved: dict[int, int | RowRejected] = {}
        for row in batch:
            ref = row.values["account"]
            found = by_external_id.get(ref) or by_domain.get(domains.get(ref, ""))
            # The same words whether the account does not exist or the sender may not see it.
            resolved[row.line] = found or RowRejected(
                f"account not found (no account has the external_id or domain {_shown(ref)})"
            )
        return resolved

    def prepare(self, batch: list[Row]) -> None:
        super().prepare(batch)
        # external_id is unique per source, not per sender: an id already used for an account the
        # sender cannot see must not move that activity, nor say where it is.
        accounts = {stored["account_id"] for stored in self.by_external_id.values()}
        visible = set()
        for chunk in _chunks(accounts):
            visible.update(
                self.visible.filter(pk__in=chunk).order_by().values_list("pk", flat=True)
            )
        self.taken = {
            external_id
            for external_id, stored in self.by_external_id.items()
            if stored["account_id"] not in visible
        }

    def plan_row(self, row: Row, plan: Plan) -> None:
        if row.values["external_id"] in self.taken:
            raise RowRejected(
                f"external_id {_shown(row.values['external_id'])} is already taken by an activity "
                "you cannot change; give this activity another id"
            )
        super().plan_row(row, plan)
