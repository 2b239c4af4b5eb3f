"""Who may see which background jobs."""

from django.db.models import Q, QuerySet

from abm.models import Job, RunKind


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
