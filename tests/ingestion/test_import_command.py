"""The import as a job (Job, task, rejects file, permissions) and `manage.py import_csv`."""

import csv
import io
import time
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import transaction

from abm.models import Job, RunKind, RunStatus
from accounts.models import ICP, Account
from accounts.tasks import rescore_fit
from ingestion import import_upsert, importing
from ingestion.import_jobs import (
    import_file,
    import_job_create,
    import_job_enqueue,
    import_job_file,
    import_job_preview,
    import_job_rejects_file,
    import_job_run,
)
from ingestion.importing import ImportRefused
from ingestion.models import ImportJob
from ingestion.tasks import import_csv
from playbooks.models import Activity
from tests.factories import AccountFactory

ACCOUNTS_CSV = (
    "Id;Account Name;Website;AnnualRevenue;Tier\n"
    "001A;Acme;acme.com;1.234,50 €;Tier 1\n"
    '002B;"=HYPERLINK(""http://evil"")";evil.com;-5;T2\n'
    "003C;Beta;beta.io;;3\n"
)

# Their files hold amounts in euros.
pytestmark = pytest.mark.usefixtures("exchange_rates")


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def in_process_tasks(request, monkeypatch):
    """Tasks run here, as on the SQLite leg, even on the leg with a broker (but a real worker)."""
    if request.node.get_closest_marker("worker"):
        return
    for task in (import_csv, rescore_fit):
        monkeypatch.setattr(task, "delay", lambda *args, task=task: task.apply(args=args))


def write(tmp_path: Path, text: str | bytes, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def upload(maria, text: str, kind: str = "accounts") -> ImportJob:
    return import_job_create(
        kind=kind, upload=io.BytesIO(text.encode()), name="companies.csv", by=maria
    )


def rejects_rows(job: ImportJob) -> list[list[str]]:
    data = import_job_rejects_file(job).read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(data, newline="")))


# --- The job --------------------------------------------------------------------------------


def test_an_upload_is_stored_with_its_format_and_a_suggested_mapping(maria, var_dir):
    job = upload(maria, ACCOUNTS_CSV)

    assert import_job_file(job).read_bytes() == ACCOUNTS_CSV.encode()
    assert import_job_file(job).parent == var_dir / "imports"
    assert (job.kind, job.original_name, job.encoding, job.delimiter) == (
        "accounts",
        "companies.csv",
        "utf-8",
        ";",
    )
    assert job.headers == ["Id", "Account Name", "Website", "AnnualRevenue", "Tier"]
    assert job.mapping == {
        "Id": "external_id",
        "Account Name": "name",
        "Website": "domain",
        "AnnualRevenue": "annual_revenue",
        "Tier": "tier",
    }
    shown = import_job_preview(job=job, rows=1)
    assert [row["line"] for row in shown.rows] == [2]


def test_an_enqueued_import_runs_after_commit_and_reports_counts_and_rejects(
    maria, django_capture_on_commit_callbacks
):
    job = upload(maria, ACCOUNTS_CSV)

    with django_capture_on_commit_callbacks(execute=True):
        run = import_job_enqueue(job=job, by=maria)

    run.refresh_from_db()
    job.refresh_from_db()
    assert (run.kind, run.status, run.percent, run.error) == ("import", "done", 100, "")
    assert run.result == {
        "import_job": job.pk,
        "kind": "accounts",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
        "rejects_path": job.rejects_path,
    }
    assert (job.run, job.created, job.rejected) == (run, 2, 1)
    assert job.rejects == [
        {
            "line": 3,
            "reason": "AnnualRevenue '-5' must not be negative",
            "values": ["002B", '=HYPERLINK("http://evil")', "evil.com", "-5", "T2"],
        }
    ]
    assert set(Account.objects.values_list("domain", flat=True)) == {"acme.com", "beta.io"}


def test_the_rejects_csv_keeps_line_reason_and_original_columns_with_formulas_escaped(maria):
    job = upload(maria, ACCOUNTS_CSV)
    import_job_run(job=job, by=maria)
    job.refresh_from_db()

    assert rejects_rows(job) == [
        ["line", "reason", "Id", "Account Name", "Website", "AnnualRevenue", "Tier"],
        [
            "3",
            "AnnualRevenue '-5' must not be negative",
            "002B",
            '\'=HYPERLINK("http://evil")',
            "evil.com",
            "'-5",
            "T2",
        ],
    ]


def test_a_redelivered_finished_import_does_nothing(maria):
    job = upload(maria, ACCOUNTS_CSV)
    run = import_job_run(job=job, by=maria)
    Account.objects.filter(domain="acme.com").update(name="Renamed since")

    assert import_csv.apply(args=[run.pk]).get() is None

    assert Account.objects.get(domain="acme.com").name == "Renamed since"


def test_an_import_redone_after_a_crash_duplicates_nothing(maria, monkeypatch):
    AccountFactory(domain="acme.com", external_id="A")
    lines = [f"E{n},acme.com,email,email_click,2025-03-0{1 + n % 9}" for n in range(7)]
    text = "external_id,account_domain,channel,kind,occurred_at\n" + "\n".join(lines) + "\n"
    monkeypatch.setattr(import_upsert, "BATCH_SIZE", 3)
    job = upload(maria, text, kind="activities")
    run = import_job_run(job=job, by=maria)
    rows = list(Activity.objects.order_by("external_id").values_list("external_id", "occurred_at"))
    # The worker died half-way: the broker hands the task to another worker.
    Job.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)

    result = import_csv.apply(args=[run.pk]).get()

    assert (result["created"], result["unchanged"], result["rejected"]) == (0, 7, 0)
    assert (
        list(Activity.objects.order_by("external_id").values_list("external_id", "occurred_at"))
        == rows
    )


def test_progress_moves_between_batches(maria, monkeypatch):
    """Batches are the batch writer's: contacts everywhere (activities on SQLite only)."""
    AccountFactory(domain="acme.com")
    lines = [f"C{n},acme.com,c{n}@acme.com,Ada" for n in range(5)]
    text = "external_id,account_domain,email,first_name\n" + "\n".join(lines) + "\n"
    monkeypatch.setattr(import_upsert, "BATCH_SIZE", 2)
    reported = []
    monkeypatch.setattr(
        "ingestion.import_jobs.run_progress",
        lambda run, *, phase, percent: reported.append((phase, percent)),
    )

    import_job_run(job=upload(maria, text, kind="contacts"), by=maria)

    assert reported == [
        ("reading the file", 2),
        ("saving 5 rows", 10),
        ("saved 2 of 5 rows", 44),
        ("saved 4 of 5 rows", 78),
        ("saved 5 of 5 rows", 95),
    ]


def test_an_accounts_import_fit_scores_what_it_writes_without_a_rescore_job(
    maria, django_capture_on_commit_callbacks
):
    ICP.objects.create(
        name="Core",
        is_active=True,
        industries=["Software"],
        industries_weight=1,
        employees_min=200,
        employees_max=1000,
        employees_weight=2,
        revenue_min=2000,
        revenue_weight=3,
    )
    text = (
        "name,domain,industry,employees,annual_revenue\n"
        "Acme,acme.com,Software,1500,1500\n"
        "Beta,beta.io,Retail,300,\n"
    )

    with django_capture_on_commit_callbacks(execute=True):
        import_job_run(job=upload(maria, text), by=maria)

    # Acme: industry 1; 1 500 staff is 500 past 1 000, 0.5 of the way to 2 000; revenue 1 500
    # is 0.5 of the way from 1 000 up to 2 000. (1 + 2 * 0.5 + 3 * 0.5) / 6 = 58.33 %.
    acme = Account.objects.get(domain="acme.com")
    assert acme.fit_score == pytest.approx(58.33)
    assert acme.fit_breakdown == [
        {"criterion": "industry", "weight": 1.0, "match": 1.0, "value": "Software"},
        {"criterion": "employees", "weight": 2.0, "match": 0.5, "value": 1500},
        {"criterion": "annual_revenue", "weight": 3.0, "match": 0.5, "value": 1500},
    ]
    assert Account.objects.get(domain="beta.io").fit_score == pytest.approx(33.33)
    assert not Job.objects.filter(kind=RunKind.ICP_RESCORE).exists()


def test_a_reimport_that_changes_nothing_writes_no_score(maria, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_job_run(job=upload(maria, ACCOUNTS_CSV), by=maria)
    ICP.objects.create(name="Core", is_active=True, countries=["Germany"], countries_weight=1)
    before = dict(Account.objects.values_list("domain", "updated_at"))

    with django_capture_on_commit_callbacks(execute=True):
        run = import_job_run(job=upload(maria, ACCOUNTS_CSV), by=maria)

    assert (run.result["unchanged"], run.result["created"]) == (2, 0)
    assert dict(Account.objects.values_list("domain", "updated_at")) == before
    assert not Job.objects.filter(kind=RunKind.ICP_RESCORE).exists()


def test_a_job_whose_file_vanished_fails_with_the_reason(maria):
    job = upload(maria, ACCOUNTS_CSV)
    import_job_file(job).unlink()

    with pytest.raises(ImportRefused, match="is gone; upload it again"):
        import_job_run(job=job, by=maria)

    job.refresh_from_db()
    assert job.run.status == RunStatus.FAILED
    assert "is gone" in job.run.error


def test_a_mapping_missing_a_required_column_is_refused_before_anything_runs(maria):
    job = upload(maria, ACCOUNTS_CSV)

    with pytest.raises(ImportRefused, match="Missing required columns"):
        import_job_enqueue(job=job, by=maria, mapping={"Tier": "tier"})

    assert not Job.objects.exists()


def test_the_size_limit_is_checked_before_reading_and_again_while_copying(
    maria, settings, var_dir, monkeypatch
):
    settings.ABM_IMPORT_MAX_BYTES = 20

    def never(*args, **kwargs):
        raise AssertionError("parsed a file that was too big")

    monkeypatch.setattr(importing, "decode", never)
    with pytest.raises(ImportRefused, match="imports are limited to"):
        upload(maria, ACCOUNTS_CSV)
    lying = io.BytesIO(ACCOUNTS_CSV.encode())
    with pytest.raises(ImportRefused, match="imports are limited to"):
        import_job_create(kind="accounts", upload=lying, name="x.csv", by=maria, size=10)

    assert list((var_dir / "imports").iterdir()) == []
    assert not ImportJob.objects.exists()


def test_a_binary_upload_is_refused_and_not_kept(maria, var_dir):
    with pytest.raises(ImportRefused, match="Excel workbook"):
        import_job_create(
            kind="accounts", upload=io.BytesIO(b"PK\x03\x04" + bytes(200)), name="x.xlsx", by=maria
        )

    assert list((var_dir / "imports").iterdir()) == []


@pytest.mark.parametrize("user", ["alice", "diana"])
def test_only_marketers_and_admins_may_import(user, request, maria):
    someone = request.getfixturevalue(user)
    job = upload(maria, ACCOUNTS_CSV)

    with pytest.raises(PermissionDenied):
        upload(someone, ACCOUNTS_CSV)
    with pytest.raises(PermissionDenied):
        import_job_run(job=job, by=someone)
    with pytest.raises(PermissionDenied):
        import_job_enqueue(job=job, by=someone)

    assert not Account.objects.exists()


@pytest.mark.parametrize("user", ["maria", "root"])
def test_marketers_and_admins_may_import(user, request, tmp_path, db):
    by = request.getfixturevalue(user)

    job = import_file(kind="accounts", path=write(tmp_path, ACCOUNTS_CSV), by=by)

    assert (job.created, job.rejected) == (2, 1)


def test_running_the_same_file_twice_gives_the_same_rows(maria, tmp_path):
    path = write(tmp_path, ACCOUNTS_CSV)
    first = import_file(kind="accounts", path=path, by=maria)
    rows = list(Account.objects.order_by("pk").values())

    second = import_file(kind="accounts", path=path, by=maria)

    assert (first.created, first.unchanged, first.rejected) == (2, 0, 1)
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, 2, 1)
    assert list(Account.objects.order_by("pk").values()) == rows


# --- The command ----------------------------------------------------------------------------


def command(*args) -> str:
    out = io.StringIO()
    call_command("import_csv", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_counts_the_first_rejects_and_the_rejects_file(root, tmp_path):
    path = write(tmp_path, ACCOUNTS_CSV, name="companies.csv")

    output = command("accounts", str(path))

    job = ImportJob.objects.get()
    assert output.splitlines() == [
        f"accounts import #{job.pk} of companies.csv (utf-8, delimiter ';'): "
        "2 created, 0 updated, 0 unchanged, 1 rejected",
        "  line 3: AnnualRevenue '-5' must not be negative",
        f"rejected rows: {import_job_rejects_file(job)}",
    ]
    assert import_job_rejects_file(job).exists()


def test_the_command_takes_column_mappings_and_a_user(maria, alice, tmp_path):
    text = "Company;Web Address;Rep;Ignored Revenue\nAcme;acme.com;alice;lots\n"
    path = write(tmp_path, text)

    output = command(
        "accounts",
        str(path),
        "--mapping",
        "Web Address=domain",
        "Rep=owner",
        "--mapping",
        "Ignored Revenue=-",
        "--by",
        "maria",
    )

    assert "1 created, 0 updated, 0 unchanged, 0 rejected" in output
    assert "rejected rows" not in output
    account = Account.objects.get()
    assert (account.name, account.domain, account.owner) == ("Acme", "acme.com", alice)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04" + bytes(100), "refused: This file is an Excel workbook"),
        (b"Name;Industry\nAcme;Software\n", "refused: Missing required columns"),
        (b"\xff\xd8\xff\xe0" + bytes(100), "refused: This file is a JPEG image"),
    ],
)
def test_the_command_fails_only_when_the_whole_file_is_refused(root, tmp_path, content, message):
    path = write(tmp_path, content)

    with pytest.raises(CommandError, match=message):
        command("accounts", str(path))

    assert not ImportJob.objects.exists()


def test_the_command_refuses_a_file_over_the_limit(root, tmp_path, settings):
    settings.ABM_IMPORT_MAX_BYTES = 10

    with pytest.raises(CommandError, match=r"refused: The file is 0\.0 MB; imports are limited"):
        command("accounts", str(write(tmp_path, ACCOUNTS_CSV)))


def test_the_command_succeeds_when_every_row_is_rejected(root, tmp_path):
    output = command("accounts", str(write(tmp_path, "name,domain\nA,a\nB,b\n")))

    assert "0 created, 0 updated, 0 unchanged, 2 rejected" in output


def test_the_command_refuses_directors(diana, tmp_path):
    with pytest.raises(CommandError, match="Only marketers and admins may import"):
        command("accounts", str(write(tmp_path, ACCOUNTS_CSV)), "--by", "diana")


def test_the_command_names_an_unknown_field(root, tmp_path):
    with pytest.raises(CommandError, match="unknown field 'revenue' for accounts"):
        command("accounts", str(write(tmp_path, ACCOUNTS_CSV)), "--mapping", "Tier=revenue")


def test_the_command_needs_an_existing_file(root, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        command("accounts", str(tmp_path / "missing.csv"))


# --- A real worker --------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_an_uploaded_file(celery_worker, maria):
    with transaction.atomic():
        job = upload(maria, ACCOUNTS_CSV)
        run = import_job_enqueue(job=job, by=maria)
    deadline = time.monotonic() + 60
    while run.status not in (RunStatus.DONE, RunStatus.FAILED) and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()

    assert run.status == RunStatus.DONE, run.error
    assert (run.result["created"], run.result["rejected"]) == (2, 1)
    assert Account.objects.count() == 2


def test_the_command_explains_a_malformed_mapping(root, tmp_path):
    with pytest.raises(CommandError, match="expected HEADER=FIELD, got 'Tier'"):
        command("accounts", str(write(tmp_path, ACCOUNTS_CSV)), "--mapping", "Tier")
