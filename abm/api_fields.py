"""API fields whose schema says what they accept: text only as text, numbers within the bounds the
database's check constraints enforce, decimals as strings, never negative when the model
says so. Found by schemathesis (ST201: a request the schema forbids accepted; ST202: one it
allows refused)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from django.db.models import CheckConstraint, Q
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

# The largest id a bigint column holds; a bigger number would fail in the database, not here.
MAX_ID = 2**63 - 1
NUMBER_FIELDS = (serializers.IntegerField, serializers.FloatField, serializers.DecimalField)
_BOUNDS = {"gte": "min_value", "lte": "max_value"}


class _StrictText:
    """DRF's text fields store the number 5 as "5"; the schema says string, so a number is a 400."""

    default_error_messages = {"invalid": "Must be text (a JSON string), not a number."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_StrictText, serializers.CharField):
    pass


class StrictEmailField(_StrictText, serializers.EmailField):
    pass


class StrictSlugField(_StrictText, serializers.SlugField):
    pass


class StrictURLField(_StrictText, serializers.URLField):
    pass


@cache
def _all_bounds(model) -> dict[str, dict[str, object]]:
    bounds: dict[str, dict[str, object]] = {}
    for constraint in model._meta.constraints:
        if isinstance(constraint, CheckConstraint):
            for lookup, value in _and_terms(constraint.condition):
                name, _, kind = lookup.rpartition("__")
                if kind in _BOUNDS and "__" not in name and isinstance(value, int | float):
                    bounds.setdefault(name, {})[_BOUNDS[kind]] = value
    return bounds


def constraint_bounds(model, field_name: str) -> dict[str, object]:
    """{"min_value": 0} for a field under CheckConstraint(Q(field__gte=0)); inclusive bounds only,
    from plain AND-ed conditions (others stay the database's and the serializer's business)."""
    return _all_bounds(model).get(field_name, {})


def _and_terms(condition) -> list[tuple[str, object]]:
    if not isinstance(condition, Q) or condition.negated or condition.connector != Q.AND:
        return []
    terms = []
    for child in condition.children:
        if isinstance(child, Q):
            terms += _and_terms(child)
        elif isinstance(child, tuple):
            terms.append(child)
    return terms


class StrictFloatField(serializers.FloatField):
    """A JSON number, as the schema says: DRF would also read the string "0.1" (and true as 1)."""

    default_error_messages = {"invalid": "Must be a number (a JSON number), not text."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """A decimal as the schema shows it, a string ("12.50"): a JSON number is a 400, since a float
    such as 0.1 + 0.2 is not the amount the client meant."""

    default_error_messages = {"invalid": 'Must be a decimal written as a string, such as "12.50".'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DecimalFieldSchema(OpenApiSerializerFieldExtension):
    """A decimal string's pattern as DRF reads it: at least one digit (drf-spectacular's own
    pattern allows "" and "."), and no minus sign when the field takes no negative values."""

    target_class = "rest_framework.serializers.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        if "pattern" in schema and field.max_whole_digits is not None:
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            whole = rf"\d{{1,{field.max_whole_digits}}}" if field.max_whole_digits else "0"
            places = rf"(?:\.\d{{1,{field.decimal_places}}})?" if field.decimal_places else ""
            number = f"{sign}{whole}{places}"
            if _above_zero(field):
                number = f"(?=[0.]*[1-9]){number}"  # a digit other than 0 somewhere
            # A nullable decimal reads "" as null.
            schema["pattern"] = f"^(?:{number})?$" if field.allow_null else f"^{number}$"
        return schema


def _above_zero(field) -> bool:
    """A minimum of the field's smallest step (0.0001 for 4 places) means "above zero"."""
    step = Decimal(1).scaleb(-(field.decimal_places or 0))
    return field.min_value is not None and 0 < field.min_value <= step


class RelatedIdSchema(OpenApiSerializerFieldExtension):
    """An object's id, as every relation field takes it: a whole number from 1 to MAX_ID. A
    negative or zero id is a refusal the schema states, not one of "no such object"."""

    target_class = "rest_framework.relations.PrimaryKeyRelatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if schema.get("type") == "integer":
            schema.update(minimum=1, maximum=MAX_ID)
        return schema


class ListSerializerSchema(OpenApiSerializerFieldExtension):
    """A nested list's bounds (``many=True, max_length=24``), which drf-spectacular leaves out."""

    target_class = "rest_framework.serializers.ListSerializer"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if self.target.max_length is not None:
            schema["maxItems"] = self.target.max_length
        if self.target.min_length is not None:
            schema["minItems"] = self.target.min_length
        return schema
