"""/api/stages/ and /api/steps/: the builder's services over the API."""

import pytest

from playbooks import building, lifecycle
from playbooks.enrolment import enrol_accounts
from playbooks.models import Stage, Step
from tests.api.api_calls import error_of, ids
from tests.factories import AccountFactory

STAGES, STEPS = "/api/stages/", "/api/steps/"


@pytest.fixture
def playbook(maria):
    return building.playbook_create(name="Land", by=maria, audience_tiers=[1])


def first_stage(playbook) -> Stage:
    return playbook.stages.order_by("order").first()


def test_a_stage_is_added_last_then_renamed_moved_and_removed(api, maria, playbook):
    client = api(maria)

    added = client.post(STAGES, {"playbook": playbook.pk, "name": "Expand"}, format="json")
    assert added.status_code == 201, added.content
    stage_id = added.json()["id"]
    assert added.json()["order"] == 4

    renamed = client.patch(f"{STAGES}{stage_id}/", {"exit_stage": "customer"}, format="json")
    assert renamed.json() | {"id": 0} == {
        "id": 0,
        "playbook": playbook.pk,
        "order": 4,
        "name": "Expand",
        "exit_stage": "customer",
    }

    moved = client.post(f"{STAGES}{stage_id}/move/", {"direction": "up"}, format="json")
    assert moved.json()["order"] == 3

    assert client.delete(f"{STAGES}{stage_id}/").status_code == 204
    assert list(playbook.stages.order_by("order").values_list("name", flat=True)) == [
        "Find",
        "Nurture",
        "Convert",
        "Retain",
    ]


def test_a_stage_with_accounts_in_it_stays(api, maria, playbook):
    enrol_accounts(playbook=playbook, account_ids=[AccountFactory().pk], by=maria)

    error = error_of(api(maria).delete(f"{STAGES}{first_stage(playbook).pk}/"), 400)

    assert error["code"] == "stage_in_use"
    assert "1 enrolled account is in “Find”" in error["message"]


def test_a_stage_for_an_unknown_playbook_is_a_400(api, maria):
    error = error_of(api(maria).post(STAGES, {"playbook": 999999}, format="json"), 400)

    assert error["fields"] == {"playbook": ["There is no playbook 999999 that you can see."]}


def test_a_stage_stays_in_its_playbook(api, maria, playbook):
    other = building.playbook_create(name="Other", by=maria)

    response = api(maria).patch(
        f"{STAGES}{first_stage(playbook).pk}/", {"playbook": other.pk}, format="json"
    )

    assert "playbook" in error_of(response, 400)["fields"]


def test_a_step_takes_the_builders_defaults(api, maria, playbook):
    stage = first_stage(playbook)

    response = api(maria).post(STEPS, {"stage": stage.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["channel"], body["day_offset"], body["owner_role"], body["order"]) == (
        "email",
        0,
        "marketing",
        0,
    )


def test_a_step_with_an_unknown_merge_field_is_a_400_on_that_field(api, maria, playbook):
    response = api(maria).post(
        STEPS,
        {"stage": first_stage(playbook).pk, "subject": "Hi {{ account.password }}"},
        format="json",
    )

    error = error_of(response, 400)
    assert list(error["fields"]) == ["subject"]
    assert not Step.objects.filter(stage__playbook=playbook).exists()


def test_a_step_is_changed_moved_and_removed(api, maria, playbook):
    stage = first_stage(playbook)
    one = building.step_add(stage=stage, by=maria)
    two = building.step_add(stage=stage, by=maria, channel="phone")
    client = api(maria)

    changed = client.patch(
        f"{STEPS}{two.pk}/", {"owner_role": "sales", "day_offset": 9}, format="json"
    )
    moved = client.post(f"{STEPS}{two.pk}/move/", {"direction": "up"}, format="json")
    bad_move = client.post(f"{STEPS}{two.pk}/move/", {"direction": "left"}, format="json")
    removed = client.delete(f"{STEPS}{one.pk}/")

    assert (changed.json()["owner_role"], changed.json()["day_offset"]) == ("sales", 9)
    assert moved.json()["order"] == 0
    assert "direction" in error_of(bad_move, 400)["fields"]
    assert removed.status_code == 204
    assert list(stage.steps.values_list("pk", "order")) == [(two.pk, 0)]


def test_an_archived_playbooks_steps_are_read_only(api, maria, playbook):
    step = building.step_add(stage=first_stage(playbook), by=maria)
    lifecycle.playbook_archive(playbook=playbook, by=maria)

    response = api(maria).patch(f"{STEPS}{step.pk}/", {"day_offset": 4}, format="json")

    assert error_of(response, 400)["code"] == "locked"


@pytest.mark.parametrize("who", ["diana", "alice"])
def test_directors_and_reps_only_read_the_plan(api, playbook, who, request):
    client = api(request.getfixturevalue(who))
    stage = first_stage(playbook)

    assert client.get(f"{STAGES}{stage.pk}/").status_code == 200
    error_of(client.post(STEPS, {"stage": stage.pk}, format="json"), 403)
    error_of(client.delete(f"{STAGES}{stage.pk}/"), 403)


@pytest.mark.parametrize("count", [3, 30])
def test_stage_and_step_lists_take_flat_queries(api, maria, count, django_assert_max_num_queries):
    for n in range(count):
        playbook = building.playbook_create(name=f"P{n}", by=maria)
        building.step_add(stage=first_stage(playbook), by=maria)
    client = api(maria)

    with django_assert_max_num_queries(2):
        stages = client.get(STAGES, {"page_size": 500})
    with django_assert_max_num_queries(2):
        steps = client.get(STEPS, {"page_size": 500})

    assert len(ids(stages)) >= 4 * count
    assert len(ids(steps)) >= count


def test_filters_narrow_stages_and_steps(api, maria, playbook):
    step = building.step_add(stage=first_stage(playbook), by=maria, channel="phone")
    client = api(maria)

    assert len(ids(client.get(STAGES, {"playbook": playbook.pk}))) == 4
    assert ids(client.get(STEPS, {"playbook": playbook.pk, "channel": "phone"})) == [step.pk]
    assert "channel" in error_of(client.get(STEPS, {"channel": "pigeon"}), 400)["fields"]
