"""The base of the import's writers: a Plan per batch, drawn up row by row, written in bulk.

ingestion/import_upsert.py has the writer of each kind and `upsert_rows`; the activity writer, shared
with the activity API, is in ingestion/import_activities.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.money import ConversionError, Money, Rates, rates_load, reporting_currency
from ingestion.import_refs import RowRejected
from ingestion.importing import Reject, Row

INSERT_CHUNK = 1_000


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass
class Plan:
    """What one batch will write; nothing is written while it is drawn up."""

    creates: list = field(default_factory=list)  # instances (activities: column dicts)
    updates: list[Model] = field(default_factory=list)
    update_fields: set[str] = field(default_factory=set)
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)
    seen: dict[tuple, int] = field(default_factory=dict)
    # History rows (ownership, stage changes), built after the bulk writes gave new rows an id.
    history: list[Callable[[], Model]] = field(default_factory=list)

    def counts(self) -> Counts:
        return Counts(len(self.creates), len(self.updates), self.unchanged, len(self.rejects))


def write_batch(writer: Writer, batch: list[Row]) -> list[Plan]:
    """One batch in one transaction; the plans say what happened to each row."""
    try:
        with transaction.atomic():
            plan = writer.plan(batch)
            writer.write(plan)
    except (IntegrityError, DataError):
        # Another import wrote the same keys meanwhile, or the database refused a value that
        # validation did not foresee: go row by row so only the failing rows are rejected.
        plans = []
        for row in batch:
            try:
                with transaction.atomic():
                    plan = writer.plan([row])
                    writer.write(plan)
            except (IntegrityError, DataError) as exc:
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                plan = Plan(
                    rejects=[Reject(row.line, f"could not be saved: {first_line}", row.cells)]
                )
            writer.seen.update(plan.seen)
            plans.append(plan)
        return plans
    writer.seen.update(plan.seen)
    return [plan]


class Writer:
    """Draws up a Plan for a batch of rows and writes it; keeps what the import has seen."""

    model: type[Model]
    what: str
    row_noun = "line"  # what a row's number counts, in messages

    def __init__(self, *, by, labels: dict[str, str] | None = None) -> None:
        self.by = by
        self.now = timezone.now()
        self.labels = labels or {}
        # Natural key -> line of the row that claimed it; a later row with the same key is a
        # duplicate and rejected, so the first occurrence in the file wins.
        self.seen: dict[tuple, int] = {}
        self._rates: Rates | None = None

    def label(self, name: str) -> str:
        """What the file calls a field: its header, else the field's own name (the API)."""
        return self.labels.get(name, name)

    def money(self, values: dict, name: str, day: dt.date, *, keep: bool = True) -> dict[str, Any]:
        """The amount in the reporting currency at the rate of `day`, with (`keep`) its original
        amount and currency (`name_original`, `name_currency`); {} when the row has none."""
        money: Money | None = values.get(name)
        if money is None:
            return {}
        if self._rates is None and money.currency not in ("", reporting_currency()):
            self._rates = rates_load()  # once per import, and only for another currency
        rates = self._rates or Rates(reporting_currency(), {})
        try:
            fields = rates.fields(money, day, name=name)
        except ConversionError as exc:
            raise RowRejected(f"{self.label(name)} {quoted(money.raw)}: {exc}") from None
        column = self.model._meta.get_field(name)
        if fields[name] >= Decimal(10) ** (column.max_digits - column.decimal_places):
            raise RowRejected(
                f"{self.label(name)} {quoted(money.raw)} is too large in {rates.reporting}"
            )
        return fields if keep else {name: fields[name]}

    def plan(self, batch: list[Row]) -> Plan:
        plan = Plan()
        self.prepare(batch)
        for row in batch:
            try:
                self.plan_row(row, plan)
            except RowRejected as exc:
                plan.rejects.append(Reject(row.line, str(exc), row.cells))
        return plan

    def prepare(self, batch: list[Row]) -> None:
        raise NotImplementedError

    def after_batch(self) -> None:
        """Called between batches, outside their transactions."""

    def plan_row(self, row: Row, plan: Plan) -> None:
        raise NotImplementedError

    def check_duplicate(self, plan: Plan, keys: list[tuple]) -> list[tuple]:
        """Reject the row when an earlier imported row of the file had one of its natural keys."""
        keys = [key for key in keys if key[-1]]
        for key in keys:
            line = plan.seen.get(key)
            if line is None:  # not `or`: API items count from 0
                line = self.seen.get(key)
            if line is not None:
                same = (
                    "the same record"
                    if key[0] == "pk"
                    else f"same {self.label(key[0])} '{key[-1]}'"
                )
                raise RowRejected(f"duplicate of {self.row_noun} {line} ({same})")
        return keys

    def require(self, values: dict, names: Iterable[str], *, to: str) -> None:
        missing = [self.label(name) for name in names if values.get(name) in (None, "")]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise RowRejected(f"{' and '.join(missing)} {verb} required to create {to}")

    def stage(self, plan: Plan, row: Row, keys: list[tuple], obj: Model, changed: list[str]):
        """Count the row as created, updated or unchanged, and claim its keys for the file."""
        for key in keys:
            plan.seen[key] = row.line
        if obj.pk is None:
            plan.creates.append(obj)
        elif changed:
            plan.updates.append(obj)
            plan.update_fields.update(changed)
        else:
            plan.unchanged += 1

    def write(self, plan: Plan) -> None:
        if plan.creates:
            self.model.objects.bulk_create(plan.creates, batch_size=INSERT_CHUNK)
        if plan.updates:
            fields = sorted(plan.update_fields)
            self.model.objects.bulk_update(plan.updates, fields, batch_size=INSERT_CHUNK)
        history: dict[type[Model], list[Model]] = {}
        for build in plan.history:
            record = build()
            history.setdefault(type(record), []).append(record)
        for model, records in history.items():
            # Stage changes are unique per (opportunity, stage, moment): a re-run adds none.
            model.objects.bulk_create(records, batch_size=INSERT_CHUNK, ignore_conflicts=True)


def required_external_id(values: dict, what: str, label: str = "external_id") -> str:
    if not values.get("external_id"):
        raise RowRejected(f"{label} is required: it is how a re-import finds {what}")
    return values["external_id"]


def quoted(value) -> str:
    return f"'{value}'"
