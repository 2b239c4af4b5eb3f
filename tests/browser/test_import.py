"""A marketer imports a CSV in a real browser: upload, map, start, watch it run, fetch the rejects."""

import csv
import io

import pytest
from playwright.sync_api import expect

from abm.jobs import execute_run
from abm.models import Job, RunKind
from accounts.models import Account
from accounts.tasks import rescore_fit
from ingestion.import_jobs import import_job_create, import_job_execute
from ingestion.models import ImportJob
from ingestion.tasks import import_check, import_csv

pytestmark = pytest.mark.browser

# Line 3: negative revenue and a formula; line 4: an owner nobody is; line 6 repeats line 2.
COMPANIES_CSV = (
    "Account ID,Company name,Website,Industry,Annual Revenue,Account Owner\n"
    'A-001,Acme Robotics,https://www.acme-robotics.com,Manufacturing,"$12,500,000",alice\n'
    'A-002,"=HYPERLINK(""http://evil.example"",""Click"")",evil.example,Software,-5,alice\n'
    "A-003,Gamma Health,gamma-health.com,Healthcare,4200000,nobody\n"
    "A-004,Delta Fintech,deltafintech.io,Financial Services,,\n"
    'A-001,Acme Robotics,acme-robotics.com,Manufacturing,"$12,500,000",alice\n'
)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def in_process_tasks(monkeypatch):
    """The live server runs tasks in-process, as without REDIS_URL, even on the broker leg."""
    for task in (import_csv, import_check, rescore_fit):
        monkeypatch.setattr(task, "delay", lambda *args, task=task: task.apply(args=args))


def test_a_marketer_imports_accounts_and_downloads_the_rejects(
    page, live_server, login, screenshot, maria, alice, tmp_path, console_errors
):
    source = tmp_path / "crm-accounts.csv"
    source.write_text(COMPANIES_CSV, encoding="utf-8")
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/import/")
    expect(page.get_by_text("No imports yet")).to_be_visible()
    screenshot(page, "import_upload_empty")

    page.get_by_label("What to import").select_option("accounts")
    page.get_by_label("CSV file").set_input_files(str(source))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_load_state("domcontentloaded")

    # The mapping preview: format, suggested fields, the bad cell highlighted.
    expect(page.get_by_role("heading", name="Map the columns of crm-accounts.csv")).to_be_visible()
    assert "delimiter: comma" in page.get_by_test_id("file-format").inner_text()
    assert page.get_by_label("Website").input_value() == "domain"
    assert page.get_by_label("Account Owner").input_value() == "owner"
    assert page.get_by_label("Industry", exact=True).input_value() == "industry"
    bad_cells = page.get_by_test_id("preview-rows").locator("td.cell-error")
    assert bad_cells.all_inner_texts() == ["-5", "nobody"]
    assert bad_cells.first.get_attribute("title") == "Annual Revenue '-5' must not be negative"
    # The whole file was checked with the run's rules: the count the run will reach.
    check = page.get_by_test_id("import-check")
    expect(check).to_contain_text("5 rows")
    expect(check).to_contain_text("3 will be rejected")
    screenshot(page, "import_mapping_preview")

    # Unmapping every key first shows what is missing, inline, without losing the choices.
    page.get_by_label("Website").select_option("-")
    page.get_by_label("Account ID").select_option("-")
    page.get_by_role("button", name="Start import").click()
    page.wait_for_load_state("domcontentloaded")
    error = page.get_by_test_id("mapping-error")
    assert "Missing required columns for importing accounts" in error.inner_text()
    assert page.get_by_label("Company name").input_value() == "name"
    screenshot(page, "import_mapping_error")

    page.get_by_label("Website").select_option("domain")
    page.get_by_label("Account ID").select_option("external_id")
    page.get_by_role("button", name="Start import").click()
    page.wait_for_load_state("domcontentloaded")

    progress = page.get_by_test_id("run-progress")
    progress.locator("[data-run-done]").wait_for(state="visible")
    assert progress.get_attribute("data-status") == "done"
    assert progress.locator("[data-run-percent]").inner_text() == "100%"
    counts = page.get_by_test_id("import-counts")
    assert counts.locator("[data-count=created]").inner_text() == "2"
    assert counts.locator("[data-count=updated]").inner_text() == "0"
    assert counts.locator("[data-count=unchanged]").inner_text() == "0"
    assert counts.locator("[data-count=rejected]").inner_text() == "3"
    rejects = page.get_by_test_id("import-rejects")
    assert rejects.locator("tbody tr td.num").all_inner_texts() == ["3", "4", "6"]
    assert "unknown Account Owner 'nobody'" in rejects.inner_text()
    screenshot(page, "import_result")

    with page.expect_download() as downloading:
        page.get_by_test_id("rejects-download").click()
    download = downloading.value
    assert download.suggested_filename == "crm-accounts-rejects.csv"
    text = open(download.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:3] == ["line", "reason", "Account ID"]
    assert [(row[0], row[1]) for row in rows[1:]] == [
        ("3", "Annual Revenue '-5' must not be negative"),
        ("4", "unknown Account Owner 'nobody'"),
        ("6", "duplicate of line 2 (same Account ID 'A-001')"),
    ]
    assert rows[1][3] == '\'=HYPERLINK("http://evil.example","Click")'
    assert set(Account.objects.values_list("domain", flat=True)) == {
        "acme-robotics.com",
        "deltafintech.io",
    }

    # Running again finds every imported row as it was.
    page.get_by_role("button", name="Run again").click()
    page.wait_for_load_state("domcontentloaded")
    assert counts.locator("[data-count=unchanged]").inner_text() == "2"
    assert counts.locator("[data-count=created]").inner_text() == "0"

    page.goto(f"{live_server.url}/accounts/import/")
    jobs = page.get_by_test_id("import-jobs")
    assert "crm-accounts.csv" in jobs.inner_text()
    assert "Done" in jobs.inner_text()
    screenshot(page, "import_upload_list")
    assert console_errors == []


def test_a_file_that_is_no_csv_is_refused_next_to_the_field(
    page, live_server, login, screenshot, maria, tmp_path
):
    workbook = tmp_path / "accounts.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/import/")

    page.get_by_label("CSV file").set_input_files(str(workbook))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_load_state("domcontentloaded")

    assert page.get_by_text(
        "This file is an Excel workbook or a zip archive, not a CSV"
    ).is_visible()
    assert not ImportJob.objects.exists()
    screenshot(page, "import_upload_refused")


def test_the_page_follows_a_running_import_and_then_shows_the_result(
    page, live_server, login, screenshot, maria, alice, console_errors
):
    job = import_job_create(
        kind="accounts", upload=io.BytesIO(COMPANIES_CSV.encode()), name="crm.csv", by=maria
    )
    run = Job.objects.create(kind=RunKind.IMPORT, requested_by=maria, params={"import_job": job.pk})
    ImportJob.objects.filter(pk=job.pk).update(run=run)
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/import/{job.pk}/")
    progress = page.get_by_test_id("run-progress")
    assert progress.get_attribute("data-status") == "queued"
    screenshot(page, "import_queued")

    Job.objects.filter(pk=run.pk).update(status="running", phase="saving 5 rows", percent=40)
    expect(page.locator("[data-run-percent]")).to_have_text("40%")
    assert progress.locator("[data-run-phase]").inner_text() == "saving 5 rows"
    Job.objects.filter(pk=run.pk).update(status="queued", percent=0)
    execute_run(run.pk, lambda claimed: import_job_execute(run=claimed))

    # The poll that finds the run done answers with HX-Refresh: the page reloads with the counts.
    page.get_by_test_id("import-counts").wait_for()
    assert page.get_by_test_id("import-counts").locator("[data-count=rejected]").inner_text() == "3"
    assert console_errors == []


def test_an_account_imported_in_kronor_shows_the_original_beside_dollars(
    page,
    live_server,
    login,
    screenshot,
    maria,
    tmp_path,
    console_errors,
    transactional_db,
    exchange_rates,
):
    job = import_job_create(
        kind="accounts",
        upload=io.BytesIO(
            b"Account Name,Website,Annual Revenue\nNordic,nordic.se,SEK 310 000 000\n"
        ),
        name="nordic.csv",
        by=maria,
    )
    run = Job.objects.create(kind=RunKind.IMPORT, params={"import_job": job.pk})
    execute_run(run.pk, lambda claimed: import_job_execute(run=claimed))
    nordic = Account.objects.get(domain="nordic.se")
    login(page, live_server, "maria")
    page.set_viewport_size({"width": 390, "height": 900})

    page.goto(f"{live_server.url}/accounts/{nordic.pk}/")

    revenue = page.get_by_test_id("annual-revenue")
    expect(revenue).to_contain_text("SEK 310,000,000 (≈ $")
    assert nordic.annual_revenue < 50_000_000  # converted, not read as dollars
    screenshot(page, "account_revenue_in_kronor_390")
    assert console_errors == []


def test_a_file_over_the_limit_is_refused_before_it_is_sent(
    page, live_server, login, maria, settings, tmp_path, console_errors
):
    settings.ABM_IMPORT_MAX_BYTES = 1024 * 1024
    source = tmp_path / "big.csv"
    source.write_bytes(b"Id,Name\n" + b"1,Acme\n" * 225_000)  # 1.5 MB
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/import/")
    requests = []
    page.on("request", lambda request: requests.append(request.method))

    page.get_by_label("What to import").select_option("accounts")
    page.get_by_label("CSV file").set_input_files(str(source))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.locator(".field-error")).to_have_text(
        "The file is 1.5 MB; imports are limited to 1 MB. Split it into smaller files."
    )
    assert "POST" not in requests
    assert not ImportJob.objects.exists()
    assert console_errors == []
