"""A large CSV export in a real browser: queued from the list, its progress, then the download."""

import pytest
from playwright.sync_api import expect

from abm.exports import export_job_execute
from abm.jobs import execute_run
from abm.models import Job, RunKind, RunStatus
from accounts.models import Account

pytestmark = pytest.mark.browser


def params_of(user) -> dict:
    return {"export": "accounts", "user": user.pk, "query": "", "account": None}


@pytest.fixture
def book(alice, bob, settings, tmp_path):
    # Above a threshold of 2 rows, an export is a job.
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 2
    settings.ABM_EXPORT_DIR = tmp_path / "exports"
    for index, owner in enumerate([alice, alice, alice, bob, bob]):
        Account.objects.create(
            name=f"Software {index}", domain=f"s{index}.example", industry="Software", owner=owner
        )
    Account.objects.create(name="Retail 0", domain="r0.example", industry="Retail", owner=alice)


def test_a_large_export_is_queued_and_then_downloaded(
    page, live_server, login, screenshot, book, maria, eager_tasks, console_errors
):
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/?industry=Software")
    page.locator("summary", has_text="Export").click()
    page.get_by_test_id("export-accounts").click()

    # The job ran eagerly: the page shows it finished, with its download link.
    expect(page.get_by_role("heading", name="CSV export")).to_be_visible()
    progress = page.get_by_test_id("run-progress")
    expect(progress).to_have_attribute("data-status", "done")
    link = page.get_by_test_id("export-download")
    expect(link).to_be_visible()
    screenshot(page, "export_job_done")
    with page.expect_download() as info:
        link.click()
    download = info.value

    body = open(download.path(), encoding="utf-8-sig", newline="").read()
    assert download.suggested_filename == "accounts.csv"
    assert body.count("\r\n") == 6  # the header and the five Software accounts
    assert "Retail 0" not in body
    assert console_errors == []


def test_the_export_page_follows_the_job_until_the_link_appears(
    page, live_server, login, screenshot, book, alice, console_errors
):
    run = Job.objects.create(
        kind=RunKind.EXPORT,
        requested_by=alice,
        params=params_of(alice),
    )
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/exports/{run.pk}/")
    progress = page.get_by_test_id("run-progress")
    expect(progress).to_have_attribute("data-status", "queued")
    expect(page.get_by_test_id("export-download")).to_be_hidden()

    Job.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, phase="2,000 of 4,000 rows written", percent=50
    )
    expect(page.locator("[data-run-percent]")).to_have_text("50%")
    screenshot(page, "export_job_running")
    Job.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED, percent=0)
    execute_run(run.pk, lambda claimed: export_job_execute(run=claimed))

    link = page.get_by_test_id("export-download")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    body = open(info.value.path(), encoding="utf-8-sig", newline="").read()
    # alice's own four accounts, not bob's.
    assert body.count("\r\n") == 5
    assert "Software 3" not in body
    assert console_errors == []


def test_another_user_cannot_open_the_export(page, live_server, login, book, alice):
    run = Job.objects.create(kind=RunKind.EXPORT, requested_by=alice, params=params_of(alice))
    login(page, live_server, "bob")

    response = page.goto(f"{live_server.url}/accounts/exports/{run.pk}/")

    assert response.status == 404
