"""A marketer builds, previews, activates and enrols a playbook; the rep completes the task."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account, Contact
from playbooks.models import Activity, Playbook, Step, Task
from playbooks.tasking import generate_due_tasks
from tests.factories import StageFactory, StepFactory

pytestmark = pytest.mark.browser


def _account(owner, name, tier, industry="Manufacturing", **extra) -> Account:
    return Account.objects.create(
        name=name,
        domain=name.lower().replace(" ", "") + ".com",
        industry=industry,
        country="United States",
        employees=2400,
        annual_revenue=Decimal(480_000_000),
        tier=tier,
        owner=owner,
        **extra,
    )


@pytest.fixture
def book(alice, bob, maria):
    # Targeted: both enter Find, the first stage (a later journey stage would skip it).
    acme = _account(alice, "Acme Robotics", 1, stage="targeted", engagement_score=24.5)
    brightline = _account(alice, "Brightline Health", 1, industry="Healthcare", stage="targeted")
    _account(bob, "Cobalt Logistics", 2, industry="Logistics")
    for first, last, title, seniority, role in [
        ("Dana", "Reyes", "Chief Operating Officer", "c_level", "decision_maker"),
        ("Sam", "Okafor", "VP Engineering", "vp", "champion"),
    ]:
        Contact.objects.create(
            account=acme,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@acmerobotics.com",
            title=title,
            seniority=seniority,
            buying_role=role,
        )
    Contact.objects.create(
        account=brightline,
        first_name="Priya",
        last_name="Shah",
        email="priya@brightlinehealth.com",
        title="CFO",
        seniority="c_level",
        buying_role="decision_maker",
    )
    return {"acme": acme, "brightline": brightline}


STEPS = [
    # stage index, channel, day, done by, subject, body
    (
        0,
        "phone",
        "0",
        "sales",
        "Call {{ contact.first_name }} at {{ account.name }}",
        "Open with the benchmark.",
    ),
    (
        0,
        "email",
        "3",
        "marketing",
        "The {{ account.industry }} benchmark",
        "Hi {{ contact.first_name }}, here is the benchmark we mentioned.",
    ),
    (
        1,
        "webinar",
        "0",
        "marketing",
        "Invitation: {{ account.industry }} round-table",
        "Hi {{ contact.first_name }}, join three peers for a 40-minute round-table.",
    ),
    (
        1,
        "linkedin",
        "5",
        "sales",
        "Connect with {{ contact.first_name }}",
        "Hi {{ contact.first_name }}, I look after {{ account.name }} at Keystone.",
    ),
    # Added out of order on purpose: the test moves the day-0 step up.
    (
        2,
        "email",
        "4",
        "sales",
        "Agenda for {{ account.name }}",
        "Hi {{ contact.first_name }}, here is a proposed agenda for our workshop.",
    ),
    (
        2,
        "sdr_outreach",
        "0",
        "sales",
        "Time with {{ owner.first_name }}?",
        "Hi {{ contact.first_name }}, would a short call next week help {{ account.name }}?",
    ),
]


def _shot(screenshot, page, name: str) -> None:
    # The top bar is sticky: scrolled, it would sit in the middle of a full-page screenshot.
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def _add_step(page, stage_index, channel, day, role, subject, body):
    page.get_by_test_id("stage").nth(stage_index).get_by_test_id("add-step").click()
    form = page.get_by_test_id("new-step-form")
    expect(form).to_be_visible()
    form.get_by_label("Channel").select_option(channel)
    form.get_by_label("Day", exact=True).fill(day)
    form.get_by_label("Done by").select_option(role)
    form.get_by_label("Subject").fill(subject)
    form.get_by_label("Body").fill(body)
    form.get_by_role("button", name="Add step").click()
    expect(page.get_by_test_id("new-step-form")).to_have_count(0)


def test_a_marketer_builds_and_runs_a_playbook_and_the_rep_completes_its_task(
    page, live_server, login, screenshot, book, alice, eager_tasks
):
    page.on("dialog", lambda dialog: dialog.accept())
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A refused form answers 422 on purpose (the browser logs it); anything else is a bug.
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "422" not in m.text else None,
    )
    login(page, live_server, "maria")

    # Create: a draft with the four default stages.
    page.goto(f"{live_server.url}/playbooks/")
    page.get_by_role("link", name="New playbook").click()
    _shot(screenshot, page, "playbook_new")
    page.get_by_label("Name").fill("Tier 1 expansion")
    page.get_by_label("Objective").fill("Open executive conversations at our strategic accounts.")
    page.get_by_label("Tier 1 (1:1)").check()
    page.get_by_role("button", name="Create playbook").click()
    expect(page.get_by_role("heading", name="Tier 1 expansion", level=1)).to_be_visible()
    expect(page.get_by_test_id("stage")).to_have_count(4)
    expect(page.get_by_test_id("audience-count")).to_have_text("2")
    expect(page.get_by_test_id("readiness")).to_contain_text("Add at least one step")

    # Audience: the count follows the checkboxes live.
    page.get_by_test_id("audience-form").get_by_label("Tier 2").check()
    expect(page.get_by_test_id("audience-count")).to_have_text("3")
    page.get_by_test_id("audience-form").get_by_label("Tier 2").uncheck()
    expect(page.get_by_test_id("audience-count")).to_have_text("2")

    # Stages: remove Retain, rename Convert (htmx, no reload).
    page.get_by_role("button", name="Remove Retain").click()
    expect(page.get_by_test_id("stage")).to_have_count(3)
    page.get_by_label("Stage 3 name").fill("Convert & expand")
    page.get_by_label("Stage 3 name").press("Tab")
    expect(page.get_by_test_id("stage").nth(2).locator(".save-state")).to_contain_text("Saved")

    # Steps: two per stage; the first body gets a merge field from the picker.
    first_stage, channel, day, role, subject, _ = STEPS[0]
    page.get_by_test_id("stage").nth(first_stage).get_by_test_id("add-step").click()
    form = page.get_by_test_id("new-step-form")
    form.get_by_label("Channel").select_option(channel)
    form.get_by_label("Day", exact=True).fill(day)
    form.get_by_label("Done by").select_option(role)
    form.get_by_label("Subject").fill("{{ account.owner.password }}")
    form.get_by_label("Body").fill("Hi ")
    form.get_by_label("Body").press("End")
    form.get_by_role("button", name="contact.first_name").click()
    form.get_by_label("Body").press("End")
    form.get_by_label("Body").type(", open with the benchmark for ")
    form.get_by_role("button", name="account.name").click()
    expect(form.get_by_label("Body")).to_have_value(
        "Hi {{ contact.first_name }}, open with the benchmark for {{ account.name }}"
    )
    expect(form.get_by_test_id("preview")).to_contain_text("Unknown merge field")
    form.get_by_role("button", name="Add step").click()
    form = page.get_by_test_id("new-step-form")
    expect(form.locator(".has-error .field-error")).to_contain_text("Unknown merge field")
    assert not Step.objects.filter(stage__playbook__name="Tier 1 expansion").exists()
    form.get_by_label("Subject").fill(subject)
    form.get_by_test_id("preview-account").select_option(label="Acme Robotics")
    expect(form.get_by_test_id("preview-subject")).to_have_text("Call Dana at Acme Robotics")
    expect(form.get_by_test_id("preview-body")).to_contain_text(
        "Hi Dana, open with the benchmark for Acme Robotics"
    )
    _shot(screenshot, page, "playbook_step_preview")
    form.get_by_role("button", name="Add step").click()
    expect(page.get_by_test_id("new-step-form")).to_have_count(0)
    for step in STEPS[1:]:
        _add_step(page, *step)
    expect(page.get_by_test_id("step")).to_have_count(6)
    expect(page.get_by_test_id("readiness")).to_contain_text("Ready to activate")
    convert = page.get_by_test_id("stage").nth(2)
    convert.get_by_test_id("step").nth(1).get_by_role("button", name="Move step up").click()
    expect(page.get_by_test_id("stage").nth(2).get_by_test_id("step").first).to_contain_text(
        "SDR outreach"
    )

    # Details autosave: no holdout, so both accounts get the playbook.
    page.get_by_label("Holdout share (%)").fill("0")
    page.get_by_label("Holdout share (%)").press("Tab")
    expect(page.locator("#details-state")).to_contain_text("Saved")

    # Everything survives a reload.
    page.reload()
    stages = page.get_by_test_id("stage")
    expect(stages).to_have_count(3)
    expect(page.get_by_label("Stage 3 name")).to_have_value("Convert & expand")
    expect(page.get_by_test_id("step")).to_have_count(6)
    expect(stages.nth(0).get_by_test_id("step").first).to_contain_text("Phone")
    expect(stages.nth(2).get_by_test_id("step").first).to_contain_text("SDR outreach")
    expect(page.get_by_label("Holdout share (%)")).to_have_value("0.0")
    expect(page.get_by_test_id("readiness")).to_contain_text("Ready to activate")
    _shot(screenshot, page, "playbook_builder")

    page.get_by_role("link", name="Cadence").click()
    expect(page.get_by_test_id("cadence-chart").locator(".main-svg").first).to_be_visible()
    _shot(screenshot, page, "playbook_cadence")

    page.get_by_role("link", name="Builder").click()
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_test_id("playbook-status")).to_have_text("Active")

    page.get_by_role("link", name=re.compile("^Enrolments")).click()
    expect(page.get_by_test_id("holdout-warning")).to_contain_text("No holdout share can give")
    page.get_by_role("button", name="Enrol 2 matching accounts").click()
    # The answer waits for the eager run and the director's views built after it.
    expect(page.get_by_test_id("enrolled-count")).to_have_text("2", timeout=30_000)
    expect(page.get_by_test_id("enrolment")).to_have_count(2)
    # Enrolling queued the task job (in-process here, eager_tasks); its progress says when done.
    progress = page.get_by_test_id("run-progress")
    expect(progress).to_have_attribute("data-status", "done")
    expect(progress).to_contain_text("Open My tasks")
    _shot(screenshot, page, "playbook_enrolments")

    # No beat, no other step: the day-0 sales call is already alice's task at each account.
    playbook = Playbook.objects.get(name="Tier 1 expansion")
    assert playbook.status == "active"
    assert set(Task.objects.values_list("assignee__username", flat=True)) == {"alice"}
    assert generate_due_tasks(now=timezone.now()) == 0

    page.get_by_role("button", name="Log out").click()
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/playbooks/tasks/")
    task = page.get_by_test_id("task").filter(has_text="Call Dana at Acme Robotics")
    expect(task).to_be_visible()
    # The card shows the score as the engine left it: enrolling queued a recompute (run in process
    # here), which scored Acme from its touches, not the fixture's hand-set 24.5.
    score = Account.objects.get(pk=book["acme"].pk).engagement_score
    expect(task).to_contain_text(f"Engagement {score:.1f}")
    task.get_by_text("Message").click()
    expect(task.get_by_test_id("task-message")).to_contain_text("Hi Dana")
    _shot(screenshot, page, "playbook_my_tasks")
    task.get_by_label(re.compile("^Notes")).fill("Dana asked for the benchmark by Friday")
    task.get_by_role("button", name="Complete").click()
    done = page.get_by_test_id("task-done")
    # The logged call queues a recompute: eager here, so the answer waits for it (as above).
    expect(done).to_contain_text("Done", timeout=30_000)
    _shot(screenshot, page, "playbook_task_done")

    done.get_by_role("link").click()
    activities = page.get_by_test_id("activities-table")
    expect(activities).to_contain_text("Call attempt")
    expect(activities).to_contain_text("Dana asked for the benchmark by Friday")
    activity = Activity.objects.get(account=book["acme"])
    assert activity.step.stage.playbook == playbook
    _shot(screenshot, page, "playbook_activity_on_account")
    assert errors == []


def test_a_starter_reads_as_a_plan_and_clones_into_an_editable_draft(
    page, live_server, login, screenshot, book
):
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/playbooks/new/")
    starter = page.get_by_test_id("starter").filter(has_text="Tier 1 · Executive")
    starter.get_by_role("link", name="See every step").click()

    expect(page.get_by_text("Starter playbooks are templates")).to_be_visible()
    expect(page.get_by_test_id("add-stage")).to_have_count(0)
    expect(page.get_by_test_id("step").first).to_contain_text("Web personalisation")
    _shot(screenshot, page, "playbook_starter")
    page.get_by_role("link", name="Cadence").click()
    expect(page.get_by_test_id("cadence-chart").locator(".main-svg").first).to_be_visible()
    _shot(screenshot, page, "playbook_starter_cadence")

    page.get_by_role("button", name="Use this template").click()

    expect(page.get_by_test_id("playbook-status")).to_have_text("Draft")
    expect(page.get_by_test_id("add-stage")).to_be_visible()
    expect(page.get_by_test_id("audience-count")).to_have_text("2")
    copy = Playbook.objects.get(is_starter=False)
    assert copy.stages.count() == 4


def test_add_step_is_a_form_that_saves_nothing_until_it_is_valid(
    page, live_server, login, screenshot, maria, console_errors
):
    from playbooks.building import playbook_create

    playbook = playbook_create(name="Blank check", by=maria, audience_tiers=[1])
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/playbooks/{playbook.pk}/")
    find = page.get_by_test_id("stage").first

    find.get_by_test_id("add-step").click()
    form = page.get_by_test_id("new-step-form")
    expect(form).to_be_visible()
    form.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("new-step-form")).to_have_count(0)

    find.get_by_test_id("add-step").click()
    form = page.get_by_test_id("new-step-form")
    form.get_by_role("button", name="Add step").click()
    form = page.get_by_test_id("new-step-form")
    expect(form).to_contain_text("No subject: it is the title of every task")
    expect(form).to_contain_text("No body: an Email step needs the message to send")
    expect(page.get_by_test_id("step")).to_have_count(0)
    assert not Step.objects.filter(stage__playbook=playbook).exists()
    _shot(screenshot, page, "playbook_new_step_errors")

    form.get_by_label("Subject").fill("Hello {{ account.name }}")
    form.get_by_label("Body").fill("Welcome.")
    form.get_by_role("button", name="Add step").click()
    expect(page.get_by_test_id("new-step-form")).to_have_count(0)
    expect(page.get_by_test_id("step")).to_have_count(1)
    expect(page.get_by_test_id("readiness")).to_contain_text("Ready to activate")
    assert Step.objects.filter(stage__playbook=playbook).count() == 1
    assert [e for e in console_errors if "422" not in e] == []


def test_the_cadence_chart_shows_quotes_in_names_as_typed(page, live_server, login, maria):
    # Plotly decodes &amp; and &lt; but not &quot;: the stage label read `The &quot;Q4&quot; push`.
    stage = StageFactory(name='The "Q4" push & more', playbook__name="Quoted")
    StepFactory(stage=stage, subject='Our "benchmark"')
    login(page, live_server, "maria")

    page.goto(f"{live_server.url}/playbooks/{stage.playbook.pk}/cadence/")

    chart = page.get_by_test_id("cadence-chart")
    expect(chart.locator(".annotation-text").first).to_have_text('The "Q4" push & more')
    assert "&quot;" not in chart.inner_text()
