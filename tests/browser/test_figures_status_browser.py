"""#metrics-status in a real browser: shown while a metrics run is pending, the page reloads with
the new figures once it is done, and nothing polls when nothing is pending."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from abm.models import Job, RunKind, RunStatus
from accounts.models import Account

pytestmark = pytest.mark.browser


def test_the_dashboard_follows_a_metrics_run_and_reloads_when_it_is_done(
    page, live_server, login, screenshot, maria, console_errors
):
    run = Job.objects.create(kind=RunKind.INCREMENTAL, status=RunStatus.QUEUED)
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/metrics/director/")
    status = page.locator("#metrics-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_contain_text("Queued: figures update in a few seconds")
    page.evaluate("window.__before_reload = true")

    Job.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, percent=45, phase="attributing 3 deals with 8 models"
    )
    expect(status).to_contain_text("Updating figures… 45 % (attribution)")
    screenshot(page, "figures_status_running")

    finished = timezone.now()
    Job.objects.filter(pk=run.pk).update(status=RunStatus.DONE, percent=100, finished_at=finished)
    local = timezone.localtime(finished).strftime("%H:%M")
    expect(status).to_contain_text(f"Figures updated at {local}")
    # The end of the run reloaded the page (HX-Refresh), so the figures are the new ones.
    assert page.evaluate("window.__before_reload === undefined")
    expect(page.get_by_test_id("data-as-of")).to_contain_text(local)
    assert status.get_attribute("hx-get") is None
    screenshot(page, "figures_status_done")
    assert console_errors == []


def test_nothing_polls_when_no_run_is_pending(page, live_server, login, alice, console_errors):
    acme = Account.objects.create(name="Acme", domain="acme.example", owner=alice)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/metrics/status/" in r.url else None)
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/{acme.pk}/")

    expect(page.locator("#metrics-status")).to_contain_text("No figures computed yet")
    page.wait_for_timeout(2_500)
    assert requests == []
    assert console_errors == []


def test_recompute_now_uses_the_same_status_line(
    page, live_server, login, screenshot, maria, console_errors, eager_tasks
):
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/metrics/director/")
    page.evaluate("window.__before_reload = true")

    page.get_by_test_id("recompute").click()

    # Eager in tests: the run is over when the answer comes, so the page reloads at once. The
    # answer waits for the run and the director's views built after it (the worker's, in
    # production): 5.5 s once with four test processes on two cores.
    expect(page.locator("#metrics-status")).to_contain_text("Figures updated at", timeout=30_000)
    assert page.evaluate("window.__before_reload === undefined")
    assert Job.objects.get(kind=RunKind.FULL).status == RunStatus.DONE
    screenshot(page, "figures_status_recomputed")
    assert console_errors == []
