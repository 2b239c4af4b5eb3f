from celery import shared_task


@shared_task(name="playbooks.generate_due_tasks")
def generate_due_tasks() -> dict:
    """Idempotent by the (enrolment, step) unique key on tasks: a re-run creates nothing new."""
    from playbooks.tasking import run_playbooks

    result = run_playbooks()
    return {"created": result.created, "advanced": result.advanced}
