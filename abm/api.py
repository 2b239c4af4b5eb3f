"""Pieces every API endpoint shares: the per-token throttle, pagination, role write rule and the
JSON parser that bounds a body's size and depth."""

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework import renderers, status
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser, get_encoding
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.utils import json

from abm.api_errors import ApiError
from abm.models import ApiToken, Role


class TokenRateThrottle(ScopedRateThrottle):
    """The view's `throttle_scope` rate, counted per API token (per user for the session), so a
    runaway script uses up its own token's budget and not its owner's other integrations'."""

    @property
    def cache(self):
        # Looked up per request, not bound at import, so tests and settings can swap the cache.
        return caches["api_throttle"]

    def get_rate(self):
        # DRF binds THROTTLE_RATES when the class is defined; read it now so a changed setting
        # takes effect.
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate for scope {self.scope!r}") from None

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (at most 500), with the total count for progress bars."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        # A page_size that is not a whole number from 1 is a bad parameter, not a silent default.
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ApiError(
                code="invalid_parameter",
                message=f"page_size must be a whole number from 1 to {self.max_page_size}.",
                fields={self.page_size_query_param: ["Enter a whole number from 1."]},
            )
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            # What the checks here enforce; a page_size above the maximum is served at it.
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"]["minimum"] = 1
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        # A page number that is not a page is a bad parameter (400), not a missing resource.
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as error:
            raise ApiError(
                code="invalid_page",
                message=f"{error.detail} Pages are numbered from 1.",
                fields={self.page_query_param: [str(error.detail)]},
            ) from None


class RoleWritePermission(BasePermission):
    """Reads for every signed-in role the scoping lets through; writes only for `write_roles`.

    Which rows a user may read or change is the scoping function's job (a rep's querysets hold
    only their accounts); this decides whether their role may write this resource at all.
    """

    write_roles: tuple[str, ...] = (Role.MARKETER, Role.ADMIN)
    message = "Your role may read this resource but not change it."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in SAFE_METHODS:
            return True
        roles = getattr(view, "write_roles", self.write_roles)
        return request.user.is_superuser or request.user.role in roles


class BoundedJSONParser(BaseParser):
    """JSON within a size and a nesting depth, refused in words (413, 400) instead of read whole
    into memory or recursed into until Python gives up (a 500).

    The size is the view's `max_body_setting` (the ingestion batch allows more), else Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE. Not a JSONParser subclass on purpose: DRF hands those
    `request.body`, which Django refuses past its own limit with an exception DRF does not know.
    """

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        context = parser_context or {}
        view, request = context.get("view"), context.get("request")
        limit = getattr(settings, getattr(view, "max_body_setting", "DATA_UPLOAD_MAX_MEMORY_SIZE"))
        length = _content_length(request)
        if limit is not None and length > limit:
            raise body_too_large(length, limit)
        # Read at most one byte past the limit, whatever the length claimed.
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise body_too_large(len(body), limit)
        try:
            # get_encoding refuses byte codecs (bz2_codec): a charset must not unpack the body.
            data = json.loads(body.decode(get_encoding(context)))
        except RecursionError:
            raise _too_deep() from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _nested_deeper_than(data, settings.ABM_API_MAX_JSON_DEPTH):
            raise _too_deep()
        return data


def body_too_large(length: int, limit: int) -> ApiError:
    return ApiError(
        code="too_large",
        message=f"The body is {length:,} bytes; this endpoint accepts at most {limit:,} bytes. "
        "Nothing was saved.",
        status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        return 0


def _too_deep() -> ApiError:
    limit = settings.ABM_API_MAX_JSON_DEPTH
    return ApiError(
        code="too_deep",
        message=f"The JSON body is nested more than {limit} levels deep; no endpoint takes "
        "lists or objects nested that far. Nothing was saved.",
    )


def _nested_deeper_than(data, limit: int) -> bool:
    # A loop, not recursion: the check must not fail the way the parser would.
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
