"""A failed job's stored error (SQL, tables, constraints, any account's id) and the change that
queued it reach admins only; every other reader gets words written for them (abm/job_reading.py)."""

import pytest
from django.urls import reverse

from abm.models import Job, RunKind, RunStatus

pytestmark = pytest.mark.django_db

RAW = (
    'IntegrityError: insert or update on table "metrics_engagementscore" violates foreign key '
    'constraint "metrics_engagementsc_account_id_4f1e_fk_accounts_" DETAIL: Key '
    '(account_id)=(316) is not present in table "accounts_account".'
)
REASON = "budget line #3 changed by maria"
LEAKS = ("IntegrityError", "metrics_engagementscore", "constraint", "316", "accounts_account")


@pytest.fixture
def failed_run(db):
    return Job.objects.create(
        kind=RunKind.INCREMENTAL, status=RunStatus.FAILED, error=RAW, params={"reason": REASON}
    )


def _api_run(client, user, run):
    client.force_login(user)
    response = client.get("/api/metric-runs/", {"status": "failed"})
    assert response.status_code == 200
    (shown,) = [r for r in response.json()["results"] if r["id"] == run.pk]
    return shown


def _page(client, user, run) -> str:
    client.force_login(user)
    response = client.get(reverse("accounts:run_status", args=[run.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_rep_reads_a_failed_run_without_sql_or_unseen_ids(client, alice, failed_run):
    shown = _api_run(client, alice, failed_run)
    page = _page(client, alice, failed_run)

    for leak in LEAKS:
        assert leak not in shown["error"]
        assert leak not in page
    assert "stopped on an unexpected problem" in shown["error"]
    assert "the figures of the last complete update still stand" in page
    assert REASON not in str(shown["params"])
    assert "budget line" not in str(shown["params"])


def test_a_marketer_reads_the_summary_and_the_change_that_queued_the_run(client, maria, failed_run):
    shown = _api_run(client, maria, failed_run)

    assert "IntegrityError" not in shown["error"]
    assert shown["params"] == {"reason": REASON}  # she may see every budget line


def test_the_admin_still_reads_the_stored_error_and_params(client, root, failed_run):
    shown = _api_run(client, root, failed_run)
    page = _page(client, root, failed_run)

    assert shown["error"] == RAW
    assert shown["params"] == {"reason": REASON}
    assert "metrics_engagementscore" in page


def test_a_failure_recorded_in_our_own_words_is_shown_to_everyone(client, alice):
    lost = Job.objects.create(
        kind=RunKind.INCREMENTAL,
        status=RunStatus.FAILED,
        error="never started: its task was lost",
    )

    assert _api_run(client, alice, lost)["error"] == "Never started: its task was lost."


def test_an_import_refused_in_words_for_its_marketer_keeps_those_words(client, maria):
    refused = Job.objects.create(
        kind=RunKind.IMPORT,
        status=RunStatus.FAILED,
        error="ImportRefused: The uploaded file of import #4 is gone; upload it again.",
    )

    shown = _api_run(client, maria, refused)

    assert shown["error"] == "The uploaded file of import #4 is gone; upload it again."
