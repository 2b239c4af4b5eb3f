from celery import shared_task

from abm.job_task import JobTask
from abm.jobs import execute_run
from playbooks.task_generation import tasks_generate
from playbooks.tasking import run_playbooks


@shared_task(name="playbooks.generate_due_tasks")
def generate_due_tasks() -> dict:
    """Idempotent by the (enrolment, step) unique key on tasks: a re-run creates nothing new."""
    result = run_playbooks()
    return {"created": result.created, "advanced": result.advanced}


@shared_task(name="playbooks.generate_tasks", base=JobTask, bind=True)
def generate_tasks(self, run_id: int) -> dict | None:
    """The tasks due now for an activation, enrolment or stage entry (playbooks/task_generation.py).
    Idempotent by its Job row and by the (enrolment, step) unique key on tasks."""
    return execute_run(run_id, lambda run: tasks_generate(run=run), task_id=self.request.id)
