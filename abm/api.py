"""Pieces every API endpoint shares: the per-token throttle."""

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from abm.models import ApiToken


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
