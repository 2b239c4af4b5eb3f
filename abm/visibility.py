"""Who may see which background jobs, and which people."""

from django.db.models import Q, QuerySet

from abm.models import Job, RunKind, User


def jobs_visible_to(user) -> QuerySet[Job]:
    # Metric runs carry only status and progress; import runs name files and rejected rows, so
    # only the roles that may see every account see them.
    # An export run is its requester's alone: its file holds what that user may see.
    if not user.is_authenticated:
        return Job.objects.none()
    runs = Job.objects.exclude(Q(kind=RunKind.EXPORT) & ~Q(requested_by=user))
    if user.sees_everything:
        return runs
    return runs.exclude(kind=RunKind.IMPORT)


def users_visible_to(user) -> QuerySet[User]:
    """The people whose names and ids a user may look up: a sales rep works their own accounts
    and looks up only themselves; marketers, directors and admins plan with the whole team."""
    if not user.is_authenticated:
        return User.objects.none()
    if user.sees_everything:
        return User.objects.all()
    return User.objects.filter(pk=user.pk)
