"""+ Add step is a form until saved valid; the enrolment page warns about small groups before and
after enrolling, and its job creates the tasks due now."""

import re

import pytest
from django.urls import reverse

from abm.models import Job, RunKind
from playbooks.building import playbook_create, step_add
from playbooks.lifecycle import playbook_activate
from playbooks.models import Step, Task
from tests.factories import AccountFactory, ContactFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"playbooks:{name}", args=args)


@pytest.fixture
def draft(maria):
    return playbook_create(name="Land", by=maria, audience_tiers=[1])


def _new_step(stage, **fields) -> dict:
    values = {"channel": "email", "day_offset": "0", "owner_role": "marketing", "unit_cost": "0"}
    values |= {"subject": "", "body": "", **fields}
    return {f"new-step-{stage.pk}-{name}": value for name, value in values.items()}


def test_add_step_shows_a_form_and_stores_nothing(client, maria, draft):
    stage = draft.stages.get(name="Find")
    client.force_login(maria)

    response = client.get(url("step_new", draft.pk, stage.pk), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="new-step-{stage.pk}"' in html
    assert "not saved yet" in html
    assert not Step.objects.filter(stage__playbook=draft).exists()


def test_an_incomplete_new_step_answers_with_inline_errors_and_stores_nothing(client, maria, draft):
    stage = draft.stages.get(name="Find")
    client.force_login(maria)

    response = client.post(url("step_create", draft.pk, stage.pk), _new_step(stage), **HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert "No subject: it is the title of every task the step creates." in html
    assert "No body: an Email step needs the message to send." in html
    assert not Step.objects.filter(stage__playbook=draft).exists()


def test_a_valid_new_step_is_saved_and_the_plan_redrawn(client, maria, draft):
    stage = draft.stages.get(name="Find")
    client.force_login(maria)
    data = _new_step(stage, subject="Hi {{ account.name }}", body="Hello", day_offset="2")

    response = client.post(url("step_create", draft.pk, stage.pk), data, **HTMX)

    step = Step.objects.get(stage__playbook=draft)
    assert (response.status_code, step.stage, step.day_offset) == (200, stage, 2)
    assert response["HX-Retarget"] == "#stages"
    assert "playbook-changed" in response["HX-Trigger"]
    assert f'id="step-{step.pk}"' in response.content.decode()


def test_without_javascript_add_step_opens_the_form_on_the_page(client, maria, draft):
    stage = draft.stages.get(name="Nurture")
    client.force_login(maria)

    response = client.get(url("step_new", draft.pk, stage.pk), follow=True)

    assert 'data-testid="new-step-form"' in response.content.decode()
    assert not Step.objects.filter(stage__playbook=draft).exists()


def test_another_reps_view_of_add_step_is_refused(client, alice, draft):
    client.force_login(alice)
    stage = draft.stages.first()
    assert client.get(url("step_new", draft.pk, stage.pk), **HTMX).status_code == 403


def test_the_readiness_box_does_not_say_ready_with_an_untitled_step(client, maria, draft):
    step_add(stage=draft.stages.get(name="Find"), by=maria)
    client.force_login(maria)

    html = client.get(url("readiness", draft.pk)).content.decode()

    assert "Ready to activate" not in html
    assert "Find, step 1 (Email, day 0): no subject" in html


@pytest.fixture
def running(maria, alice):
    playbook = playbook_create(name="Run", by=maria, audience_tiers=[1], holdout_share=0.1)
    step_add(
        stage=playbook.stages.get(name="Find"),
        by=maria,
        channel="phone",
        owner_role="sales",
        subject="Call {{ account.name }}",
    )
    playbook_activate(playbook=playbook, by=maria)
    for n in range(8):
        ContactFactory(account=AccountFactory(name=f"Co {n}", owner=alice, tier=1, stage=""))
    return playbook


def test_the_enrolment_form_warns_before_enrolling_8_accounts(client, maria, running):
    client.force_login(maria)

    html = client.get(url("enrolments", running.pk)).content.decode()

    assert 'data-testid="holdout-warning"' in html
    assert "Enrolling 8 accounts leaves 7 enrolled and 1 held out" in html
    assert "enrol at least 52 accounts more" in html


def test_enrolling_creates_the_tasks_due_now_and_repeats_the_warning(
    client, maria, alice, running, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(maria)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("enrol", running.pk), follow=True)

    html = response.content.decode()
    assert "no lift can be measured" in html
    assert Task.objects.filter(assignee=alice).count() == 7  # one held out
    # The enrolment's job; the recompute after it queues another that finds nothing new.
    run = Job.objects.get(kind=RunKind.TASKS, params__reason="enrolled")
    assert run.result["created"] == 7
    assert 'data-testid="run-progress"' in html
    assert "Open My tasks" in html
    client.force_login(alice)
    tasks_page = client.get(url("tasks")).content.decode()
    assert len(set(re.findall(r"Call Co \d", tasks_page))) == 7


def test_the_api_enrol_answer_carries_the_warning(client, maria, running):
    client.force_login(maria)

    response = client.post(
        f"/api/playbooks/{running.pk}/enrol/", {"audience": True}, content_type="application/json"
    )

    body = response.json()
    assert response.status_code == 200, body
    assert (body["enrolled"], body["holdout"]) == (7, 1)
    assert "no lift can be measured" in body["warning"]
    assert body["tasks_run"] == Job.objects.filter(kind=RunKind.TASKS).first().pk
