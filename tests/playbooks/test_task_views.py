"""My tasks: the filtered, paged list with its due windows, closing one task, closing many."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from abm.models import Job, RunKind, RunStatus
from playbooks.building import playbook_create, step_add
from playbooks.enrolment import enrol_accounts
from playbooks.lifecycle import playbook_activate
from playbooks.models import Activity, Task
from playbooks.tasking import generate_due_tasks
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def users(alice, bob, maria, diana, root):
    return {"alice": alice, "bob": bob, "maria": maria, "diana": diana, "root": root}


@pytest.fixture
def plan(maria, alice, bob):
    """An active tier-1 playbook with a sales call on day 0, enrolled at alice's and bob's accounts."""
    playbook = playbook_create(name="Tier 1 expansion", by=maria, audience_tiers=[1])
    find = playbook.stages.get(name="Find")
    call = step_add(
        stage=find,
        by=maria,
        channel="phone",
        owner_role="sales",
        subject="Call {{ contact.first_name }} at {{ account.name }}",
    )
    step_add(stage=find, by=maria, day_offset=0, subject="Benchmark for {{ account.name }}")
    acme = AccountFactory(name="Acme", owner=alice, tier=1)
    globex = AccountFactory(name="Globex", owner=bob, tier=1)
    ContactFactory(account=acme, first_name="Dana")
    ContactFactory(account=globex, first_name="Gus")
    playbook_activate(playbook=playbook, by=maria)
    enrol_accounts(playbook=playbook, account_ids=[acme.pk, globex.pk], seed=1)
    generate_due_tasks(now=timezone.now())
    return {"playbook": playbook, "call": call, "acme": acme, "globex": globex}


def spread(tasks, *, start: dt.datetime, step: dt.timedelta) -> None:
    for i, task in enumerate(sorted(tasks, key=lambda t: t.pk)):
        task.due_at = start + i * step
    Task.objects.bulk_update(tasks, ["due_at"])


@pytest.fixture
def volume(maria, alice):
    """210 of alice's open tasks from two playbooks (email and phone), due from 10 days ago on."""
    accounts = [AccountFactory(name=f"Volume {i:03}", owner=alice, tier=2) for i in range(105)]
    books = []
    for name, channel in (("Volume email", "email"), ("Volume calls", "phone")):
        book = playbook_create(name=name, by=maria, audience_tiers=[2])
        step_add(
            stage=book.stages.get(name="Find"),
            by=maria,
            channel=channel,
            owner_role="sales",
            subject=f"{name} for {{{{ account.name }}}}",
        )
        playbook_activate(playbook=book, by=maria)
        book.holdout_share = 0
        book.save()
        enrol_accounts(playbook=book, account_ids=[a.pk for a in accounts], seed=1)
        books.append(book)
    generate_due_tasks(now=timezone.now())
    tasks = list(Task.objects.filter(enrolment__playbook__in=books))
    now = timezone.now()
    spread(tasks, start=now - dt.timedelta(days=10), step=dt.timedelta(hours=2))
    return {"books": books, "tasks": tasks, "accounts": accounts}


def url(name, *args):
    return reverse(f"playbooks:{name}", args=args)


def listed(response) -> list[Task]:
    return response.context["rows"]


def windows(response) -> dict[str, int]:
    return {w.key: w.count for w in response.context["windows"]}


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- The list -----------------------------------------------------------------------------------


def test_a_rep_sees_their_task_with_its_message_and_account_context(client, alice, plan):
    client.force_login(alice)

    response = client.get(url("tasks"))

    assert [t.subject for t in listed(response)] == ["Call Dana at Acme"]
    html = response.content.decode()
    assert "Engagement" in html
    assert "T1" in html
    assert reverse("accounts:detail", args=[plan["acme"].pk]) in html


def test_tasks_due_earlier_today_are_due_today_not_overdue(client, alice, plan):
    task = Task.objects.get(account=plan["acme"], step=plan["call"])
    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    Task.objects.filter(pk=task.pk).update(due_at=start_of_today + dt.timedelta(seconds=1))
    client.force_login(alice)

    assert windows(client.get(url("tasks"))) == {"overdue": 0, "today": 1, "week": 0, "later": 0}


def test_the_list_pages_fifty_tasks_at_a_time_most_urgent_first(client, alice, volume):
    client.force_login(alice)

    first = client.get(url("tasks"))
    third = client.get(url("tasks"), {"page": 3})
    past_the_end = client.get(url("tasks"), {"page": 9})

    assert len(listed(first)) == 50
    assert first.context["page"].paginator.count == 210
    due = [t.due_at for t in listed(first)]
    assert due == sorted(due)
    assert len(listed(third)) == 50
    assert listed(third)[0].due_at > listed(first)[-1].due_at
    assert "There is no page 9" in past_the_end.content.decode()
    assert "1–50 of 210 tasks" in first.content.decode()


def test_the_window_counts_add_up_to_the_total_under_the_other_filters(client, alice, volume):
    client.force_login(alice)
    calls = volume["books"][1]

    unfiltered = windows(client.get(url("tasks")))
    only_calls = client.get(url("tasks"), {"playbook": calls.pk})

    assert sum(unfiltered.values()) == 210
    assert all(unfiltered.values())  # the spread reaches every window
    assert sum(windows(only_calls).values()) == 105
    assert only_calls.context["page"].paginator.count == 105
    assert {t.channel for t in listed(only_calls)} == {"phone"}


@pytest.mark.parametrize("due", ["overdue", "today", "week", "later"])
def test_a_due_window_lists_exactly_the_tasks_it_counts(client, alice, volume, due):
    client.force_login(alice)

    response = client.get(url("tasks"), {"due": due})

    counted = windows(response)[due]
    assert response.context["page"].paginator.count == counted
    shown = client.get(url("tasks"), {"due": due, "page": 1})
    assert len(listed(shown)) == min(50, counted)
    # The other windows keep their counts, so the tabs still add up to the total.
    assert sum(windows(response).values()) == 210


def test_filters_by_channel_account_and_due_dates_and_keep_them_in_the_links(client, alice, volume):
    client.force_login(alice)
    today = timezone.localdate()

    response = client.get(
        url("tasks"),
        {"channel": "email", "account": "volume 00", "from": str(today - dt.timedelta(days=10))},
    )

    rows = listed(response)
    assert rows
    assert all(t.channel == "email" and t.account.name.startswith("Volume 00") for t in rows)
    assert len(rows) == 10  # Volume 000-009
    html = response.content.decode()
    assert "Channel: Email" in html
    assert "channel=email" in response.context["windows"][0].query


def test_a_date_range_narrows_every_window(client, alice, volume):
    client.force_login(alice)
    today = timezone.localdate()

    response = client.get(url("tasks"), {"from": str(today), "to": str(today)})

    counts = windows(response)
    assert counts["overdue"] == counts["week"] == counts["later"] == 0
    assert counts["today"] == response.context["page"].paginator.count > 0


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"due": "yesterday"}, "is not a due window"),
        ({"playbook": "abc"}, "“Playbook” was ignored"),
        ({"playbook": "999999"}, "“Playbook” was ignored"),
        ({"channel": "pigeon"}, "“pigeon” is not a channel"),
        ({"from": "31/12/2025"}, "use a date as YYYY-MM-DD"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "both were ignored"),
        ({"page": "last"}, "is not a page number"),
        ({"account": "x" * 500}, "“Account” was ignored"),
    ],
)
def test_a_bad_filter_is_named_and_ignored_never_an_error(client, alice, volume, params, problem):
    client.force_login(alice)

    response = client.get(url("tasks"), params)

    assert response.status_code == 200
    assert problem in response.content.decode()
    assert response.context["page"].paginator.count == 210


def test_no_tasks_at_all_says_how_to_get_some(client, maria):
    client.force_login(maria)

    html = client.get(url("tasks")).content.decode()

    assert "No open tasks" in html
    assert "Enrol accounts in an active playbook to get tasks" in html


def test_filters_that_match_nothing_offer_to_clear_them(client, alice, plan):
    client.force_login(alice)

    html = client.get(url("tasks"), {"channel": "webinar"}).content.decode()

    assert "No tasks match these filters" in html
    assert "Clear filters" in html


def test_an_empty_window_points_to_the_others(client, alice, plan):
    client.force_login(alice)

    html = client.get(url("tasks"), {"due": "later"}).content.decode()

    assert "Nothing due later" in html
    assert "Show all 1" in html


# --- Who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "subjects"),
    [
        ("alice", {"Call Dana at Acme"}),
        ("bob", {"Call Gus at Globex"}),
        ("maria", {"Benchmark for Acme", "Benchmark for Globex"}),
        (
            "diana",
            {
                "Call Dana at Acme",
                "Call Gus at Globex",
                "Benchmark for Acme",
                "Benchmark for Globex",
            },
        ),
    ],
)
def test_reps_and_marketers_see_their_own_tasks_directors_everyones(
    client, users, plan, username, subjects
):
    client.force_login(users[username])

    response = client.get(url("tasks"))

    assert {t.subject for t in listed(response)} == subjects
    assert sum(windows(response).values()) == len(subjects)


def test_a_director_reads_but_gets_no_bulk_bar_or_buttons(client, diana, plan):
    client.force_login(diana)

    html = client.get(url("tasks")).content.decode()

    assert 'data-testid="task-bulk"' not in html
    assert 'name="ids"' not in html
    assert client.post(url("task_bulk"), {"ids": [1], "action": "complete"}).status_code == 403


# --- One task (htmx) ----------------------------------------------------------------------------


def test_completing_a_task_records_an_activity_linked_to_the_step(client, alice, plan):
    task = Task.objects.get(account=plan["acme"], step=plan["call"])
    client.force_login(alice)

    response = client.post(
        url("task_complete", task.pk),
        {"notes": "Left a voicemail"},
        HTTP_HX_CURRENT_URL="http://testserver/playbooks/tasks/?due=today",
        **HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Logged on" in html
    activity = Activity.objects.get(account=plan["acme"])
    assert (activity.step, activity.notes, activity.kind) == (
        plan["call"],
        "Left a voicemail",
        "call_attempt",
    )
    assert activity.contact.first_name == "Dana"
    # The tabs are swapped in out of band, their counts moved and the page's window still selected.
    assert (
        'id="task-windows" aria-label="Due window" data-testid="task-windows" hx-swap-oob="true"'
        in html
    )
    assert 'data-window="today">Due today <strong>0</strong>' in html
    assert 'is-selected" href="?due=today"' in html
    task.refresh_from_db()
    assert (task.status, task.completed_by, task.note) == ("done", alice, "Left a voicemail")


def test_skipping_a_task_records_nothing_but_its_note(client, alice, plan):
    task = Task.objects.get(account=plan["acme"], step=plan["call"])
    client.force_login(alice)

    client.post(url("task_skip", task.pk), {"notes": "Wrong contact"}, **HTMX)

    task.refresh_from_db()
    assert (task.status, task.note) == ("skipped", "Wrong contact")
    assert not Activity.objects.exists()
    response = client.post(url("task_complete", task.pk), **HTMX)
    assert response.status_code == 422
    assert "was skipped" in response.content.decode()


@pytest.mark.parametrize("username", ["alice", "diana", "maria"])
def test_another_persons_task_is_a_404(client, users, plan, username):
    task = Task.objects.get(account=plan["globex"], step=plan["call"])
    client.force_login(users[username])

    assert client.post(url("task_complete", task.pk), **HTMX).status_code == 404
    assert client.post(url("task_skip", task.pk), **HTMX).status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def test_an_admin_may_complete_anyones_task(client, root, plan):
    task = Task.objects.get(account=plan["globex"], step=plan["call"])
    client.force_login(root)

    client.post(url("task_complete", task.pk))

    task.refresh_from_db()
    assert (task.status, task.completed_by) == ("done", root)


def test_completing_without_htmx_redirects_to_the_list(client, alice, plan):
    task = Task.objects.get(account=plan["acme"], step=plan["call"])
    client.force_login(alice)

    response = client.post(url("task_complete", task.pk))

    assert response.url == url("tasks")


# --- Many tasks ---------------------------------------------------------------------------------


def test_bulk_complete_closes_the_selected_tasks_with_the_note(client, alice, volume):
    client.force_login(alice)
    chosen = [t.pk for t in volume["tasks"][:30]]

    response = client.post(
        url("task_bulk"),
        {
            "ids": chosen,
            "action": "complete",
            "note": "Sent from the event list",
            "query": "channel=email&page=2",
        },
    )

    assert response.url == url("tasks") + "?channel=email"
    assert message_texts(response) == [
        "30 tasks completed with your note and logged on their accounts' timelines."
    ]
    done = Task.objects.filter(pk__in=chosen)
    assert set(done.values_list("status", "completed_by", "note")) == {
        ("done", alice.pk, "Sent from the event list")
    }
    activities = Activity.objects.filter(external_id__in=[f"task-{pk}" for pk in chosen])
    assert activities.count() == 30
    assert set(activities.values_list("notes", flat=True)) == {"Sent from the event list"}
    assert Task.objects.filter(assignee=alice, status="open").count() == 180


def test_bulk_skip_closes_without_activities(client, alice, volume):
    client.force_login(alice)
    chosen = [t.pk for t in volume["tasks"][:5]]

    response = client.post(
        url("task_bulk"), {"ids": chosen, "action": "skip", "note": "Out of budget"}
    )

    assert message_texts(response) == ["5 tasks skipped with your note."]
    assert set(Task.objects.filter(pk__in=chosen).values_list("status", "note")) == {
        ("skipped", "Out of budget")
    }
    assert not Activity.objects.exists()


def test_bulk_actions_twice_leave_closed_tasks_alone(client, alice, volume):
    client.force_login(alice)
    chosen = [t.pk for t in volume["tasks"][:4]]
    client.post(url("task_bulk"), {"ids": chosen[:2], "action": "skip"})
    client.post(url("task_bulk"), {"ids": chosen, "action": "complete"})

    again = client.post(url("task_bulk"), {"ids": chosen, "action": "complete"})

    assert message_texts(again)[-1] == "No tasks completed; 4 tasks were already closed."
    statuses = dict(Task.objects.filter(pk__in=chosen).values_list("pk", "status"))
    assert statuses == {
        chosen[0]: "skipped",
        chosen[1]: "skipped",
        chosen[2]: "done",
        chosen[3]: "done",
    }
    assert Activity.objects.count() == 2


def test_another_reps_task_ids_are_ignored_and_never_named(client, alice, bob, plan, volume):
    client.force_login(bob)
    alices = [t.pk for t in volume["tasks"][:3]]
    bobs = Task.objects.get(account=plan["globex"], step=plan["call"]).pk
    missing = max(t.pk for t in Task.objects.all()) + 100

    response = client.post(
        url("task_bulk"), {"ids": [*alices, bobs, missing], "action": "complete"}
    )

    assert message_texts(response) == [
        "1 task completed and logged on their accounts' timelines; "
        "4 tasks were not yours or no longer open."
    ]
    assert Task.objects.filter(pk__in=alices, status="open").count() == 3
    assert Task.objects.get(pk=bobs).status == "done"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"action": "complete"}, "Select at least one task first."),
        ({"ids": ["1", "x"], "action": "complete"}, "“x” is not a task id."),
        ({"ids": ["1"], "action": "delete"}, "Choose Complete or Skip."),
        ({"ids": ["1"]}, "Choose Complete or Skip."),
        ({"ids": [str(i) for i in range(1, 502)], "action": "skip"}, "Select at most 500 tasks"),
        ({"ids": ["1"], "action": "skip", "note": "n" * 2001}, "Keep the note under 2,000"),
    ],
)
def test_a_bad_bulk_request_says_what_is_wrong(client, alice, plan, data, error):
    client.force_login(alice)

    response = client.post(url("task_bulk"), {**data, "query": "due=today"})

    assert response.status_code == 302
    assert response.url == url("tasks") + "?due=today"
    assert any(error in text for text in message_texts(response))
    assert not Task.objects.exclude(status="open").exists()


def test_the_bulk_redirect_never_leaves_the_site(client, alice, plan):
    client.force_login(alice)
    task = Task.objects.get(account=plan["acme"], step=plan["call"])

    response = client.post(
        url("task_bulk"), {"ids": [task.pk], "action": "skip", "query": "//evil.example/x"}
    )

    assert response.url.startswith(url("tasks"))


# --- Cost ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "diana", "root"])
def test_the_list_reads_a_constant_number_of_queries_at_200_tasks(
    client, users, volume, django_assert_max_num_queries, username
):
    client.force_login(users[username])
    params = {"channel": "phone", "account": "Volume", "due": "overdue", "page": "2"}

    # session, user, the playbook choices, the window counts, the page's rows
    with django_assert_max_num_queries(5):
        response = client.get(url("tasks"))
    with django_assert_max_num_queries(5):
        client.get(url("tasks"), params)

    assert response.status_code == 200


def test_a_bulk_request_reads_the_same_queries_for_20_tasks_as_for_200(client, alice, volume):
    client.force_login(alice)
    tasks = [t.pk for t in volume["tasks"]]

    def queries(ids) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            client.post(url("task_bulk"), {"ids": ids, "action": "complete", "note": "Done"})
        # The activities' INSERT is split only by the driver's limit on parameters per statement.
        return [
            q["sql"] for q in captured if "INSERT" not in q["sql"] or "activity" not in q["sql"]
        ]

    # As if the worker ran the enrolment's recompute: each bulk then queues its own.
    Job.objects.update(status=RunStatus.DONE)
    setup = Job.objects.order_by("pk").last().pk
    few = queries(tasks[:20])
    Job.objects.update(status=RunStatus.DONE)
    many = queries(tasks[20:220])

    assert len(few) == len(many) <= 14
    assert Activity.objects.count() == 210
    # One recompute per request, however many tasks it closed.
    recomputes = Job.objects.filter(kind=RunKind.INCREMENTAL, pk__gt=setup).order_by("pk")
    assert list(recomputes.values_list("kind", "params")) == [
        (RunKind.INCREMENTAL, {"reason": "20 tasks completed"}),
        (RunKind.INCREMENTAL, {"reason": "190 tasks completed"}),
    ]
