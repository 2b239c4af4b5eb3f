"""The API's filter backend. Its own module: DRF reads DEFAULT_FILTER_BACKENDS when its generic
views are imported, so the backend must not import them."""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.drainage import get_override
from rest_framework import serializers


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter reads a parameter given empty (?status=) as not given. An enum, a number, a
    boolean or a date in the schema has no empty value, so the API refuses it, naming it."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            blank = [
                name
                for name, flt in filterset.filters.items()
                if "" in request.query_params.getlist(name) and not _free_text(flt)
            ]
            if blank:
                message = "Give a value, or leave the parameter out."
                raise serializers.ValidationError({name: [message] for name in blank})
        return filterset


def _free_text(flt) -> bool:
    """A text filter whose schema is any string (no enum, pattern or format): "" is one."""
    schema = get_override(type(flt), "field")
    stated = isinstance(schema, dict) and {"enum", "pattern", "format"} & set(schema)
    return isinstance(flt, django_filters.CharFilter) and not stated
