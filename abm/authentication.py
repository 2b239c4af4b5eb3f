"""DRF authentication by personal API token: `Authorization: Bearer <token>` (or `Token <token>`)."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from abm.tokens import TokenRefused, token_authenticate, token_touch

_KEYWORDS = (b"bearer", b"token")


class BearerTokenAuthentication(BaseAuthentication):
    """`request.auth` is the ApiToken, so throttles and logs can tell a user's tokens apart."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in _KEYWORDS:
            return None  # not ours: the session may still authenticate the request
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>', without spaces in it."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API token.") from None
        try:
            token = token_authenticate(raw=raw)
        except TokenRefused as refused:
            raise exceptions.AuthenticationFailed(refused.message, code=refused.code) from None
        token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
