"""Creating the tasks due right away, as a background job, when it matters: a playbook is
activated, accounts are enrolled, or accounts enter a stage (after a recompute moved them).

The request records a Job of kind `tasks` and returns; the worker advances the enrolments
and creates what is due (playbooks/tasking.py). Beat's playbooks.generate_due_tasks still creates
the tasks whose due date arrives later. Idempotent by the (enrolment, step) unique key.
"""

from django.utils import timezone

from abm.jobs import run_enqueue, run_progress
from abm.models import Job, RunKind
from playbooks.models import Playbook
from playbooks.tasking import advance_enrolments, generate_due_tasks


def tasks_enqueue(*, reason: str, playbook: Playbook | None = None, by=None) -> Job:
    """Queue task generation for one playbook (or all, without one) after the commit."""
    params = {"reason": reason}
    if playbook is not None:
        params["playbook_id"] = playbook.pk
    return run_enqueue(
        kind=RunKind.TASKS, task="playbooks.generate_tasks", requested_by=by, params=params
    )


def tasks_generate(*, run: Job) -> dict:
    """The job's body: advance, then create every task due now."""
    now = timezone.now()
    playbook_id = run.params.get("playbook_id")
    run_progress(run, phase="moving accounts to the stage they are in", percent=10)
    advanced = advance_enrolments(now=now, playbook_id=playbook_id)
    run_progress(run, phase="creating the tasks due now", percent=50)
    created = generate_due_tasks(now=now, playbook_id=playbook_id)
    return {"created": created, "advanced": advanced, "playbook_id": playbook_id}


def latest_tasks_run(playbook: Playbook) -> Job | None:
    """The last task-generation job queued for this playbook, shown on its enrolments page."""
    return (
        Job.objects.filter(kind=RunKind.TASKS, params__playbook_id=playbook.pk)
        .select_related("requested_by")
        .order_by("-created_at", "-id")
        .first()
    )
