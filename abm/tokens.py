"""Personal API tokens: create (the secret is shown once), authenticate, record use, revoke.

A token reads `abm_<40 random characters>`. Only its SHA-256 digest is stored: the secret carries
240 random bits, so a slow password hash would add nothing but latency, and looking a token up by
its digest (a unique index) never compares secrets character by character.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from abm.models import ApiToken

TOKEN_PREFIX = "abm_"
_SECRET_BYTES = 30  # 40 URL-safe characters
_SHOWN_CHARS = len(TOKEN_PREFIX) + 8


class TokenRefused(Exception):
    """The presented token does not authenticate; `code` says why (unknown, expired, revoked)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def tokens_of(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def token_create(*, user, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """The new token and its full text, which is not stored anywhere and cannot be shown again."""
    days = settings.ABM_API_TOKEN_DEFAULT_EXPIRY_DAYS if days is None else days
    if days not in settings.ABM_API_TOKEN_EXPIRY_DAYS:
        raise ValueError(f"a token lasts one of {settings.ABM_API_TOKEN_EXPIRY_DAYS} days")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=raw[:_SHOWN_CHARS],
        digest=token_digest(raw),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    return token, raw


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke once; revoking again keeps the first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )
    return token


def token_authenticate(*, raw: str, now: dt.datetime | None = None) -> ApiToken:
    """The active token with this text and its user (one query); TokenRefused otherwise."""
    now = now or timezone.now()
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None or not token.user.is_active:
        raise TokenRefused("authentication_failed", "Invalid API token.")
    status = token.status(now)
    if status == "revoked":
        raise TokenRefused("token_revoked", "This API token has been revoked.")
    if status == "expired":
        raise TokenRefused(
            "token_expired",
            f"This API token expired on {token.expires_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC; "
            "create a new one.",
        )
    return token


def token_touch(*, token: ApiToken, now: dt.datetime | None = None) -> None:
    """Record that the token was used, writing at most once per ABM_API_TOKEN_TOUCH_SECONDS.

    The in-memory check skips the query on most requests; the conditional UPDATE makes
    concurrent requests of one token write once between them.
    """
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.ABM_API_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
