"""What a background job's failure and parameters say to the person reading them.

A failed job stores the exception as it was raised (``Job.error``): SQL, table and constraint
names, ids of any account. That is for admins (the API, the job page, the Django admin) and the
worker's log; everyone else reads a summary written for them. A job's parameters can name the
change that queued it ("opportunity #12 changed by bob"): a user who may not see every account
reads them without it.
"""

from abm.lib.permissions import user_role
from abm.models import Job, Role, RunKind

_WHAT = {
    RunKind.FULL: "The figures update",
    RunKind.INCREMENTAL: "The figures update",
    RunKind.ICP_RESCORE: "The ICP re-score",
    RunKind.IMPORT: "The import",
    RunKind.TASKS: "The task generation",
    RunKind.EXPORT: "The export",
}
_KEEPS = {
    RunKind.FULL: "the figures of the last complete update still stand",
    RunKind.INCREMENTAL: "the figures of the last complete update still stand",
    RunKind.ICP_RESCORE: "fit scores stay as they were",
    RunKind.IMPORT: "rows it had not written yet are not in",
    RunKind.TASKS: "tasks it had not created yet are not there",
    RunKind.EXPORT: "no file was made; start the export again",
}
# Failures recorded in our own words, not an exception's: shown as they are.
_WRITTEN_FOR_USERS = {"never started: its task was lost"}
# Exceptions whose message an app writes for the people who start its jobs (an import's
# "The uploaded file ... is gone; upload it again."), by class name as execute_run stores them.
_USER_ERRORS: set[str] = set()
# The change that queued a run names an object and a user; the rest are engine settings.
_NAMING_PARAMS = {"reason"}


def register_user_error(error: type[Exception]) -> None:
    """Show ``error``'s message to whoever may see the job: the app wrote it for them."""
    _USER_ERRORS.add(error.__name__)


def sees_job_detail(user) -> bool:
    """Admins (and staff, who have the Django admin) read errors and parameters as stored."""
    return bool(user is not None and (user_role(user) == Role.ADMIN or user.is_staff))


def error_for(run: Job, user) -> str:
    """The failure as ``user`` may read it; blank for a job that did not fail with an error."""
    if not run.error or sees_job_detail(user):
        return run.error
    if run.error in _WRITTEN_FOR_USERS:
        return run.error[0].upper() + run.error[1:] + "."
    name, _, message = run.error.partition(": ")
    if name in _USER_ERRORS and message:
        return message
    what = _WHAT.get(run.kind, "The job")
    keeps = _KEEPS.get(run.kind, "nothing it had not finished was saved")
    return f"{what} stopped on an unexpected problem; {keeps}. It is logged for an admin."


def params_for(run: Job, user) -> dict:
    """The job's parameters without what names objects ``user`` may not see."""
    params = run.params or {}
    if sees_job_detail(user) or getattr(user, "sees_everything", False):
        return params
    if run.kind == RunKind.EXPORT and run.requested_by_id == getattr(user, "pk", None):
        return params  # their own export: its filters are theirs
    return {name: value for name, value in params.items() if name not in _NAMING_PARAMS}
