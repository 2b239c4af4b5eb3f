"""Pieces every API endpoint shares: the per-token throttle, pagination, role write rule."""

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

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
