import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from playbooks.building import playbook_create, step_add
from playbooks.enrolment import enrol_accounts
from playbooks.lifecycle import (
    TRANSITIONS,
    activation_problems,
    playbook_activate,
    playbook_archive,
    playbook_clone,
    playbook_pause,
)
from playbooks.models import Enrolment, Playbook, PlaybookStatus, Stage, Step
from tests.factories import (
    AccountFactory,
    GoalFactory,
    PlaybookFactory,
    StageFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

ACTIONS = {
    "active": playbook_activate,
    "paused": playbook_pause,
    "archived": playbook_archive,
}


@pytest.fixture
def ready(maria):
    """A draft with one valid step: ready to activate."""
    playbook = playbook_create(name="Ready", by=maria, audience_tiers=[1])
    step_add(stage=playbook.stages.first(), by=maria, subject="Hi {{ contact.first_name }}")
    return playbook


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("draft", "active", True),
        ("draft", "paused", False),
        ("draft", "archived", True),
        ("active", "paused", True),
        ("active", "archived", True),
        ("active", "active", False),
        ("paused", "active", True),
        ("paused", "archived", True),
        ("archived", "active", False),
        ("archived", "paused", False),
    ],
)
def test_status_transitions(ready, maria, start, to, allowed):
    Playbook.objects.filter(pk=ready.pk).update(status=start)
    ready.refresh_from_db()

    if allowed:
        ACTIONS[to](playbook=ready, by=maria)
    else:
        with pytest.raises(ValidationError, match="cannot become"):
            ACTIONS[to](playbook=ready, by=maria)

    ready.refresh_from_db()
    assert ready.status == (to if allowed else start)
    assert (to in TRANSITIONS[start]) is allowed


def test_archived_is_final():
    assert TRANSITIONS[PlaybookStatus.ARCHIVED] == frozenset()


def test_activation_needs_a_stage_with_a_step(maria):
    playbook = playbook_create(name="Empty", by=maria)

    with pytest.raises(ValidationError, match="at least one step"):
        playbook_activate(playbook=playbook, by=maria)

    playbook.refresh_from_db()
    assert playbook.status == "draft"


def test_activation_names_each_invalid_template(maria):
    # Written around the services, as an import or the admin could: the check runs on activation.
    playbook = PlaybookFactory(status="draft")
    nurture = StageFactory(playbook=playbook, name="Nurture")
    StepFactory(
        stage=nurture, channel="email", day_offset=3, subject="{{ account.owner.password }}"
    )
    StepFactory(stage=nurture, channel="phone", subject="ok", body="{% load static %}")

    problems = activation_problems(playbook)

    assert len(problems) == 2
    assert problems[0].startswith("Nurture, step 1 (Email, day 3) subject: Unknown merge field")
    assert problems[1].startswith("Nurture, step 2 (Phone, day 0) body: Only merge fields")
    with pytest.raises(ValidationError):
        playbook_activate(playbook=playbook, by=maria)


def test_first_activation_starts_the_clock_for_accounts_enrolled_in_the_draft(ready, maria):
    enrol_accounts(playbook=ready, account_ids=[AccountFactory().pk], seed=1)
    long_ago = timezone.now() - dt.timedelta(days=30)
    Enrolment.objects.update(entered_stage_at=long_ago)

    playbook_activate(playbook=ready, by=maria)
    assert Enrolment.objects.get().entered_stage_at == ready.updated_at

    playbook_pause(playbook=ready, by=maria)
    Enrolment.objects.update(entered_stage_at=long_ago)
    playbook_activate(playbook=ready, by=maria)

    # Resuming keeps the clock; only the first start resets it.
    assert Enrolment.objects.get().entered_stage_at == long_ago


def test_a_status_change_from_a_stale_copy_is_refused(ready, maria):
    stale = Playbook.objects.get(pk=ready.pk)
    playbook_archive(playbook=ready, by=maria)

    with pytest.raises(ValidationError, match="a moment ago"):
        playbook_activate(playbook=stale, by=maria)


def test_a_starter_cannot_be_activated(maria):
    starter = Playbook.objects.filter(is_starter=True).first()

    with pytest.raises(ValidationError, match="templates"):
        playbook_activate(playbook=starter, by=maria)


def test_cloning_copies_the_plan_but_not_the_enrolments_or_goal(ready, maria, root):
    ready.goal = GoalFactory(owner=maria)
    ready.budget, ready.holdout_share = 12_000, 0.2
    ready.save()
    step_add(
        stage=ready.stages.get(name="Convert"),
        by=maria,
        channel="phone",
        day_offset=4,
        subject="Call",
    )
    enrol_accounts(playbook=ready, account_ids=[AccountFactory().pk], seed=1)
    playbook_activate(playbook=ready, by=maria)

    copy = playbook_clone(playbook=ready, by=root)

    assert (copy.name, copy.status, copy.owner, copy.goal) == ("Ready (copy)", "draft", root, None)
    assert (copy.budget, copy.holdout_share, copy.audience_tiers) == (12_000, 0.2, [1])
    assert not copy.enrolments.exists()

    def plan(playbook):
        return [
            (stage.name, stage.exit_stage, stage.order)
            + tuple(
                (s.channel, s.day_offset, s.owner_role, s.subject, s.body, s.unit_cost, s.order)
                for s in stage.steps.order_by("order")
            )
            for stage in playbook.stages.order_by("order")
        ]

    assert plan(copy) == plan(ready)
    original_ids = set(Step.objects.filter(stage__playbook=ready).values_list("pk", flat=True))
    copied_ids = set(Step.objects.filter(stage__playbook=copy).values_list("pk", flat=True))
    assert original_ids.isdisjoint(copied_ids)
    assert Stage.objects.filter(playbook=copy).count() == 4


def test_a_clone_of_a_starter_keeps_its_name_and_can_run(maria):
    starter = Playbook.objects.get(name__startswith="Tier 2", is_starter=True)

    copy = playbook_clone(playbook=starter, by=maria)

    assert (copy.name, copy.is_starter, copy.owner) == (starter.name, False, maria)
    playbook_activate(playbook=copy, by=maria)
    assert copy.status == "active"
