"""The import pages: upload, column-mapping preview, start, progress and result, rejects.csv."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from abm.models import Job, RunKind, RunStatus
from accounts.models import Account
from accounts.tasks import rescore_fit
from ingestion.import_jobs import import_job_create, import_job_enqueue
from ingestion.models import ImportJob
from ingestion.tasks import import_csv

UPLOAD_URL = reverse("ingestion:import")

# Line 3: a formula in a rejected row; line 4: an owner nobody is; line 6 repeats line 2.
ACCOUNTS_CSV = (
    "Id;Account Name;Website;AnnualRevenue;Owner\n"
    "001;Acme;acme.com;1.234,50 €;alice\n"
    '002;"=HYPERLINK(""http://evil"")";evil.com;-5;alice\n'
    "003;Gamma;gamma.io;100;nobody\n"
    "004;Delta;delta.io;;\n"
    "001;Acme;acme.com;1.234,50 €;alice\n"
)
SELECTED = {"Id": "external_id", "Account Name": "name", "Website": "domain"}

# Their files hold amounts in euros.
pytestmark = pytest.mark.usefixtures("exchange_rates")


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def in_process_tasks(monkeypatch):
    """Tasks run here, as on the SQLite leg, even on the leg with a broker."""
    for task in (import_csv, rescore_fit):
        monkeypatch.setattr(task, "delay", lambda *args, task=task: task.apply(args=args))


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit():` runs what a block queued for after commit (tests never commit)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def csv_file(text: str | bytes, name: str = "companies.csv") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def make_job(by, text: str = ACCOUNTS_CSV, kind: str = "accounts") -> ImportJob:
    return import_job_create(
        kind=kind, upload=io.BytesIO(text.encode()), name="companies.csv", by=by
    )


def job_url(job: ImportJob) -> str:
    return reverse("ingestion:import_job", args=[job.pk])


def rejects_url(job: ImportJob) -> str:
    return reverse("ingestion:import_rejects", args=[job.pk])


def mapping_post(job: ImportJob, mapping: dict[str, str], action: str = "start") -> dict:
    return {
        "action": action,
        **{f"map-{i}": mapping.get(header, "-") for i, header in enumerate(job.headers)},
    }


def finished_job(by, commit, text: str = ACCOUNTS_CSV) -> ImportJob:
    job = make_job(by, text)
    with commit():
        import_job_enqueue(job=job, by=by)
    job.refresh_from_db()
    return job


# --- Who may ------------------------------------------------------------------------------------


@pytest.fixture
def job(maria, alice, commit):
    return finished_job(maria, commit)


@pytest.mark.parametrize("username", ["alice", "bob", "diana"])
@pytest.mark.parametrize("which", ["upload", "job", "rejects"])
def test_reps_and_directors_get_403_on_every_import_url(client, request, job, username, which):
    client.force_login(request.getfixturevalue(username))
    url = {"upload": UPLOAD_URL, "job": job_url(job), "rejects": rejects_url(job)}[which]

    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "rerun"}).status_code == 403
    assert ImportJob.objects.count() == 1
    assert Job.objects.filter(kind=RunKind.IMPORT).count() == 1


@pytest.mark.parametrize("username", ["maria", "root"])
@pytest.mark.parametrize("which", ["upload", "job", "rejects"])
def test_marketers_and_admins_open_every_import_url(client, request, job, username, which):
    client.force_login(request.getfixturevalue(username))
    url = {"upload": UPLOAD_URL, "job": job_url(job), "rejects": rejects_url(job)}[which]

    assert client.get(url).status_code == 200


@pytest.mark.parametrize("which", ["upload", "job", "rejects"])
def test_anonymous_users_are_sent_to_login(client, job, which):
    url = {"upload": UPLOAD_URL, "job": job_url(job), "rejects": rejects_url(job)}[which]

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_another_marketers_job_is_listed_and_opens(client, job, db):
    from tests.conftest import make_user

    client.force_login(make_user("mark", "marketer"))

    listed = client.get(UPLOAD_URL)
    opened = client.get(job_url(job))

    assert [j.pk for j in listed.context["jobs"]] == [job.pk]
    assert "Maria" in listed.content.decode()
    assert opened.status_code == 200


def test_an_unknown_job_is_a_404(client, maria):
    client.force_login(maria)

    assert client.get(reverse("ingestion:import_job", args=[999])).status_code == 404
    assert client.get(reverse("ingestion:import_rejects", args=[999])).status_code == 404


# --- Upload -------------------------------------------------------------------------------------


def test_the_upload_page_shows_the_form_the_limit_and_an_empty_state(client, maria, settings):
    settings.ABM_IMPORT_MAX_BYTES = 50 * 1024 * 1024
    client.force_login(maria)

    html = client.get(UPLOAD_URL).content.decode()

    assert '<label for="id_kind">What to import</label>' in html
    assert '<label for="id_file">CSV file</label>' in html
    for kind in ["Accounts", "Contacts", "Opportunities", "Leads", "Activities"]:
        assert f">{kind}</option>" in html
    assert "Up to 50 MB." in html
    assert "No imports yet" in html


def test_a_good_file_goes_from_upload_to_preview_to_counts(client, maria, alice, commit):
    client.force_login(maria)

    uploaded = client.post(UPLOAD_URL, {"kind": "accounts", "file": csv_file(ACCOUNTS_CSV)})

    job = ImportJob.objects.get()
    assert uploaded.status_code == 302
    assert uploaded["Location"] == job_url(job)
    assert (job.uploaded_by, job.original_name) == (maria, "companies.csv")

    preview = client.get(job_url(job))
    html = preview.content.decode()
    assert "encoding UTF-8" in html
    assert "delimiter: semicolon" in html
    assert [c["field"] for c in preview.context["columns"]] == [
        "external_id",
        "name",
        "domain",
        "annual_revenue",
        "owner",
    ]
    assert '<option value="domain" selected>' in html
    assert [row["line"] for row in preview.context["preview_rows"]] == [2, 3, 4, 5, 6]
    assert preview.context["columns"][2]["samples"] == ["acme.com", "evil.com", "gamma.io"]
    assert "Start import" in html

    with commit():
        started = client.post(job_url(job), mapping_post(job, job.mapping))

    assert started.status_code == 302
    assert started["Location"] == job_url(job)
    result = client.get(job_url(job))
    job.refresh_from_db()
    assert job.run.status == RunStatus.DONE
    assert (job.created, job.updated, job.unchanged, job.rejected) == (2, 0, 0, 3)
    counts = result.content.decode()
    assert 'data-count="created">2<' in counts
    assert 'data-count="rejected">3<' in counts
    assert 'data-testid="run-progress"' in counts
    assert [r["line"] for r in result.context["rejects"]] == [3, 4, 6]
    assert rejects_url(job) in counts
    assert set(Account.objects.values_list("domain", flat=True)) == {"acme.com", "delta.io"}


def test_a_chosen_mapping_is_saved_and_used(client, maria, commit):
    job = make_job(maria)
    client.force_login(maria)

    with commit():
        client.post(job_url(job), mapping_post(job, SELECTED))

    job.refresh_from_db()
    assert job.mapping == SELECTED
    # Revenue and owner were ignored, so only the duplicate of line 2 is rejected.
    assert (job.created, job.rejected) == (4, 1)
    assert Account.objects.get(domain="gamma.io").owner is None


def test_update_preview_rereads_with_the_chosen_columns_and_saves_nothing(client, maria):
    job = make_job(maria)
    suggested = dict(job.mapping)
    client.force_login(maria)

    response = client.post(job_url(job), mapping_post(job, SELECTED, action="preview"))

    assert response.status_code == 200
    assert [c["field"] for c in response.context["columns"]] == [
        "external_id",
        "name",
        "domain",
        "",
        "",
    ]
    assert response.context["preview_problems"] == 0
    job.refresh_from_db()
    assert job.mapping == suggested
    assert job.run is None


def test_the_preview_highlights_the_cell_with_the_problem(client, maria):
    job = make_job(maria)
    client.force_login(maria)

    response = client.get(job_url(job))

    line3 = response.context["preview_rows"][1]
    assert line3["errors"] == "AnnualRevenue '-5' must not be negative"
    assert [cell["problem"] for cell in line3["cells"]] == [
        "",
        "",
        "",
        "AnnualRevenue '-5' must not be negative",
        "",
    ]
    assert (
        '<td class="cell-error" title="AnnualRevenue &#x27;-5&#x27; must not be negative">-5</td>'
        in response.content.decode()
    )


def test_the_upload_form_keeps_the_kind_from_the_query_string(client, maria):
    client.force_login(maria)

    html = client.get(f"{UPLOAD_URL}?kind=contacts").content.decode()

    assert '<option value="contacts" selected>' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This file is a PNG image, not a CSV"),
        (b"Id,Name\x00\x01\x02,x\n1,2\n", "This is a binary file, not a CSV"),
        (b"", "The file is empty."),
    ],
)
def test_a_file_that_is_no_csv_is_refused_next_to_the_field(client, maria, var_dir, data, message):
    client.force_login(maria)

    response = client.post(UPLOAD_URL, {"kind": "accounts", "file": csv_file(data, "report.xlsx")})

    assert response.status_code == 200
    assert message in response.context["form"].errors["file"][0]
    html = response.content.decode()
    assert message in html
    assert 'class="form-field has-error"' in html
    assert not ImportJob.objects.exists()
    assert not list(var_dir.glob("imports/*"))


def test_a_file_over_the_limit_is_refused_with_the_limit_named(client, maria, settings, var_dir):
    settings.ABM_IMPORT_MAX_BYTES = 40
    client.force_login(maria)

    response = client.post(UPLOAD_URL, {"kind": "accounts", "file": csv_file(ACCOUNTS_CSV)})

    assert response.status_code == 200
    error = response.context["form"].errors["file"][0]
    assert "imports are limited to 0.0 MB" in error
    assert error in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not list(var_dir.glob("imports/*"))


def test_an_upload_without_a_file_or_kind_says_what_is_missing(client, maria):
    client.force_login(maria)

    response = client.post(UPLOAD_URL, {"kind": "spreadsheets"})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"kind", "file"}
    assert not ImportJob.objects.exists()


# --- Mapping errors -----------------------------------------------------------------------------


def test_a_mapping_missing_a_required_column_shows_the_error_inline(client, maria):
    job = make_job(maria)
    client.force_login(maria)

    preview = client.post(job_url(job), mapping_post(job, {"Account Name": "name"}, "preview"))
    started = client.post(job_url(job), mapping_post(job, {"Account Name": "name"}))

    assert "Missing required columns: one of domain / external_id." in preview.content.decode()
    assert started.status_code == 200
    html = started.content.decode()
    assert 'data-testid="mapping-error"' in html
    assert "Missing required columns for importing accounts: one of domain / external_id" in html
    # What was chosen stays chosen, so the user fixes one select instead of starting over.
    assert [c["field"] for c in started.context["columns"]] == ["", "name", "", "", ""]
    job.refresh_from_db()
    assert job.run is None
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"Id": "external_id", "Website": "domain", "Account Name": "domain"},
            "Columns &#x27;Account Name&#x27; and &#x27;Website&#x27; both map to &#x27;domain&#x27;.",
        ),
        ({"Website": "domain", "Id": "password"}, "&#x27;password&#x27; is not a field"),
    ],
)
def test_a_bad_mapping_is_refused_inline_not_with_a_500(client, maria, mapping, message):
    job = make_job(maria)
    client.force_login(maria)

    response = client.post(job_url(job), mapping_post(job, mapping))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Job.objects.exists()


def test_a_job_whose_file_vanished_says_so_instead_of_failing(client, maria, var_dir):
    job = make_job(maria)
    (var_dir / job.path).unlink()
    client.force_login(maria)

    response = client.get(job_url(job))

    assert response.status_code == 200
    assert "is gone; upload it again" in response.content.decode()


# --- Progress, result, re-run, rejects ----------------------------------------------------------


def test_a_queued_run_shows_the_progress_bar_polling_its_status(client, maria):
    job = make_job(maria)
    run = Job.objects.create(kind=RunKind.IMPORT, status=RunStatus.QUEUED)
    ImportJob.objects.filter(pk=job.pk).update(run=run)
    client.force_login(maria)

    response = client.get(job_url(job))

    html = response.content.decode()
    assert f'hx-get="{reverse("accounts:run_status", args=[run.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert 'data-status="queued"' in html
    assert "vendor/htmx/htmx.min.js" in html
    assert 'data-testid="import-counts"' not in html
    assert 'data-testid="mapping-form"' not in html


def test_the_polled_import_partial_reloads_the_page_once_the_run_finishes(client, maria):
    job = make_job(maria)
    run = Job.objects.create(kind=RunKind.IMPORT, status=RunStatus.RUNNING, percent=40)
    ImportJob.objects.filter(pk=job.pk).update(run=run)
    client.force_login(maria)
    url = reverse("accounts:run_status", args=[run.pk])

    running = client.get(url)
    assert "HX-Refresh" not in running
    assert 'hx-trigger="every 1s"' in running.content.decode()
    assert job.original_name in running.content.decode()

    Job.objects.filter(pk=run.pk).update(status=RunStatus.DONE, percent=100)
    assert client.get(url)["HX-Refresh"] == "true"


def test_a_running_import_is_not_started_twice(client, maria):
    job = make_job(maria)
    run = Job.objects.create(kind=RunKind.IMPORT, status=RunStatus.RUNNING)
    ImportJob.objects.filter(pk=job.pk).update(run=run)
    client.force_login(maria)

    response = client.post(job_url(job), mapping_post(job, job.mapping), follow=True)

    assert "already running" in response.content.decode()
    assert Job.objects.count() == 1


def test_running_again_changes_nothing_for_unchanged_rows(client, maria, alice, commit):
    job = finished_job(maria, commit)
    first = job.run
    acme = Account.objects.get(domain="acme.com")
    client.force_login(maria)

    with commit():
        response = client.post(job_url(job), {"action": "rerun"})

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.run != first
    assert job.run.status == RunStatus.DONE
    assert (job.created, job.updated, job.unchanged, job.rejected) == (0, 0, 2, 3)
    assert Account.objects.get(domain="acme.com").updated_at == acme.updated_at


def test_a_failed_run_shows_its_error_and_the_mapping_again(client, maria):
    job = make_job(maria)
    run = Job.objects.create(kind=RunKind.IMPORT, status=RunStatus.FAILED, error="ValueError: boom")
    ImportJob.objects.filter(pk=job.pk).update(run=run)
    client.force_login(maria)

    html = client.get(job_url(job)).content.decode()

    # In words for a marketer; the exception is for admins and the log (abm/job_reading.py).
    assert "The import stopped on an unexpected problem" in html
    assert "ValueError" not in html
    assert 'data-testid="mapping-form"' in html


def test_the_result_lists_the_first_20_rejects(client, maria, commit):
    lines = "".join(f"{n};Bad {n};bad{n}.com;-{n}\n" for n in range(1, 26))
    job = make_job(maria, "Id;Name;Website;AnnualRevenue\n" + lines)
    with commit():
        import_job_enqueue(job=job, by=maria)
    client.force_login(maria)

    response = client.get(job_url(job))

    assert [r["line"] for r in response.context["rejects"]] == list(range(2, 22))
    assert "The first 20 of 25 rejected rows." in response.content.decode()


def test_rejects_csv_has_line_reason_and_escaped_cells(client, maria, alice, commit):
    job = finished_job(maria, commit)
    client.force_login(maria)

    response = client.get(rejects_url(job))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="companies-rejects.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["line", "reason", "Id", "Account Name", "Website", "AnnualRevenue", "Owner"],
        [
            "3",
            "AnnualRevenue '-5' must not be negative",
            "002",
            '\'=HYPERLINK("http://evil")',
            "evil.com",
            "'-5",
            "alice",
        ],
        ["4", "unknown Owner 'nobody'", "003", "Gamma", "gamma.io", "100", "nobody"],
        [
            "6",
            "duplicate of line 2 (same Id '001')",
            "001",
            "Acme",
            "acme.com",
            "1.234,50 €",
            "alice",
        ],
    ]


def test_rejects_csv_of_a_job_without_rejects_is_a_404(client, maria, commit):
    job = make_job(maria, "Id,Name,Website\nA1,Acme,acme.com\n")
    with commit():
        import_job_enqueue(job=job, by=maria)
    client.force_login(maria)

    assert client.get(rejects_url(job)).status_code == 404
    assert rejects_url(job) not in client.get(job_url(job)).content.decode()


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_name_kind_by_status_and_counts(client, maria, alice, commit):
    done = finished_job(maria, commit)
    waiting = make_job(maria, "Id,Name,Website\nA1,Acme,acme.com\n")
    client.force_login(maria)

    response = client.get(UPLOAD_URL)

    rows = {job.pk: job for job in response.context["jobs"]}
    assert (rows[done.pk].status_label, rows[waiting.pk].status_label) == ("Done", "Not started")
    html = response.content.decode()
    assert job_url(done) in html
    assert "Accounts" in html
    assert '<td class="num">2</td>' in html


def test_the_jobs_list_makes_no_query_per_job(client, maria, commit, django_assert_max_num_queries):
    client.force_login(maria)
    for _ in range(2):
        finished_job(maria, commit)
    with django_assert_max_num_queries(50) as few:
        client.get(UPLOAD_URL)
    baseline = len(few.captured_queries)
    for _ in range(18):
        finished_job(maria, commit)

    with django_assert_max_num_queries(baseline):
        response = client.get(UPLOAD_URL)

    assert len(response.context["jobs"]) == 20
