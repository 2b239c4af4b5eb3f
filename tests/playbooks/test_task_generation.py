"""Tasks are created when it matters: on activation, enrolment and stage entry, by a background
job (a Job of kind tasks), with the catch-up rule and only for the stage an account is in."""

import datetime as dt

import pytest
from django.utils import timezone

from abm.models import Job, RunKind, RunStatus
from metrics.engine.runner import recompute_all
from playbooks.building import playbook_create, step_add
from playbooks.enrolment import enrol_accounts
from playbooks.lifecycle import playbook_activate, playbook_pause
from playbooks.models import Enrolment, Playbook, Task
from playbooks.task_generation import tasks_enqueue
from playbooks.tasking import catch_up_grace, generate_due_tasks, run_playbooks
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.usefixtures("eager_tasks")


def _step(stage, subject, *, day=0, channel="phone", role="sales"):
    return step_add(
        stage=stage,
        by=stage.playbook.owner,
        channel=channel,
        owner_role=role,
        day_offset=day,
        subject=subject,
        body=f"{subject} body",
    )


@pytest.fixture
def playbook(maria) -> Playbook:
    """The default stages (Find -> aware, Nurture -> mqa, Convert -> customer, Retain), no holdout,
    a day-0 and a day-3 step in each."""
    playbook = playbook_create(name="Land", by=maria, audience_tiers=[1], holdout_share=0)
    for stage in playbook.stages.order_by("order"):
        _step(stage, f"{stage.name} day 0")
        _step(stage, f"{stage.name} day 3", day=3)
    return playbook


def _accounts(owner, *stages) -> list:
    accounts = []
    for stage in stages:
        account = AccountFactory(owner=owner, stage=stage)
        ContactFactory(account=account)
        accounts.append(account)
    return accounts


def _subjects(**filters) -> list[str]:
    return sorted(Task.objects.filter(**filters).values_list("subject", flat=True))


def _tasks_runs():
    return Job.objects.filter(kind=RunKind.TASKS)


def test_enrolling_in_an_active_playbook_creates_the_tasks_due_now_in_a_job(
    playbook, maria, alice, django_capture_on_commit_callbacks
):
    playbook_activate(playbook=playbook, by=maria)
    (acme,) = _accounts(alice, "targeted")

    with django_capture_on_commit_callbacks(execute=True):
        result = enrol_accounts(playbook=playbook, account_ids=[acme.pk], by=maria)

    assert _subjects() == ["Find day 0"]
    run = _tasks_runs().get(pk=result.run_id)
    assert (run.status, run.result["created"], run.params["playbook_id"]) == (
        RunStatus.DONE,
        1,
        playbook.pk,
    )
    assert Task.objects.get().assignee == alice


def test_the_job_is_queued_only_after_the_enrolment_commits(
    playbook, maria, alice, django_capture_on_commit_callbacks
):
    playbook_activate(playbook=playbook, by=maria)
    (acme,) = _accounts(alice, "targeted")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrol_accounts(playbook=playbook, account_ids=[acme.pk], by=maria)

    assert len(callbacks) == 2  # the tasks job, then the engine's recompute
    assert not Task.objects.exists()  # nothing generated inside the request's transaction


def test_activating_creates_the_tasks_of_accounts_enrolled_in_the_draft(
    playbook, maria, alice, django_capture_on_commit_callbacks
):
    accounts = _accounts(alice, "targeted", "targeted")
    enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts], by=maria)
    assert not _tasks_runs().exists()  # a draft creates no task

    with django_capture_on_commit_callbacks(execute=True):
        playbook_activate(playbook=playbook, by=maria)

    assert _subjects() == ["Find day 0", "Find day 0"]
    assert _tasks_runs().get().params == {"reason": "activated", "playbook_id": playbook.pk}


def test_an_account_enters_the_stage_it_is_in_and_gets_no_task_of_another(
    playbook, maria, alice, django_capture_on_commit_callbacks
):
    playbook_activate(playbook=playbook, by=maria)
    engaged, with_deal, customer = _accounts(alice, "engaged", "opportunity", "customer")

    with django_capture_on_commit_callbacks(execute=True):
        enrol_accounts(
            playbook=playbook, account_ids=[engaged.pk, with_deal.pk, customer.pk], by=maria
        )

    stage_of = dict(Enrolment.objects.values_list("account_id", "current_stage__name"))
    assert stage_of == {engaged.pk: "Nurture", with_deal.pk: "Convert", customer.pk: "Retain"}
    assert _subjects(account=engaged) == ["Nurture day 0"]
    # An open deal is still being converted: no "Welcome aboard" from Retain before it is won.
    assert _subjects(account=with_deal) == ["Convert day 0"]
    assert _subjects(account=customer) == ["Retain day 0"]


def test_an_account_past_every_exit_completes_the_playbook_at_once(maria, alice):
    playbook = playbook_create(name="Short", by=maria, audience_tiers=[1], holdout_share=0)
    playbook.stages.filter(name="Retain").delete()
    _step(playbook.stages.get(name="Find"), "Find day 0")
    playbook_activate(playbook=playbook, by=maria)
    (customer,) = _accounts(alice, "customer")

    enrol_accounts(playbook=playbook, account_ids=[customer.pk], by=maria)

    assert Enrolment.objects.get().status == "completed"
    assert generate_due_tasks(now=timezone.now()) == 0


def test_entering_a_stage_after_a_recompute_creates_its_tasks_at_once(
    playbook, maria, alice, django_capture_on_commit_callbacks
):
    playbook_activate(playbook=playbook, by=maria)
    (acme,) = _accounts(alice, "")  # never evaluated: the recompute makes it targeted
    with django_capture_on_commit_callbacks(execute=True):
        enrol_accounts(playbook=playbook, account_ids=[acme.pk], by=maria)
    assert _subjects() == ["Find day 0"]
    # An open deal: the recompute moves the account to opportunity, so it enters Convert.
    OpportunityFactory(account=acme)

    with django_capture_on_commit_callbacks(execute=True):
        recompute_all(now=timezone.now())

    acme.refresh_from_db()
    assert acme.stage == "opportunity"
    assert Enrolment.objects.get().current_stage.name == "Convert"
    assert _subjects() == ["Convert day 0", "Find day 0"]
    assert any("journey stage" in run.params["reason"] for run in _tasks_runs())


def test_a_re_run_creates_nothing_more(playbook, maria, alice):
    playbook_activate(playbook=playbook, by=maria)
    accounts = _accounts(alice, "targeted", "engaged")
    enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts], by=maria)
    first = run_playbooks(playbook_id=playbook.pk)

    again = run_playbooks(playbook_id=playbook.pk)
    tasks_enqueue(reason="again", playbook=playbook)

    assert (first.created, again.created) == (2, 0)
    assert Task.objects.count() == 2


# --- The catch-up rule -------------------------------------------------------------------------


@pytest.fixture
def enrolled_at_t0(playbook, maria, alice):
    playbook_activate(playbook=playbook, by=maria)
    (acme,) = _accounts(alice, "targeted")
    enrol_accounts(playbook=playbook, account_ids=[acme.pk], by=maria, now=T0)
    Task.objects.all().delete()  # the job ran at the real time; replay the clock from T0
    return acme


@pytest.mark.parametrize(
    ("late", "rebased"),
    [
        (dt.timedelta(0), False),
        (dt.timedelta(minutes=14), False),  # a beat run a little late: the nominal date stays
        (dt.timedelta(minutes=16), True),  # more than one interval late: due when created
        (dt.timedelta(days=40), True),
    ],
)
def test_a_task_created_late_keeps_its_date_within_one_interval(enrolled_at_t0, late, rebased):
    assert catch_up_grace() == dt.timedelta(minutes=15)
    now = T0 + dt.timedelta(days=3) + late

    generate_due_tasks(now=now)

    day3 = Task.objects.get(subject="Find day 3")
    assert day3.due_at == (now if rebased else T0 + dt.timedelta(days=3))
    assert all(task.due_at >= now - catch_up_grace() for task in Task.objects.all())


def test_nothing_is_born_overdue_after_a_pause(playbook, enrolled_at_t0, maria):
    playbook_pause(playbook=playbook, by=maria)
    assert generate_due_tasks(now=T0 + dt.timedelta(days=5)) == 0  # paused: nothing
    playbook.refresh_from_db()
    resumed = T0 + dt.timedelta(days=10)

    playbook_activate(playbook=playbook, by=maria)
    generate_due_tasks(now=resumed)

    assert sorted(Task.objects.values_list("due_at", flat=True)) == [resumed, resumed]


def test_a_stage_entered_later_counts_its_days_from_the_entry(enrolled_at_t0, maria):
    enrolled_at_t0.stage = "aware"
    enrolled_at_t0.save()
    entered = T0 + dt.timedelta(days=20)

    run_playbooks(now=entered)

    assert _subjects(due_at=entered) == ["Nurture day 0"]  # Find's steps are now 17 days late...
    assert not Task.objects.filter(subject__startswith="Find").exists()  # ...and not created
    run_playbooks(now=entered + dt.timedelta(days=3, minutes=5))
    assert Task.objects.get(subject="Nurture day 3").due_at == entered + dt.timedelta(days=3)
