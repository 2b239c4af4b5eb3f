"""Uploads that are too big, packed, binary or runaway are refused in words, without reading them
whole, and nothing of them is stored; a good file still goes through."""

import bz2
import csv
import gzip
import io
import lzma
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ingestion import importing
from ingestion.import_jobs import import_job_create
from ingestion.importing import ImportRefused
from ingestion.models import ImportJob

UPLOAD_URL = reverse("ingestion:import")
GOOD_CSV = b"Id,Account Name,Website\n001,Acme,acme.com\n002,Globex,globex.com\n"


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


def upload(client, data: bytes, name: str = "companies.csv", **extra):
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(UPLOAD_URL, {"kind": "accounts", "file": file}, **extra)


def file_error(response) -> str:
    assert response.status_code in (200, 413), response.status_code
    error = response.context["form"].errors["file"][0]
    assert error in response.content.decode()
    return error


def assert_nothing_stored(var_dir: Path) -> None:
    assert not ImportJob.objects.exists()
    assert not list(var_dir.glob("imports/*"))


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    return buffer.getvalue()


PACKED = GOOD_CSV * 1000


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (gzip.compress(PACKED), "a gzip archive"),
        (bz2.compress(PACKED), "a bzip2 archive"),
        (lzma.compress(PACKED), "an xz archive"),
        (b"7z\xbc\xaf\x27\x1c" + PACKED, "a 7-Zip archive"),
        (b"\x28\xb5\x2f\xfd" + PACKED, "a Zstandard archive"),
        (b"Rar!\x1a\x07\x01\x00" + PACKED, "a RAR archive"),
        (_empty_zip(), "a zip archive"),
    ],
)
def test_an_archive_is_refused_unopened_with_advice_to_unpack_it(
    client, maria, var_dir, data, what
):
    client.force_login(maria)

    error = file_error(upload(client, data, "companies.csv.gz"))

    assert error == f"This file is {what}, not a CSV: unpack it and upload the CSV file inside."
    assert_nothing_stored(var_dir)


def test_a_header_with_thousands_of_columns_is_refused(client, maria, var_dir):
    client.force_login(maria)
    header = ",".join(f"c{n}" for n in range(20_000))

    error = file_error(upload(client, f"{header}\n{'1,' * 19_999}1\n".encode()))

    assert error == (
        "The first line has 20,000 columns; an import reads at most 1,000. Check that this is "
        "the right file, or remove the columns you do not need."
    )
    assert_nothing_stored(var_dir)


def test_a_header_with_a_runaway_value_is_refused_in_words(client, maria, var_dir):
    client.force_login(maria)
    runaway = "x" * (csv.field_size_limit() + 1)

    error = file_error(upload(client, f"Id,{runaway}\n1,2\n".encode()))

    assert error == (
        "line 1: the header cannot be read (a value is longer than 131,072 characters, more "
        "than any field holds; the file may be damaged or not a CSV)."
    )
    assert_nothing_stored(var_dir)


def test_a_row_with_a_runaway_value_or_too_many_values_is_rejected_and_kept_short():
    runaway = "y" * (csv.field_size_limit() + 1)
    data = f"Id,Name\n1,Acme\n2,{runaway}\n3{',z' * 5000}\n4,Globex\n".encode()

    table = importing.read_table(data)

    assert [record.cells for record in table.records] == [["1", "Acme"], ["4", "Globex"]]
    first, second = table.unreadable
    assert first.line == 3
    assert first.reason == (
        "cannot be read as CSV (a value is longer than 131,072 characters, more than any field "
        "holds; the file may be damaged or not a CSV)"
    )
    assert first.cells == [f"2,{runaway[:4094]}…"]
    assert (second.line, second.reason) == (4, "has 5,001 values; a row may hold at most 1,000")
    assert second.cells == ["3", "z"]


def test_an_upload_declaring_more_than_the_limit_is_refused_before_its_body_is_read(
    client, maria, settings, var_dir
):
    settings.ABM_IMPORT_MAX_BYTES = 1024 * 1024
    client.force_login(maria)

    # The test client's body is a few bytes: reading past them fails the test, so a refusal here
    # proves the view judged the declared size and read nothing.
    response = upload(client, GOOD_CSV, CONTENT_LENGTH=str(10 * 1024**3))

    assert response.status_code == 413
    assert "Content-Security-Policy" in response
    assert file_error(response) == (
        "The file is 10240.0 MB; imports are limited to 1.0 MB. Split it into smaller files."
    )
    assert_nothing_stored(var_dir)


def test_the_upload_page_still_checks_the_csrf_token(maria, var_dir):
    client = Client(enforce_csrf_checks=True)
    client.force_login(maria)

    assert upload(client, GOOD_CSV).status_code == 403
    assert_nothing_stored(var_dir)


def test_a_good_file_under_the_limits_is_stored(client, maria, settings, var_dir):
    settings.ABM_IMPORT_MAX_BYTES = len(GOOD_CSV)
    client.force_login(maria)

    response = upload(client, GOOD_CSV)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ingestion:import_job", args=[job.pk])
    assert job.headers == ["Id", "Account Name", "Website"]
    assert job.size == len(GOOD_CSV)


def test_the_command_path_refuses_an_archive_too(maria, var_dir):
    with pytest.raises(ImportRefused, match="This file is a gzip archive"):
        import_job_create(
            kind="accounts", upload=io.BytesIO(gzip.compress(PACKED)), name="a.csv", by=maria
        )
    assert_nothing_stored(var_dir)


def test_a_rep_declaring_a_huge_upload_gets_the_403_not_the_import_page(client, alice, var_dir):
    client.force_login(alice)

    response = upload(client, GOOD_CSV, CONTENT_LENGTH=str(10 * 1024**3))

    assert response.status_code == 403
    assert_nothing_stored(var_dir)
