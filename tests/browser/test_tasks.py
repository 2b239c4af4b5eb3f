"""A rep with hundreds of tasks filters them, selects a page and completes it with a note."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from playbooks.building import playbook_create, step_add
from playbooks.enrolment import enrol_accounts
from playbooks.lifecycle import playbook_activate
from playbooks.models import Activity, Task
from playbooks.tasking import generate_due_tasks
from tests.factories import AccountFactory

# Completing tasks queues an incremental run; these tests look at the tasks, not at its figures.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("queued_tasks")]


@pytest.fixture
def workload(maria, alice, bob):
    """Alice: 120 open tasks from two playbooks (email and calls), 60 accounts, due from 8 days
    ago on; bob: one call of his own."""
    accounts = [AccountFactory(name=f"Northwind {i:02}", owner=alice, tier=2) for i in range(60)]
    accounts.append(AccountFactory(name="Bob's Lead", owner=bob, tier=2))
    books = {}
    for name, channel in (("Spring launch", "email"), ("Exec calls", "phone")):
        book = playbook_create(name=name, by=maria, audience_tiers=[2])
        step_add(
            stage=book.stages.get(name="Find"),
            by=maria,
            channel=channel,
            owner_role="sales",
            day_offset=0,
            subject=f"{name}: {{{{ account.name }}}}",
        )
        book.holdout_share = 0
        book.save()
        playbook_activate(playbook=book, by=maria)
        enrol_accounts(playbook=book, account_ids=[a.pk for a in accounts], seed=1)
        books[name] = book
    generate_due_tasks(now=timezone.now())
    # The playbooks alternate and the dates start at a midnight, so each playbook has overdue
    # and upcoming tasks whatever the time of day the test runs.
    tasks = list(
        Task.objects.filter(assignee=alice).order_by("enrolment__account_id", "enrolment__playbook")
    )
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    start -= dt.timedelta(days=8)
    for i, task in enumerate(tasks):
        task.due_at = start + dt.timedelta(hours=3 * i)
    Task.objects.bulk_update(tasks, ["due_at"])
    return books


def _shot(screenshot, page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, name)
    # The first screenful too: a page of 50 tasks is too tall to read in the full-page shot.
    page.screenshot(path=str(path.with_name(f"{name}_top.png")))


def test_a_rep_filters_selects_a_page_and_completes_it_with_a_note(
    page, live_server, login, screenshot, console_errors, alice, workload
):
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/playbooks/tasks/")
    windows = page.get_by_test_id("task-windows")
    expect(windows.locator('[data-window="all"]')).to_contain_text("120")
    expect(page.get_by_test_id("task")).to_have_count(50)
    expect(page.get_by_text("1–50 of 120 tasks")).to_be_visible()
    _shot(screenshot, page, "tasks_1280")

    # Filter to the calls that are overdue: the choices live in the URL.
    page.get_by_label("Playbook").select_option(label="Exec calls")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"playbook=\d+"))
    page.locator('[data-window="overdue"]').click()
    expect(page).to_have_url(re.compile(r"due=overdue"))
    overdue = Task.objects.filter(
        assignee=alice,
        status="open",
        enrolment__playbook=workload["Exec calls"],
        due_at__lt=timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0),
    )
    expected = overdue.count()
    assert 0 < expected <= 50
    rows = page.get_by_test_id("task")
    expect(rows).to_have_count(expected)
    for text in rows.all_inner_texts():
        assert "Exec calls" in text
    expect(page.get_by_test_id("filter-chips")).to_contain_text("Playbook: Exec calls")

    bulk = page.get_by_test_id("task-bulk")
    expect(bulk.get_by_role("button", name="Complete")).to_be_disabled()
    bulk.get_by_label("Select all on this page").check()
    expect(bulk).to_contain_text(f"{expected} selected")
    bulk.get_by_label("Note for the selected tasks").fill("Called from the conference list")
    bulk.get_by_role("button", name="Complete").click()

    expect(page.locator(".messages")).to_contain_text(f"{expected} tasks completed with your note")
    expect(page).to_have_url(re.compile(r"due=overdue"))
    expect(page.get_by_test_id("tasks-empty")).to_contain_text("Nothing overdue")
    assert overdue.count() == 0
    done = Task.objects.filter(assignee=alice, status="done")
    assert done.count() == expected
    assert set(done.values_list("note", flat=True)) == {"Called from the conference list"}
    assert Activity.objects.filter(notes="Called from the conference list").count() == expected
    assert Task.objects.get(account__name="Bob's Lead", channel="phone").status == "open"
    assert console_errors == []


def test_the_task_list_works_at_390_px(page, live_server, login, screenshot, alice, workload):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/playbooks/tasks/?due=overdue")

    first = page.get_by_test_id("task").first
    first.get_by_role("checkbox").check()
    expect(page.get_by_test_id("task-bulk")).to_contain_text("1 selected")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    _shot(screenshot, page, "tasks_390")
    first.get_by_role("button", name="Skip").click()
    expect(page.get_by_test_id("task-done")).to_contain_text("Skipped")
    expect(page.get_by_test_id("task-bulk")).to_contain_text("None selected")
