import datetime as dt
from decimal import Decimal

import pytest

from playbooks.enrolment import enrol_accounts
from playbooks.models import Activity, Enrolment, EnrolmentStageChange, Task
from playbooks.task_completion import task_complete
from playbooks.tasking import advance_enrolments, generate_due_tasks
from tests.factories import (
    AccountFactory,
    ContactFactory,
    PlaybookFactory,
    StageFactory,
    StepFactory,
)

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def playbook(maria):
    playbook = PlaybookFactory(status="active", owner=maria, holdout_share=0)
    find = StageFactory(playbook=playbook, order=0, name="Find", exit_stage="engaged")
    nurture = StageFactory(playbook=playbook, order=1, name="Nurture", exit_stage="mqa")
    StepFactory(
        stage=find,
        order=0,
        channel="email",
        owner_role="marketing",
        day_offset=0,
        subject="Hi {{ contact.first_name }} at {{ account.name }}",
    )
    StepFactory(
        stage=find,
        order=1,
        channel="phone",
        owner_role="sales",
        day_offset=3,
        unit_cost=Decimal("12.50"),
        subject="Call {{ contact.first_name }}",
        target_buying_role="champion",
    )
    StepFactory(stage=nurture, order=0, channel="webinar", day_offset=0, subject="Webinar")
    return playbook


@pytest.fixture
def enrolled(playbook, alice):
    account = AccountFactory(name="Acme", owner=alice)
    ContactFactory(account=account, first_name="Dee", buying_role="decision_maker")
    ContactFactory(account=account, first_name="Cham", buying_role="champion")
    enrol_accounts(playbook=playbook, account_ids=[account.pk], seed=1)
    Enrolment.objects.update(entered_stage_at=T0)
    EnrolmentStageChange.objects.update(entered_at=T0)
    return Enrolment.objects.get(account=account)


def test_tasks_are_created_when_due_and_only_once(enrolled, maria, alice):
    on_time = dt.timedelta(minutes=10)  # within one generation interval: the nominal date stays
    assert generate_due_tasks(now=T0 + on_time) == 1
    assert generate_due_tasks(now=T0 + on_time) == 0
    assert generate_due_tasks(now=T0 + dt.timedelta(days=3) + on_time) == 1
    assert generate_due_tasks(now=T0 + dt.timedelta(days=30)) == 0
    email, call = Task.objects.order_by("due_at")
    assert (email.assignee, email.subject, email.due_at) == (maria, "Hi Dee at Acme", T0)
    assert (call.assignee, call.subject) == (alice, "Call Cham")
    assert call.due_at == T0 + dt.timedelta(days=3)


def test_holdout_and_inactive_playbooks_get_no_tasks(enrolled, playbook):
    Enrolment.objects.update(status="holdout")
    assert generate_due_tasks(now=T0 + dt.timedelta(days=10)) == 0
    Enrolment.objects.update(status="active")
    playbook.status = "paused"
    playbook.save()
    assert generate_due_tasks(now=T0 + dt.timedelta(days=10)) == 0


def test_enrolments_advance_when_the_account_reaches_the_exit_stage(enrolled, playbook):
    later = T0 + dt.timedelta(days=5)
    assert advance_enrolments(now=later) == 0
    enrolled.account.stage = "engaged"
    enrolled.account.save()
    assert advance_enrolments(now=later) == 1
    enrolled.refresh_from_db()
    assert enrolled.current_stage.name == "Nurture"
    assert enrolled.entered_stage_at == later
    assert [c.stage.name for c in enrolled.stage_changes.all()] == ["Find", "Nurture"]
    # Reaching opportunity passes Nurture's mqa exit too: the playbook is complete.
    enrolled.account.stage = "opportunity"
    enrolled.account.save()
    assert advance_enrolments(now=later) == 1
    enrolled.refresh_from_db()
    assert enrolled.status == "completed"


def test_completing_a_task_records_one_activity_on_the_step(enrolled, alice):
    generate_due_tasks(now=T0 + dt.timedelta(days=3))
    call = Task.objects.get(channel="phone")
    activity = task_complete(task=call, by=alice, notes="Left a voicemail")
    again = task_complete(task=call, by=alice)
    assert activity == again
    assert Activity.objects.filter(account=enrolled.account).count() == 1
    assert (activity.kind, activity.direction, activity.cost) == (
        "call_attempt",
        "outbound",
        Decimal("12.50"),
    )
    assert activity.step == call.step
    assert activity.contact.first_name == "Cham"  # the champion the call step targets
    call.refresh_from_db()
    assert (call.status, call.completed_by) == ("done", alice)
