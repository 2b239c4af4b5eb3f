"""Role checks for views: who may open a page at all (what they see is the scoping functions' job)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from abm.models import Role


def user_role(user) -> str | None:
    """The role that decides access; a superuser counts as an admin whatever their role field says."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role


INGEST_ROLES = frozenset({Role.MARKETER, Role.SALES, Role.ADMIN})


def ingest_allowed(user) -> bool:
    """Who sends activities (API batch, tokens page): marketers and admins for any account, sales
    reps for their own; directors only read."""
    return user_role(user) in INGEST_ROLES


def role_required(*roles: str) -> Callable:
    """Send anonymous users to the login page and answer 403 to signed-in users of other roles."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if user_role(request.user) not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator
