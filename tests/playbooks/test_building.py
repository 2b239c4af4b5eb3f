import pytest
from django.core.exceptions import ValidationError

from playbooks.building import (
    DEFAULT_STAGES,
    playbook_create,
    playbook_set_audience,
    playbook_update,
    stage_add,
    stage_move,
    stage_remove,
    stage_update,
    step_add,
    step_move,
    step_remove,
    step_update,
)
from playbooks.enrolment import enrol_accounts
from playbooks.models import Stage, Step
from tests.factories import AccountFactory, PlaybookFactory, StageFactory, StepFactory

pytestmark = pytest.mark.django_db


def names(playbook) -> list[str]:
    return list(playbook.stages.order_by("order", "id").values_list("name", flat=True))


def subjects(stage) -> list[str]:
    return list(stage.steps.order_by("order", "id").values_list("subject", flat=True))


@pytest.fixture
def playbook(maria):
    return playbook_create(name="  Tier 1 expansion ", by=maria, audience_tiers=[1, 1])


def test_a_new_playbook_is_a_draft_with_the_four_default_stages(playbook, maria, settings):
    assert playbook.name == "Tier 1 expansion"
    assert (playbook.status, playbook.owner, playbook.audience_tiers) == ("draft", maria, [1])
    assert playbook.holdout_share == settings.ABM_HOLDOUT_SHARE
    stages = playbook.stages.order_by("order")
    assert [(s.name, s.exit_stage, s.order) for s in stages] == [
        (name, exit_stage, order) for order, (name, exit_stage) in enumerate(DEFAULT_STAGES)
    ]
    assert [s.exit_stage for s in stages] == ["aware", "mqa", "customer", ""]


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        ([("Nurture", "up")], ["Nurture", "Find", "Convert", "Retain"]),
        ([("Find", "down"), ("Find", "down")], ["Nurture", "Convert", "Find", "Retain"]),
        ([("Find", "up")], ["Find", "Nurture", "Convert", "Retain"]),
        ([("Retain", "down")], ["Find", "Nurture", "Convert", "Retain"]),
    ],
)
def test_stages_move_up_and_down_and_stop_at_the_ends(playbook, maria, moves, expected):
    for name, direction in moves:
        stage_move(stage=playbook.stages.get(name=name), by=maria, direction=direction)

    assert names(playbook) == expected
    assert sorted(playbook.stages.values_list("order", flat=True)) == [0, 1, 2, 3]


def test_adding_renaming_and_removing_stages_keeps_orders_dense(playbook, maria):
    added = stage_add(playbook=playbook, by=maria)
    stage_update(stage=added, by=maria, name=" Expand ", exit_stage="customer")
    stage_remove(stage=playbook.stages.get(name="Nurture"), by=maria)

    assert names(playbook) == ["Find", "Convert", "Retain", "Expand"]
    assert list(playbook.stages.order_by("order").values_list("order", flat=True)) == [0, 1, 2, 3]
    assert playbook.stages.get(name="Expand").exit_stage == "customer"


def test_a_stage_needs_a_name_and_a_known_exit(playbook, maria):
    stage = playbook.stages.get(name="Find")
    with pytest.raises(ValidationError) as error:
        stage_update(stage=stage, by=maria, name=" ", exit_stage="unicorn")
    assert set(error.value.message_dict) == {"name", "exit_stage"}


def test_a_stage_with_accounts_in_it_cannot_be_removed(playbook, maria):
    find = playbook.stages.get(name="Find")
    enrol_accounts(playbook=playbook, account_ids=[AccountFactory().pk], seed=1)

    with pytest.raises(ValidationError, match="1 enrolled account is in “Find”"):
        stage_remove(stage=find, by=maria)

    assert Stage.objects.filter(pk=find.pk).exists()


def test_a_new_step_lands_after_the_last_one(playbook, maria):
    find = playbook.stages.get(name="Find")
    first = step_add(stage=find, by=maria)
    second = step_add(stage=find, by=maria, channel="phone", owner_role="sales")
    later = step_add(stage=find, by=maria, day_offset=10)
    fourth = step_add(stage=find, by=maria)

    assert (first.order, first.day_offset, first.channel) == (0, 0, "email")
    assert (second.order, second.day_offset, second.owner_role) == (1, 3, "sales")
    assert (later.order, later.day_offset) == (2, 10)
    assert (fourth.order, fourth.day_offset) == (3, 13)


def test_steps_reorder_inside_their_stage(playbook, maria):
    find = playbook.stages.get(name="Find")
    a, b, c = (step_add(stage=find, by=maria, subject=s) for s in "abc")

    step_move(step=c, by=maria, direction="up")
    step_move(step=a, by=maria, direction="up")
    step_remove(step=b, by=maria)

    assert subjects(find) == ["a", "c"]
    assert list(find.steps.order_by("order").values_list("order", flat=True)) == [0, 1]


@pytest.mark.parametrize(
    ("field", "text", "needle"),
    [
        ("subject", "{{ account.owner.password }}", "Unknown merge field"),
        ("body", "{% load static %}Hi", "template tags"),
        ("body", "Hi {{ contact.nickname }}", "Unknown merge field {{ contact.nickname }}"),
        ("subject", "{{ account.name|upper }}", "template tags"),
    ],
)
def test_a_step_template_beyond_merge_fields_is_refused(playbook, maria, field, text, needle):
    step = step_add(stage=playbook.stages.first(), by=maria, subject="Hi")

    with pytest.raises(ValidationError) as error:
        step_update(step=step, by=maria, **{field: text})

    assert any(needle in message for message in error.value.message_dict[field])
    step.refresh_from_db()
    assert step.subject == "Hi"


def test_a_valid_step_update_is_saved(playbook, maria):
    step = step_add(stage=playbook.stages.first(), by=maria)

    step_update(
        step=step,
        by=maria,
        channel="linkedin",
        day_offset=5,
        owner_role="sales",
        target_buying_role="champion",
        target_seniority="vp",
        subject="Hi {{ contact.first_name }}",
        body="{{ owner.first_name }} from Keystone",
        unit_cost="12.50",
    )

    step.refresh_from_db()
    assert (step.channel, step.day_offset, step.target_buying_role) == ("linkedin", 5, "champion")


@pytest.mark.parametrize("locked", ["archived", "starter"])
def test_archived_and_starter_playbooks_are_read_only(maria, locked):
    playbook = PlaybookFactory(
        status="archived" if locked == "archived" else "draft", is_starter=locked == "starter"
    )
    stage = StageFactory(playbook=playbook)
    step = StepFactory(stage=stage)
    attempts = [
        lambda: playbook_update(playbook=playbook, by=maria, name="New"),
        lambda: playbook_set_audience(
            playbook=playbook, by=maria, tiers=[2], industries=[], account_filter={}
        ),
        lambda: stage_add(playbook=playbook, by=maria),
        lambda: stage_update(stage=stage, by=maria, name="X", exit_stage=""),
        lambda: stage_move(stage=stage, by=maria, direction="down"),
        lambda: stage_remove(stage=stage, by=maria),
        lambda: step_add(stage=stage, by=maria),
        lambda: step_update(step=step, by=maria, subject="X"),
        lambda: step_move(step=step, by=maria, direction="up"),
        lambda: step_remove(step=step, by=maria),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="clone"):
            attempt()
    assert Step.objects.filter(pk=step.pk, subject=step.subject).exists()


def test_details_and_audience_are_saved(playbook, maria):
    playbook_update(playbook=playbook, by=maria, budget=50_000, holdout_share=0.2, name="T1")
    playbook_set_audience(
        playbook=playbook,
        by=maria,
        tiers=["2", 1],
        industries=["Software", "Healthcare"],
        account_filter={"fit_min": "70"},
    )

    playbook.refresh_from_db()
    assert (playbook.name, playbook.budget, playbook.holdout_share) == ("T1", 50_000, 0.2)
    assert playbook.audience_tiers == [1, 2]
    assert playbook.audience_industries == ["Healthcare", "Software"]
    assert playbook.audience_filter == {"fit_min": "70"}


def test_a_holdout_share_of_one_is_refused(playbook, maria):
    with pytest.raises(ValidationError):
        playbook_update(playbook=playbook, by=maria, holdout_share=1.0)
