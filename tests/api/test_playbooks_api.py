"""/api/playbooks/: the plan with its stages and steps, its status flow, cloning and enrolling."""

import pytest

from playbooks import building, lifecycle
from playbooks.api_serializers import STEP_FIELDS
from playbooks.models import Enrolment, EnrolmentStatus, Playbook, PlaybookStatus, Step
from tests.api.api_calls import error_of, ids
from tests.factories import AccountFactory, GoalFactory

URL = "/api/playbooks/"
OURS = {"is_starter": "false"}  # the three starter templates come with the database


def draft(by, name="Tier 1 land", **fields) -> Playbook:
    return building.playbook_create(name=name, by=by, audience_tiers=[1], **fields)


def with_step(playbook: Playbook, by) -> Playbook:
    building.step_add(stage=playbook.stages.order_by("order").first(), by=by, subject="Hi")
    return playbook


def active(by, **fields) -> Playbook:
    return lifecycle.playbook_activate(playbook=with_step(draft(by, **fields), by), by=by)


def test_step_fields_are_what_a_step_model_holds_that_people_edit():
    editable = {f.name for f in Step._meta.get_fields() if getattr(f, "editable", False)}
    assert set(STEP_FIELDS) <= editable
    assert editable - set(STEP_FIELDS) <= {"id", "stage", "order", "created_at", "updated_at"}


def test_it_lists_playbooks_with_stages_and_steps_in_order(api, maria, alice):
    playbook = with_step(draft(maria), maria)
    building.step_add(stage=playbook.stages.get(order=0), by=maria, channel="phone")

    response = api(alice).get(URL, OURS)

    assert ids(response) == [playbook.pk]
    body = response.json()["results"][0]
    assert [s["name"] for s in body["stages"]] == ["Find", "Nurture", "Convert", "Retain"]
    assert [s["channel"] for s in body["stages"][0]["steps"]] == ["email", "phone"]
    assert body["status"] == "draft"
    assert body["owner"] == maria.pk


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_takes_the_same_queries_for_3_or_30_playbooks(
    api, maria, count, django_assert_max_num_queries
):
    for n in range(count):
        with_step(draft(maria, name=f"Playbook {n}"), maria)
    client = api(maria)

    # count, page, stages, steps
    with django_assert_max_num_queries(4):
        response = client.get(URL, {**OURS, "page_size": 100})

    assert len(ids(response)) == count


def test_a_marketer_creates_a_draft_with_the_default_stages(api, maria):
    goal = GoalFactory(owner=maria)

    response = api(maria).post(
        URL,
        {
            "name": " ABM for fintech ",
            "audience_tiers": [1, 2],
            "audience_industries": ["Fintech"],
            "audience_filter": {"fit_min": "70"},
            "budget": "5000",
            "goal": goal.pk,
            "holdout_share": 0.2,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    playbook = Playbook.objects.get(pk=body["id"])
    assert (playbook.name, playbook.status, playbook.owner) == ("ABM for fintech", "draft", maria)
    assert (playbook.audience_tiers, playbook.audience_filter) == ([1, 2], {"fit_min": "70"})
    assert (playbook.goal, playbook.holdout_share) == (goal, 0.2)
    assert len(body["stages"]) == 4


@pytest.mark.parametrize("who", ["diana", "alice"])
def test_directors_and_reps_may_not_create_playbooks(api, who, request):
    user = request.getfixturevalue(who)

    error = error_of(api(user).post(URL, {"name": "Mine"}, format="json"), 403)

    assert error["code"] == "permission_denied"
    assert not Playbook.objects.filter(is_starter=False).exists()


def test_a_write_naming_an_unseen_goal_is_a_400(api, maria):
    error = error_of(api(maria).post(URL, {"name": "X", "goal": 999999}, format="json"), 400)

    assert error["fields"] == {"goal": ["There is no goal 999999 that you can see."]}


def test_a_bad_saved_filter_is_a_400_naming_it(api, maria):
    playbook = draft(maria)

    response = api(maria).patch(
        f"{URL}{playbook.pk}/", {"audience_filter": {"shoe_size": "9"}}, format="json"
    )

    error = error_of(response, 400)
    assert "shoe_size" in error["fields"]["audience_filter"][0]


def test_it_updates_details_and_audience_together(api, maria):
    playbook = draft(maria)

    response = api(maria).patch(
        f"{URL}{playbook.pk}/",
        {"name": "Renamed", "audience_industries": ["Software"], "budget": "1200.50"},
        format="json",
    )

    assert response.status_code == 200, response.content
    playbook.refresh_from_db()
    assert playbook.name == "Renamed"
    assert playbook.audience_tiers == [1]  # kept: not sent
    assert playbook.audience_industries == ["Software"]
    assert str(playbook.budget) == "1200.50"


def test_an_archived_playbook_is_read_only(api, maria):
    playbook = lifecycle.playbook_archive(playbook=draft(maria), by=maria)

    response = api(maria).patch(f"{URL}{playbook.pk}/", {"name": "Again"}, format="json")

    error = error_of(response, 400)
    assert error["code"] == "locked"
    assert "clone it" in error["message"]


def test_only_drafts_are_deleted(api, maria):
    client = api(maria)
    gone, running = draft(maria), active(maria)

    assert client.delete(f"{URL}{gone.pk}/").status_code == 204
    error = error_of(client.delete(f"{URL}{running.pk}/"), 400)

    assert "Archive it instead" in error["message"]
    assert list(Playbook.objects.filter(is_starter=False)) == [running]


def test_activation_lists_what_is_missing_then_the_status_flows(api, maria):
    client = api(maria)
    playbook = draft(maria)

    error = error_of(client.post(f"{URL}{playbook.pk}/activate/"), 400)
    assert "Add at least one step" in error["message"]

    with_step(playbook, maria)
    flow = [("activate", "active"), ("pause", "paused"), ("activate", "active")]
    for name, status in flow:
        response = client.post(f"{URL}{playbook.pk}/{name}/")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == status
    assert client.post(f"{URL}{playbook.pk}/archive/").json()["status"] == "archived"
    error = error_of(client.post(f"{URL}{playbook.pk}/pause/"), 400)
    assert error["code"] == "transition"


def test_a_director_may_not_change_a_playbooks_status(api, maria, diana):
    playbook = with_step(draft(maria), maria)

    error_of(api(diana).post(f"{URL}{playbook.pk}/activate/"), 403)

    playbook.refresh_from_db()
    assert playbook.status == PlaybookStatus.DRAFT


def test_clone_makes_a_draft_copy_of_the_plan(api, maria):
    source = active(maria)

    response = api(maria).post(f"{URL}{source.pk}/clone/", {}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["status"]) == (f"{source.name} (copy)", "draft")
    assert [len(stage["steps"]) for stage in body["stages"]] == [1, 0, 0, 0]


def test_enrol_takes_the_listed_accounts(api, maria):
    playbook = draft(maria, holdout_share=0)
    accounts = AccountFactory.create_batch(3)
    client = api(maria)

    first = client.post(
        f"{URL}{playbook.pk}/enrol/", {"accounts": [a.pk for a in accounts[:2]]}, format="json"
    )
    again = client.post(
        f"{URL}{playbook.pk}/enrol/", {"accounts": [a.pk for a in accounts]}, format="json"
    )

    assert first.status_code == 200, first.content
    counts = {key: first.json()[key] for key in ("enrolled", "holdout", "already", "tasks_run")}
    assert counts == {"enrolled": 2, "holdout": 0, "already": 0, "tasks_run": None}  # a draft
    assert "no lift can be measured" in first.json()["warning"]
    assert (again.json()["enrolled"], again.json()["already"]) == (1, 2)
    assert Enrolment.objects.filter(playbook=playbook, status=EnrolmentStatus.ACTIVE).count() == 3


def test_enrol_names_the_accounts_you_may_not_see(api, maria):
    playbook = draft(maria)
    account = AccountFactory()

    response = api(maria).post(
        f"{URL}{playbook.pk}/enrol/", {"accounts": [account.pk, 999998, 999999]}, format="json"
    )

    error = error_of(response, 400)
    assert error["fields"]["accounts"] == ["There are no accounts 999998, 999999 that you can see."]
    assert not Enrolment.objects.exists()


def test_enrol_audience_takes_the_matching_accounts(api, maria):
    playbook = draft(maria, holdout_share=0)
    AccountFactory.create_batch(2, tier=1)
    AccountFactory(tier=3)

    response = api(maria).post(f"{URL}{playbook.pk}/enrol/", {"audience": True}, format="json")

    assert response.json()["enrolled"] == 2


@pytest.mark.parametrize(
    "body", [{}, {"audience": False}, {"accounts": [1], "audience": True}, {"accounts": "all"}]
)
def test_enrol_needs_accounts_or_the_audience(api, maria, body):
    playbook = draft(maria)

    error_of(api(maria).post(f"{URL}{playbook.pk}/enrol/", body, format="json"), 400)


def test_an_archived_playbook_takes_no_accounts(api, maria):
    playbook = lifecycle.playbook_archive(playbook=draft(maria), by=maria)

    response = api(maria).post(
        f"{URL}{playbook.pk}/enrol/", {"accounts": [AccountFactory().pk]}, format="json"
    )

    assert error_of(response, 400)["code"] == "locked"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"owner": "me"}, "owner"),
        ({"is_starter": "maybe"}, "is_starter"),
        ({"ordering": "x"}, None),
    ],
)
def test_bad_filter_values_are_400s(api, maria, params, field):
    draft(maria)

    response = api(maria).get(URL, params)

    if field is None:  # an unknown ordering is ignored, as DRF does
        assert response.status_code == 200
    else:
        assert field in error_of(response, 400)["fields"]


def test_filters_narrow_the_list(api, maria):
    running, _ = active(maria), draft(maria, name="Later")

    assert ids(api(maria).get(URL, {**OURS, "status": "active"})) == [running.pk]


def test_an_unknown_playbook_is_a_404(api, maria):
    assert error_of(api(maria).get(f"{URL}999999/"), 404)["code"] == "not_found"
