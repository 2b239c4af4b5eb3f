"""New activities logged by people request one debounced recompute after commit."""

import datetime as dt

from django.utils import timezone

from abm.models import Job, RunKind, RunStatus
from ingestion.logging_activity import activity_log
from metrics.models import EngagementScore
from playbooks.task_completion import task_complete
from tests.factories import AccountFactory, ContactFactory, TaskFactory


def test_a_logged_meeting_moves_the_account_s_engagement(
    alice, django_capture_on_commit_callbacks, eager_tasks
):
    account = AccountFactory(owner=alice)
    contact = ContactFactory(account=account, seniority="vp")
    with django_capture_on_commit_callbacks(execute=True):
        activity_log(
            account=account,
            by=alice,
            kind="meeting",
            contact=contact,
            occurred_at=timezone.now() - dt.timedelta(minutes=5),
            duration_minutes=30,
        )
    run = Job.objects.get(kind=RunKind.INCREMENTAL)
    assert run.status == RunStatus.DONE
    # A meeting is 20 points; a VP's 1.5x is capped back to 20 a kind a day; 5 minutes of decay.
    assert 19.9 < EngagementScore.objects.get(account=account).score <= 20


def test_completing_tasks_in_a_burst_requests_one_run(alice, django_capture_on_commit_callbacks):
    tasks = [TaskFactory(enrolment__account=AccountFactory(owner=alice)) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for task in tasks:
            task_complete(task=task, by=alice)
    assert Job.objects.filter(kind=RunKind.INCREMENTAL).count() == 1
    assert len(callbacks) == 1
