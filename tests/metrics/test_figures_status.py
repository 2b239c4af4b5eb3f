"""#metrics-status: a pending metrics run is shown and polled; its end reloads the page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from abm.models import Job, RunKind, RunStatus
from tests.accounts.account_pages import account

PAGES = ["dashboards:director", "dashboards:marketer", "dashboards:sales"]


def run(status: str, *, kind=RunKind.FULL, phase="", percent=0, finished_minutes_ago=None):
    finished = None
    if finished_minutes_ago is not None:
        finished = timezone.now() - dt.timedelta(minutes=finished_minutes_ago)
    return Job.objects.create(
        kind=kind, status=status, phase=phase, percent=percent, finished_at=finished
    )


def status_html(response) -> str:
    html = response.content.decode()
    start = html.index('id="metrics-status"')
    return html[start : html.index("</div>", start)]


@pytest.mark.parametrize("name", PAGES)
def test_a_queued_run_shows_and_polls_the_status_on_every_dashboard(client, maria, name):
    run(RunStatus.QUEUED, kind=RunKind.INCREMENTAL)
    client.force_login(maria)

    status = status_html(client.get(reverse(name)))

    assert "Queued: figures update in a few seconds" in status
    assert 'role="status"' in status
    assert 'hx-trigger="every 2s"' in status
    assert f'hx-get="{reverse("metrics:status")}"' in status


def test_a_running_run_shows_its_percent_and_a_generic_phase(client, alice):
    run(RunStatus.RUNNING, phase="attributing 12,345 deals with 8 models", percent=45)
    client.force_login(alice)

    status = status_html(client.get(reverse("dashboards:sales")))

    assert "Updating figures… 45 % (attribution)" in status
    # A rep learns nothing about the workspace from the run's own phase text.
    assert "12,345" not in status


def test_with_nothing_pending_it_says_when_and_does_not_poll(client, maria):
    done = run(RunStatus.DONE, finished_minutes_ago=3)
    client.force_login(maria)

    status = status_html(client.get(reverse("dashboards:director")))

    local = timezone.localtime(done.finished_at).strftime("%H:%M")
    assert f"Figures updated at {local}" in status
    assert "hx-get" not in status


def test_a_failure_after_the_last_update_is_said(client, maria):
    run(RunStatus.DONE, finished_minutes_ago=30)
    run(RunStatus.FAILED, finished_minutes_ago=2)
    client.force_login(maria)

    status = status_html(client.get(reverse("dashboards:director")))

    assert "The last figures update failed" in status


def test_the_status_endpoint_keeps_polling_while_pending_and_reloads_when_it_ends(client, alice):
    pending = run(RunStatus.RUNNING, percent=10, phase="loading accounts")
    client.force_login(alice)

    polling = client.get(reverse("metrics:status"))
    Job.objects.filter(pk=pending.pk).update(
        status=RunStatus.DONE, percent=100, finished_at=timezone.now()
    )
    ended = client.get(reverse("metrics:status"))

    assert "Updating figures… 10 % (loading)" in polling.content.decode()
    assert "HX-Refresh" not in polling
    assert ended["HX-Refresh"] == "true"
    assert "Figures updated at" in ended.content.decode()
    assert "hx-get" not in ended.content.decode()


def test_the_status_endpoint_needs_a_login(client):
    response = client.get(reverse("metrics:status"))

    assert response.status_code == 302


def test_import_and_export_runs_are_not_figures_updates(client, alice, maria):
    run(RunStatus.RUNNING, kind=RunKind.IMPORT)
    Job.objects.create(kind=RunKind.EXPORT, status=RunStatus.RUNNING, requested_by=maria)
    client.force_login(alice)

    status = client.get(reverse("metrics:status")).content.decode()

    assert "No figures computed yet" in status


def test_the_account_page_shows_the_status(client, alice):
    acme = account(alice, "Acme")
    run(RunStatus.QUEUED)
    client.force_login(alice)

    status = status_html(client.get(reverse("accounts:detail", args=[acme.pk])))

    assert "Queued: figures update in a few seconds" in status


def test_recompute_now_from_htmx_answers_with_the_status_line(
    client, maria, django_capture_on_commit_callbacks
):
    client.force_login(maria)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("metrics:recompute"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "Queued: figures update in a few seconds" in response.content.decode()
    assert "HX-Refresh" not in response
    assert Job.objects.filter(kind=RunKind.FULL, status=RunStatus.QUEUED).count() == 1


def test_an_update_of_another_day_says_the_day(client, maria):
    done = run(RunStatus.DONE, finished_minutes_ago=3 * 24 * 60)
    client.force_login(maria)

    status = status_html(client.get(reverse("dashboards:director")))

    assert f"Figures updated on {timezone.localtime(done.finished_at):%b} " in status
