"""Exports over ABM_EXPORT_INLINE_MAX_ROWS: a worker job writes the file, its requester downloads it."""

import datetime as dt
import os
import time

import pytest
from django.urls import reverse

from abm.exports import export_enqueue, export_files_delete_old
from abm.models import Job, RunKind, RunStatus
from tests.accounts.account_pages import account, activity
from tests.factories import ContactFactory, LeadFactory, OpportunityFactory


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings, tmp_path, eager_tasks):
    # Eager: these tests look at what a user sees once the job ran (tests/metrics/test_worker.py
    # has the real worker).
    settings.ABM_EXPORT_DIR = tmp_path / "exports"


@pytest.fixture
def plan(alice, bob):
    acme = account(alice, "Acme", industry="Software", tier=1, fit_score=80)
    formula = account(alice, "=HYPERLINK(1)", industry="Software", tier=2, fit_score=60)
    bolt = account(bob, "Bolt", industry="Retail", tier=2)
    for target in (acme, formula, bolt):
        ContactFactory(account=target, title="+1+1")
        OpportunityFactory(account=target, name=f"{target.name} deal")
        activity(target)
        LeadFactory(account=target)
    return {"acme": acme, "formula": formula, "bolt": bolt}


def inline_body(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def queued_export(client, url, params=None, capture=None):
    """Ask for an export above the threshold; the job runs eagerly at commit."""
    with capture(execute=True):
        response = client.get(url, params or {})
    assert response.status_code == 302
    run = Job.objects.get(kind=RunKind.EXPORT)
    assert response["Location"] == reverse("accounts:export_job", args=[run.pk])
    return run


def downloaded(client, run) -> bytes:
    response = client.get(reverse("accounts:export_download", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content)


def test_a_small_export_streams_at_once_and_queues_nothing(client, maria, plan, settings):
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 3
    client.force_login(maria)

    response = client.get(reverse("accounts:export"))

    assert response.status_code == 200
    assert inline_body(response).count(b"\r\n") == 4  # header + 3 accounts
    assert not Job.objects.filter(kind=RunKind.EXPORT).exists()


def test_a_large_export_is_queued_with_the_user_and_filters(
    client, maria, plan, settings, django_capture_on_commit_callbacks
):
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 2
    client.force_login(maria)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.get(reverse("accounts:export"), {"industry": "Software", "sort": "-fit"})
    # Two Software accounts do not exceed 2: streamed at once.
    assert response.status_code == 200
    assert not callbacks

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.get(reverse("accounts:export"), {"sort": "-fit"})

    run = Job.objects.get(kind=RunKind.EXPORT)
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is sent after commit
    assert run.status == RunStatus.QUEUED
    assert run.requested_by == maria
    assert run.params == {
        "export": "accounts",
        "user": maria.pk,
        "query": "sort=-fit",
        "account": None,
    }
    page = client.get(response["Location"])
    assert b'data-testid="run-progress"' in page.content
    assert b"Preparing the accounts CSV" in page.content


@pytest.mark.parametrize(
    ("route", "params"),
    [
        ("accounts:export", {"industry": "Software", "sort": "-fit"}),
        ("accounts:export", {}),
        ("accounts:export_contacts", {"tier": "2"}),
        ("accounts:export_opportunities", {}),
        ("ingestion:activities_csv", {}),
        ("accounts:opportunities_csv", {"stage": "qualification"}),
        ("accounts:leads_csv", {}),
    ],
)
def test_the_job_writes_exactly_what_the_inline_export_streams(
    client, maria, plan, settings, route, params, django_capture_on_commit_callbacks
):
    client.force_login(maria)
    url = reverse(route)
    inline = inline_body(client.get(url, params))

    settings.ABM_EXPORT_INLINE_MAX_ROWS = 0
    run = queued_export(client, url, params, capture=django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert run.percent == 100
    assert downloaded(client, run) == inline
    assert (
        inline.count(b"\r\n") >= 2
    )  # a header and at least one row: the comparison means something


def test_the_job_file_keeps_formulas_escaped(
    client, maria, plan, settings, django_capture_on_commit_callbacks
):
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(maria)

    run = queued_export(
        client, reverse("accounts:export"), capture=django_capture_on_commit_callbacks
    )

    body = downloaded(client, run).decode()
    assert "'=HYPERLINK(1)" in body
    assert ",=HYPERLINK" not in body


def test_the_worker_scopes_a_reps_export_to_their_accounts(
    client, alice, plan, settings, django_capture_on_commit_callbacks
):
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(alice)

    run = queued_export(
        client, reverse("accounts:export_contacts"), capture=django_capture_on_commit_callbacks
    )

    body = downloaded(client, run).decode()
    assert "Acme" in body
    assert "HYPERLINK" in body
    assert "Bolt" not in body
    run.refresh_from_db()
    assert run.result["rows"] == 2


def test_another_user_gets_404_for_the_job_its_file_and_its_status(
    client, alice, bob, maria, plan, settings, django_capture_on_commit_callbacks
):
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(alice)
    run = queued_export(
        client, reverse("accounts:export"), capture=django_capture_on_commit_callbacks
    )

    for intruder in (bob, maria):
        client.force_login(intruder)
        assert client.get(reverse("accounts:export_job", args=[run.pk])).status_code == 404
        assert client.get(reverse("accounts:export_download", args=[run.pk])).status_code == 404
        assert client.get(reverse("accounts:run_status", args=[run.pk])).status_code == 404

    client.force_login(alice)
    html = client.get(reverse("accounts:run_status", args=[run.pk])).content.decode()
    assert 'data-status="done"' in html
    assert 'data-testid="export-download"' in html


def test_a_finished_job_page_links_the_download(
    client, maria, plan, settings, django_capture_on_commit_callbacks
):
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(maria)
    run = queued_export(
        client, reverse("accounts:export"), capture=django_capture_on_commit_callbacks
    )

    page = client.get(reverse("accounts:export_job", args=[run.pk])).content.decode()

    assert reverse("accounts:export_download", args=[run.pk]) in page
    assert "Download accounts.csv" in page


def _age(path, *, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_files_older_than_a_day_are_deleted_by_the_sweep(
    client, maria, plan, settings, django_capture_on_commit_callbacks
):
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(maria)
    old = queued_export(
        client, reverse("accounts:export"), capture=django_capture_on_commit_callbacks
    )
    old.refresh_from_db()
    folder = settings.ABM_EXPORT_DIR
    old_path = folder / old.result["file"]
    _age(old_path, hours=25)
    young = folder / "export-999-young.csv"
    young.write_text("x")
    _age(young, hours=23)

    deleted = export_files_delete_old()

    assert deleted == [old_path.name]
    assert not old_path.exists()
    assert young.exists()


def test_an_expired_file_is_deleted_on_access_and_is_a_404(
    client, maria, plan, settings, django_capture_on_commit_callbacks
):
    settings.ABM_EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(maria)
    run = queued_export(
        client, reverse("accounts:export"), capture=django_capture_on_commit_callbacks
    )
    run.refresh_from_db()
    path = settings.ABM_EXPORT_DIR / run.result["file"]
    _age(path, hours=25)

    page = client.get(reverse("accounts:export_job", args=[run.pk]))
    download = client.get(reverse("accounts:export_download", args=[run.pk]))

    assert b"This export has expired" in page.content
    assert download.status_code == 404
    assert not path.exists()


def test_the_beat_schedule_deletes_old_exports():
    from abm.celery import app

    entry = next(
        e for e in app.conf.beat_schedule.values() if e["task"] == "abm.delete_old_exports"
    )
    assert entry["schedule"].remaining_estimate(dt.datetime.now(dt.UTC)) <= dt.timedelta(hours=1)


def test_a_queued_job_shows_progress_before_it_runs(client, maria, plan):
    from django.http import QueryDict

    run = export_enqueue(name="accounts", by=maria, query=QueryDict("industry=Software"))
    client.force_login(maria)

    page = client.get(reverse("accounts:export_job", args=[run.pk])).content.decode()

    assert 'data-status="queued"' in page
    assert 'role="progressbar"' in page
    assert reverse("accounts:list") + "?industry=Software" in page
