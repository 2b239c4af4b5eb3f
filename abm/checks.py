"""Deploy checks of our own: `manage.py check --deploy` refuses a secret key anyone can read."""

from django.conf import settings
from django.core.checks import Error, Tags, register

# Keys that are, or were, written in this repository or its examples: public, so never secret.
PUBLIC_SECRET_KEYS = frozenset(
    {
        settings.DEV_SECRET_KEY,
        "change-me-to-a-long-random-string-before-any-real-use-0123456789",
        "change-me-to-50-random-characters-in-production",
        "build-only-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "load-test-only",
    }
)
# Placeholder words a real key would not contain.
PLACEHOLDER_WORDS = ("change-me", "changeme", "not-secret", "dev-only", "django-insecure-")
MIN_LENGTH = 50
MIN_DISTINCT_CHARACTERS = 5


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs) -> list[Error]:
    key = str(getattr(settings, "SECRET_KEY", "") or "")
    if (
        key in PUBLIC_SECRET_KEYS
        or any(word in key.lower() for word in PLACEHOLDER_WORDS)
        or len(key) < MIN_LENGTH
        or len(set(key)) < MIN_DISTINCT_CHARACTERS
    ):
        return [
            Error(
                "SECRET_KEY is a public, placeholder or short key: sessions, password reset "
                "links and signed values could be forged.",
                hint=f"Set SECRET_KEY to {MIN_LENGTH} or more random characters, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
                id="abm.E001",
            )
        ]
    return []
