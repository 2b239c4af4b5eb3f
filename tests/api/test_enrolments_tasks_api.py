"""/api/enrolments/ and /api/tasks/: scoped to the caller's accounts, changed by the services."""

import datetime as dt

import pytest
from django.utils import timezone

from playbooks import building, lifecycle
from playbooks.enrolment import enrol_accounts
from playbooks.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    Playbook,
    Task,
    TaskStatus,
)
from playbooks.tasking import generate_due_tasks
from tests.api.api_calls import error_of, ids
from tests.factories import AccountFactory

ENROLMENTS, TASKS = "/api/enrolments/", "/api/tasks/"


def running_playbook(maria, name="Land") -> Playbook:
    """Active, no holdout, a sales call and a marketing email due on entering the first stage."""
    playbook = building.playbook_create(name=name, by=maria, holdout_share=0)
    stage = playbook.stages.order_by("order").first()
    building.step_add(
        stage=stage, by=maria, channel="phone", owner_role="sales", day_offset=0, subject="Call"
    )
    building.step_add(
        stage=stage, by=maria, channel="email", owner_role="marketing", day_offset=0, subject="Hi"
    )
    return lifecycle.playbook_activate(playbook=playbook, by=maria)


@pytest.fixture
def book(alice, bob, maria):
    acme, globex = AccountFactory(owner=alice), AccountFactory(owner=bob)
    playbook = running_playbook(maria)
    enrol_accounts(playbook=playbook, account_ids=[acme.pk, globex.pk], by=maria)
    generate_due_tasks(now=timezone.now() + dt.timedelta(minutes=1))
    return {"acme": acme, "globex": globex, "playbook": playbook}


def task(account, owner_role="sales") -> Task:
    return Task.objects.get(account=account, owner_role=owner_role)


# --- Enrolments ----------------------------------------------------------------------------------


def test_a_rep_sees_only_their_accounts_enrolments(api, alice, book):
    client = api(alice)
    theirs = Enrolment.objects.get(account=book["globex"])

    assert ids(client.get(ENROLMENTS)) == [Enrolment.objects.get(account=book["acme"]).pk]
    assert error_of(client.get(f"{ENROLMENTS}{theirs.pk}/"), 404)["code"] == "not_found"


def test_a_marketer_enrols_one_account_once(api, maria, book):
    client = api(maria)
    account = AccountFactory()
    body = {"account": account.pk, "playbook": book["playbook"].pk}

    created = client.post(ENROLMENTS, body, format="json")
    again = client.post(ENROLMENTS, body, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["status"] == "active"
    assert created.json()["current_stage"] == book["playbook"].stages.get(order=0).pk
    assert "already enrolled" in error_of(again, 400)["fields"]["account"][0]


def test_enrolling_an_unseen_account_is_a_400_naming_it(api, maria, book):
    response = api(maria).post(
        ENROLMENTS, {"account": 999999, "playbook": book["playbook"].pk}, format="json"
    )

    assert error_of(response, 400)["fields"] == {
        "account": ["There is no account 999999 that you can see."]
    }


@pytest.mark.parametrize("who", ["diana", "alice"])
def test_directors_and_reps_do_not_enrol_or_unenrol(api, book, who, request):
    client = api(request.getfixturevalue(who))
    mine = Enrolment.objects.get(account=book["acme"])

    error_of(client.post(ENROLMENTS, {"account": book["acme"].pk}, format="json"), 403)
    error_of(client.delete(f"{ENROLMENTS}{mine.pk}/"), 403)


def test_delete_unenrols_and_skips_open_tasks(api, maria, book):
    enrolment = Enrolment.objects.get(account=book["acme"])
    client = api(maria)

    assert client.delete(f"{ENROLMENTS}{enrolment.pk}/").status_code == 204
    assert client.delete(f"{ENROLMENTS}{enrolment.pk}/").status_code == 204  # no change

    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.EXITED
    assert set(enrolment.tasks.values_list("status", flat=True)) == {TaskStatus.SKIPPED}
    assert client.get(f"{ENROLMENTS}{enrolment.pk}/").json()["status"] == "exited"


def test_a_completed_enrolment_cannot_be_left(api, maria, book):
    enrolment = Enrolment.objects.get(account=book["acme"])
    Enrolment.objects.filter(pk=enrolment.pk).update(status=EnrolmentStatus.COMPLETED)

    assert error_of(api(maria).delete(f"{ENROLMENTS}{enrolment.pk}/"), 400)["code"] == "completed"


def test_enrolment_filters(api, maria, book):
    client = api(maria)
    acme = Enrolment.objects.get(account=book["acme"])

    assert ids(client.get(ENROLMENTS, {"account": book["acme"].pk})) == [acme.pk]
    assert len(ids(client.get(ENROLMENTS, {"playbook": book["playbook"].pk}))) == 2
    assert ids(client.get(ENROLMENTS, {"status": "holdout"})) == []
    assert "status" in error_of(client.get(ENROLMENTS, {"status": "gone"}), 400)["fields"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_enrolment_list_takes_flat_queries(api, maria, count, django_assert_max_num_queries):
    playbook = running_playbook(maria)
    enrol_accounts(
        playbook=playbook, account_ids=[a.pk for a in AccountFactory.create_batch(count)], by=maria
    )
    client = api(maria)

    with django_assert_max_num_queries(2):
        response = client.get(ENROLMENTS, {"page_size": 100})

    assert len(ids(response)) == count


# --- Tasks ---------------------------------------------------------------------------------------


def test_a_rep_sees_the_tasks_of_their_accounts(api, alice, book):
    client = api(alice)

    mine = set(Task.objects.filter(account=book["acme"]).values_list("pk", flat=True))
    assert set(ids(client.get(TASKS))) == mine
    assert error_of(client.get(f"{TASKS}{task(book['globex']).pk}/"), 404)["code"] == "not_found"


def test_a_rep_completes_their_task_once(api, alice, book):
    call = task(book["acme"])
    client = api(alice)

    done = client.post(f"{TASKS}{call.pk}/complete/", {"notes": " Left a voicemail "}, "json")
    again = client.post(f"{TASKS}{call.pk}/complete/", {}, format="json")

    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["task"]["status"], body["task"]["completed_by"]) == ("done", alice.pk)
    assert body["task"]["playbook"] == book["playbook"].pk
    activity = Activity.objects.get(pk=body["activity"]["id"])
    assert (activity.kind, activity.notes, activity.step_id) == (
        "call_attempt",
        "Left a voicemail",
        call.step_id,
    )
    assert again.json()["activity"]["id"] == activity.pk
    assert Activity.objects.count() == 1


def test_a_rep_does_not_act_on_tasks_assigned_to_others(api, alice, book):
    client = api(alice)
    marketing = task(book["acme"], "marketing")  # on alice's account, assigned to maria

    assert error_of(client.post(f"{TASKS}{marketing.pk}/skip/"), 403)["code"] == (
        "permission_denied"
    )
    error_of(client.post(f"{TASKS}{task(book['globex']).pk}/complete/"), 404)
    marketing.refresh_from_db()
    assert marketing.status == TaskStatus.OPEN


def test_a_director_does_not_act_on_tasks(api, diana, book):
    error_of(api(diana).post(f"{TASKS}{task(book['acme']).pk}/complete/"), 403)


def test_a_marketer_may_complete_anyones_task(api, maria, book):
    response = api(maria).post(f"{TASKS}{task(book['globex']).pk}/complete/")

    assert response.status_code == 200, response.content
    assert response.json()["task"]["completed_by"] == maria.pk


def test_skipped_and_done_tasks_stay_as_they_are(api, alice, book):
    client = api(alice)
    call = task(book["acme"])

    skipped = client.post(f"{TASKS}{call.pk}/skip/")
    completing = client.post(f"{TASKS}{call.pk}/complete/")

    assert skipped.json()["status"] == "skipped"
    assert error_of(completing, 400)["code"] == "skipped"
    Task.objects.filter(pk=call.pk).update(status=TaskStatus.DONE)
    assert error_of(client.post(f"{TASKS}{call.pk}/skip/"), 400)["code"] == "done"


def test_task_filters(api, maria, alice, book):
    client = api(maria)
    now = timezone.now()
    call = task(book["acme"])

    assert ids(client.get(TASKS, {"assignee": alice.pk})) == [call.pk]
    assert ids(client.get(TASKS, {"account": book["acme"].pk, "owner_role": "sales"})) == [call.pk]
    assert len(ids(client.get(TASKS, {"playbook": book["playbook"].pk, "status": "open"}))) == 4
    later = (now + dt.timedelta(days=1)).isoformat()
    assert ids(client.get(TASKS, {"due_after": later})) == []
    assert len(ids(client.get(TASKS, {"due_before": later}))) == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"due_before": "tomorrow"}, "due_before"),
        ({"status": "late"}, "status"),
        ({"assignee": "x"}, "assignee"),
    ],
)
def test_bad_task_filters_are_400s(api, maria, params, field):
    assert field in error_of(api(maria).get(TASKS, params), 400)["fields"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_task_list_takes_flat_queries(api, maria, alice, count, django_assert_max_num_queries):
    playbook = running_playbook(maria)
    accounts = AccountFactory.create_batch(count, owner=alice)
    enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts], by=maria)
    generate_due_tasks(now=timezone.now() + dt.timedelta(minutes=1))
    client = api(alice)

    with django_assert_max_num_queries(2):
        response = client.get(TASKS, {"page_size": 100})

    assert len(ids(response)) == 2 * count
