"""The readiness box names incomplete steps and stages nobody will enter; enrolment warns when a
group would be too small for holdout lift and names the share that would not be."""

import pytest
from django.core.exceptions import ValidationError

from playbooks.building import playbook_create, stage_update, step_add
from playbooks.enrolment import enrol_accounts
from playbooks.holdout_planning import holdout_plan
from playbooks.lifecycle import activation_problems, playbook_activate
from playbooks.models import Step
from playbooks.readiness import entry_index, incomplete_steps, messages_missing, unentered_stages
from tests.factories import AccountFactory


@pytest.fixture
def playbook(maria):
    return playbook_create(name="Land", by=maria, audience_tiers=[1], holdout_share=0)


def _stages(playbook):
    return list(playbook.stages.order_by("order", "id").prefetch_related("steps"))


def test_a_step_without_a_subject_stops_activation_and_is_named(playbook, maria):
    find = playbook.stages.get(name="Find")
    step_add(stage=find, by=maria, channel="phone", subject="Call", body="")
    step_add(stage=find, by=maria)  # the old "+ Add step": a blank day-3 email

    problems = activation_problems(playbook)

    assert problems == [
        "Find, step 2 (Email, day 3): no subject: it is the title of every task the step creates."
    ]
    with pytest.raises(ValidationError, match="no subject"):
        playbook_activate(playbook=playbook, by=maria)


def test_a_message_step_without_a_body_is_listed_but_does_not_stop_activation(playbook, maria):
    step_add(stage=playbook.stages.get(name="Nurture"), by=maria, channel="linkedin", subject="Hi")

    assert messages_missing(_stages(playbook)) == [
        "Nurture, step 1 (LinkedIn, day 0): no body: a LinkedIn step needs the message to send."
    ]
    assert incomplete_steps(_stages(playbook)) == []


def test_unknown_merge_fields_are_named_with_their_step(playbook, maria):
    step = step_add(stage=playbook.stages.get(name="Find"), by=maria, subject="Hi", body="x")
    Step.objects.filter(pk=step.pk).update(body="Dear {{ contact.nickname }}")

    (problem,) = incomplete_steps(_stages(playbook))

    assert problem.startswith("Find, step 1 (Email, day 0) body: Unknown merge field")


def test_stages_every_enrolled_account_is_past_are_named(playbook, maria):
    for stage in playbook.stages.all():
        step_add(stage=stage, by=maria, channel="phone", subject=f"{stage.name} call")
    accounts = [AccountFactory(stage="mqa"), AccountFactory(stage="opportunity")]
    enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts], by=maria)

    warnings = unentered_stages(playbook, _stages(playbook))

    assert warnings == [
        "No enrolled account will enter “Find” (1 step): every one is already past it, so its "
        "steps create no task.",
        "No enrolled account will enter “Nurture” (1 step): every one is already past it, so its "
        "steps create no task.",
    ]


def test_a_stage_an_exit_rule_makes_unreachable_is_named(playbook, maria):
    stages = {stage.name: stage for stage in playbook.stages.all()}
    stage_update(stage=stages["Convert"], by=maria, name="Convert", exit_stage="engaged")
    stage_update(stage=stages["Nurture"], by=maria, name="Nurture", exit_stage="")
    for stage in stages.values():
        step_add(stage=stage, by=maria, channel="phone", subject="Call")

    warnings = unentered_stages(playbook, _stages(playbook))

    assert warnings == [
        "No account can enter “Convert” (1 step): “Nurture” has no exit rule, so no account "
        "ever leaves it.",
        "No account can enter “Retain” (1 step): “Nurture” has no exit rule, so no account "
        "ever leaves it.",
    ]


def test_an_exit_reached_before_the_stage_above_is_left_is_named(playbook, maria):
    convert = playbook.stages.get(name="Convert")
    stage_update(stage=convert, by=maria, name="Convert", exit_stage="engaged")
    step_add(stage=convert, by=maria, channel="phone", subject="Call")

    (warning,) = unentered_stages(playbook, _stages(playbook))

    assert warning.startswith("No account can enter “Convert” (1 step): its exit (Engaged)")


def test_a_plan_every_account_can_enter_has_no_warning(playbook, maria):
    for stage in playbook.stages.all():
        step_add(stage=stage, by=maria, channel="phone", subject="Call")
    enrol_accounts(playbook=playbook, account_ids=[AccountFactory(stage="targeted").pk], by=maria)

    assert unentered_stages(playbook, _stages(playbook)) == []


@pytest.mark.parametrize(
    ("journey", "stage"),
    [("", 0), ("targeted", 0), ("aware", 1), ("engaged", 1), ("mqa", 2), ("opportunity", 2)],
)
def test_an_account_enters_the_first_stage_whose_exit_it_has_not_reached(playbook, journey, stage):
    assert entry_index(_stages(playbook), journey) == stage


# --- Holdout group sizes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accounts", "share", "enrolled", "held", "suggested"),
    [
        (400, 0.10, 360, 40, None),  # both groups >= 30: no warning
        (100, 0.10, 90, 10, 0.30),  # 30 % holds out 30 and leaves 70
        (60, 0.10, 54, 6, 0.50),  # the smallest audience any share can split
        (70, 0.60, 28, 42, 0.43),  # too few enrolled is also a small group
    ],
)
def test_the_holdout_plan_names_the_smallest_share_reaching_30_in_both_groups(
    accounts, share, enrolled, held, suggested
):
    plan = holdout_plan(new_accounts=accounts, share=share, min_group=30)

    assert (plan.enrolled, plan.held_out) == (enrolled, held)
    if suggested is None:
        assert plan.enough
        assert plan.warning == ""
        return
    assert plan.suggested_share == suggested
    held_then = round(suggested * accounts)
    assert held_then >= 30
    assert accounts - held_then >= 30
    assert f"A holdout share of {suggested:.0%}" in plan.warning


def test_with_too_few_accounts_it_says_how_many_are_needed():
    plan = holdout_plan(new_accounts=8, share=0.10, min_group=30)

    assert (plan.enrolled, plan.held_out, plan.suggested_share) == (7, 1, None)
    assert plan.warning == (
        "Enrolling 8 accounts leaves 7 enrolled and 1 held out: holdout lift needs at least 30 in "
        "each group, so no lift can be measured. No holdout share can give both groups 30 with 8 "
        "accounts: enrol at least 52 accounts more (60 in all, 30 in each group)."
    )


def test_groups_already_enrolled_count_towards_the_minimum():
    plan = holdout_plan(new_accounts=20, share=0.10, enrolled_before=100, held_before=25)

    assert (plan.enrolled, plan.held_out) == (118, 27)
    assert plan.suggested_share == 0.23  # 5 of the 20 held out reach 30


def test_enrolment_returns_the_warning(playbook, maria):
    playbook.holdout_share = 0.1
    playbook.save()
    accounts = [AccountFactory() for _ in range(8)]

    result = enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts], by=maria)

    assert (result.enrolled, result.holdout) == (7, 1)
    assert "no lift can be measured" in result.warning
    assert "enrol at least 52 accounts more" in result.warning
