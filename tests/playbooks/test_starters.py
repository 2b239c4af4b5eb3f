import pytest

from playbooks.lifecycle import activation_problems
from playbooks.models import Playbook, Stage, Step
from playbooks.starters import STARTER_PLAYBOOKS, ensure_starter_playbooks
from playbooks.templating import template_errors

pytestmark = pytest.mark.django_db


def starters():
    return Playbook.objects.filter(is_starter=True)


def test_migrate_leaves_one_starter_per_tier():
    assert sorted(p.audience_tiers for p in starters()) == [[1], [2], [3]]
    assert set(starters().values_list("status", flat=True)) == {"draft"}


def test_ensuring_the_starters_again_creates_nothing():
    before = (starters().count(), Stage.objects.count(), Step.objects.count())

    assert ensure_starter_playbooks() == 0
    assert ensure_starter_playbooks() == 0

    assert (starters().count(), Stage.objects.count(), Step.objects.count()) == before


def test_a_deleted_starter_comes_back_and_edited_ones_are_left_alone():
    tier_1 = starters().get(audience_tiers=[1])
    tier_2 = starters().get(audience_tiers=[2])
    tier_2.objective = "Our own words"
    tier_2.save()
    tier_1.delete()

    assert ensure_starter_playbooks() == 1

    assert starters().count() == 3
    tier_2.refresh_from_db()
    assert tier_2.objective == "Our own words"


@pytest.mark.parametrize("spec", STARTER_PLAYBOOKS, ids=lambda spec: spec["name"])
def test_every_starter_is_a_complete_personalised_plan(spec):
    playbook = starters().get(name=spec["name"])
    steps = Step.objects.filter(stage__playbook=playbook)

    assert activation_problems(playbook) == [
        "Starter playbooks are templates: clone one and activate the copy."
    ]
    assert list(playbook.stages.order_by("order").values_list("name", flat=True)) == [
        "Find",
        "Nurture",
        "Convert",
        "Retain",
    ]
    assert steps.count() >= 8
    assert {"marketing", "sales"} <= set(steps.values_list("owner_role", flat=True))
    for step in steps:
        assert template_errors(step.subject) == template_errors(step.body) == []
        assert "{{" in step.subject + step.body, step.subject
