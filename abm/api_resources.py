"""Building blocks of the resource endpoints: scoped relations, constraint checks, the viewset base.

Every resource viewset reads through its model's scoping function (``scope``), so another rep's
object is a 404 and a write pointing at an object the caller may not see is a 400 naming it.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Model, UniqueConstraint
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.validators import UniqueValidator

from abm.api import RoleWritePermission, TokenRateThrottle
from abm.api_errors import ApiError
from abm.api_fields import (
    MAX_ID,
    NUMBER_FIELDS,
    StrictCharField,
    StrictDecimalField,
    StrictEmailField,
    StrictSlugField,
    StrictURLField,
    constraint_bounds,
)
from abm.scoping import scope_of


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key by id, limited to what the requesting user may see.

    ``scope(user)`` is the model's scoping function; an id outside it reads as "no such object
    you can see", never as a hint that it exists.
    """

    default_error_messages = {
        "does_not_exist": "There is no {noun} {pk_value} that you can see.",
        "incorrect_type": "Expected the id of a {noun} (a number), got {data_type}.",
    }

    def __init__(self, *, scope: Callable, noun: str, **kwargs):
        self.scope = scope
        self.noun = noun
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return self.scope(user) if user is not None else None

    def fail(self, key, **kwargs):
        kwargs.setdefault("noun", self.noun)
        super().fail(key, **kwargs)


# The schema states what the filter enforces (drf-spectacular would say "any number").
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdParam(django_filters.NumberFilter):
    """An object's id as a query parameter: a whole number from 1 to MAX_ID, else a 400."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)

    def get_max_validator(self):
        return MaxValueValidator(MAX_ID)


# RFC 3339's date-time, as the schema's "date-time" format says: a date, "T", a time and an
# offset. Python would also read a bare date, week dates, a space or no offset.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_DATE_TIME_EXAMPLE = "such as 2026-01-31T09:00:00Z (RFC 3339, with its offset)"


class NumberParam(django_filters.NumberFilter):
    """A number query parameter within [min_value, max_value], else a 400; the schema states the
    bounds (drf-spectacular would say "any number")."""

    def __init__(self, *, min_value, max_value, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        extend_schema_field({"type": "number", "minimum": min_value, "maximum": max_value})(self)


class _UtcDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        if isinstance(value, str) and not _RFC3339.fullmatch(value):
            raise forms.ValidationError(f"Enter a date-time {_DATE_TIME_EXAMPLE}.")
        parsed = super().to_python(value.upper() if isinstance(value, str) else value)
        # In UTC before it reaches the database: PostgreSQL refuses offsets past +-15:59, which
        # ISO 8601 allows, and a time near year 1 or 9999 may not exist in UTC at all.
        try:
            return parsed.astimezone(dt.UTC) if parsed is not None and parsed.tzinfo else parsed
        except OverflowError:
            raise forms.ValidationError("This date-time is out of range.") from None


class DateTimeParam(django_filters.IsoDateTimeFilter):
    """An RFC 3339 date-time query parameter (the schema's format), compared in UTC; anything
    else, a bare date or a time without its offset among them, is a 400."""

    field_class = _UtcDateTimeField


class _IsoDateField(forms.DateField):
    def to_python(self, value):
        if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
            raise forms.ValidationError("Enter a date as YYYY-MM-DD, such as 2026-01-31.")
        return super().to_python(value)


class DateParam(django_filters.DateFilter):
    """A date query parameter written YYYY-MM-DD (the schema's "date" format), else a 400."""

    field_class = _IsoDateField


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanParam(django_filters.TypedChoiceFilter):
    """A true/false query parameter where anything else is a 400: django-filter's BooleanFilter
    reads an unknown value as "not given" and quietly returns everything."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", [(v, v) for v in ("true", "false", "1", "0")])
        kwargs.setdefault("coerce", lambda value: value in ("true", "1"))
        super().__init__(**kwargs)


class ApiModelSerializer(serializers.ModelSerializer):
    """The API's model serializer: text fields take text only, and numbers carry the bounds of
    the model's check constraints, so the schema states what the database enforces."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.SlugField: StrictSlugField,
        models.URLField: StrictURLField,
        models.DecimalField: StrictDecimalField,
    }

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, NUMBER_FIELDS) and "read_only" not in kwargs:
            for name, bound in constraint_bounds(self.Meta.model, field_name).items():
                kwargs.setdefault(name, bound)
        return field_class, kwargs


class ConstraintCheckedSerializer(ApiModelSerializer):
    """Runs the model's database constraints (checks and uniques) as validation, so a row the
    database would refuse is a 400 with the constraint's message instead of an IntegrityError.

    A value already taken by a row the caller may not see (by the model's scoping function,
    abm/scoping.py) reads "This <field> cannot be used.", like any other refused value: the
    specific "already exists" would confirm that a row the caller cannot open exists.
    """

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        # Uniqueness is checked in validate(), which knows who is asking.
        kwargs["validators"] = [
            v for v in kwargs.get("validators", ()) if not isinstance(v, UniqueValidator)
        ]
        return field_class, kwargs

    def validate(self, attrs):
        attrs = super().validate(attrs)
        # A copy, so a refused change leaves the object being edited untouched.
        instance = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        errors = _constraint_errors(instance, given=attrs)
        if errors:
            request = self.context.get("request")
            user = getattr(request, "user", None)
            raise serializers.ValidationError(
                _messages(DjangoValidationError(unseen_clashes_hidden(instance, errors, user)))
            )
        return attrs


def _constraint_errors(instance: Model, *, given) -> dict[str, list]:
    """Django's errors by field for the row as it would be saved: unique fields among those
    given (as DRF checked them), and every constraint. A unique constraint on one field speaks
    of that field, as Django's own unique=True does, never by the constraint's name."""
    errors: dict[str, list] = {}
    unchanged = [f.name for f in instance._meta.fields if f.name not in given]
    try:
        instance.validate_unique(exclude=unchanged)
    except DjangoValidationError as error:
        error.update_error_dict(errors)
    model = type(instance)
    for constraint in instance._meta.constraints:
        try:
            constraint.validate(model, instance)
        except DjangoValidationError as error:
            fields = getattr(constraint, "fields", ())
            if isinstance(constraint, UniqueConstraint) and len(fields) == 1:
                errors.setdefault(fields[0], []).append(
                    instance.unique_error_message(model, fields)
                )
            else:
                error.update_error_dict(errors)
    return errors


def unseen_clashes_hidden(instance: Model, errors: dict[str, list], user) -> dict[str, list]:
    """``errors`` (Django's, by field) with each single-field uniqueness error whose clashing row
    the user may not see replaced by a message that does not confirm the row exists."""
    scope = scope_of(type(instance))
    shown = {}
    for name, problems in errors.items():
        shown[name] = [
            _cannot_be_used(instance, name)
            if getattr(problem, "code", None) == "unique"
            and name != NON_FIELD_ERRORS
            and not _clash_visible(instance, name, scope, user)
            else problem
            for problem in problems
        ]
    return shown


def _clash_visible(instance: Model, name: str, scope: Callable | None, user) -> bool:
    if scope is None:  # a model every writer sees whole: the clash is no secret
        return True
    if user is None or not user.is_authenticated:
        return False
    clashes = scope(user).filter(**{name: getattr(instance, name)})
    if instance.pk is not None:
        clashes = clashes.exclude(pk=instance.pk)
    return clashes.exists()


def _cannot_be_used(instance: Model, name: str) -> DjangoValidationError:
    noun = instance._meta.get_field(name).verbose_name
    return DjangoValidationError(f"This {noun} cannot be used.", code="invalid")


class ScopedViewSet(viewsets.ModelViewSet):
    """``scope(user)`` gives the rows the user may see; lists, objects and writes all use it."""

    scope: Callable = None
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "api"
    permission_classes = [RoleWritePermission]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return self.scope(self.request.user)

    def perform_create(self, serializer):
        _saving(lambda: serializer.save())

    def perform_update(self, serializer):
        _saving(lambda: serializer.save())


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """ScopedViewSet's reads alone: for rows that other services write (activities, tasks, runs);
    a subclass adds the mixins or actions of the writes it does offer."""

    scope: Callable = None
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "api"
    permission_classes = [RoleWritePermission]

    def get_queryset(self):
        return self.scope(self.request.user)

    def perform_create(self, serializer):
        _saving(lambda: serializer.save())


def _saving(save: Callable) -> None:
    # The constraint check above runs before the write; a concurrent writer can still win the
    # race, and that is a conflict for the client to retry, not a server error.
    try:
        with transaction.atomic():
            save()
    except IntegrityError:
        raise ApiError(
            code="conflict",
            message="This change conflicts with a record saved at the same time; reload and retry.",
            status_code=409,
        ) from None


@contextmanager
def service_errors() -> Iterator[None]:
    """Around a service call: its Django ValidationError becomes our 400, per field.

    Services speak Django's ValidationError so the pages, the API and the tasks share their
    rules; this is the one place the API turns them into its error shape.
    """
    try:
        yield
    except DjangoValidationError as error:
        raise service_error(error) from None


def service_error(error: DjangoValidationError) -> ApiError:
    fields = _messages(error)
    messages = [message for problems in fields.values() for message in problems]
    if len(messages) == 1 or list(fields) == ["non_field_errors"]:
        message = " ".join(messages)
    else:
        message = "Some fields are not valid."
    # A rule's own code ("locked", "transition") when it gave one, for clients to branch on.
    code = next((e.code for e in getattr(error, "error_list", []) if e.code), "invalid")
    return ApiError(code=code, message=message, fields=fields)


def _messages(error: DjangoValidationError):
    if hasattr(error, "error_dict"):
        return {
            (name if name != "__all__" else "non_field_errors"): messages
            for name, messages in error.message_dict.items()
        }
    return {"non_field_errors": list(error.messages)}
