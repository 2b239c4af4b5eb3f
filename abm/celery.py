"""The Celery app. Re-delivery is safe because every task is idempotent (see each task's docstring)."""

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

from abm.lib import file_broker
from abm.lib.env import envfloat

file_broker.register()  # before any connection: CELERY_BROKER_URL may be abmfs://

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")

app = Celery("abm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A task is acknowledged only after it finished, and a worker killed mid-task hands it back.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    broker_connection_retry_on_startup=True,
    result_expires=24 * 3600,
)

# The one beat schedule of the project.
app.conf.beat_schedule = {
    "metrics-nightly-recompute": {
        "task": "metrics.recompute_all",
        "schedule": crontab(hour=2, minute=0),
    },
    # The outbox: runs the broker never got (it was down, or restarted and lost them).
    "abm-sweep-unsent-jobs": {
        "task": "abm.sweep_unsent_jobs",
        # Read here, not from Django settings: this module is imported while settings load.
        "schedule": envfloat("ABM_SWEEP_SECONDS", 60.0),
    },
    # Steps whose due date arrives later; enrolment, activation and stage entry queue their own.
    "playbooks-generate-due-tasks": {
        "task": "playbooks.generate_due_tasks",
        "schedule": 60.0 * settings.ABM_TASK_GENERATION_MINUTES,
    },
    # Large CSV exports are kept a day (ABM_EXPORT_MAX_AGE_HOURS), then deleted.
    "abm-delete-old-exports": {
        "task": "abm.delete_old_exports",
        "schedule": crontab(minute=17),
    },
}

app.autodiscover_tasks()
