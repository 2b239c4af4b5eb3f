"""Activity CSV imports: on PostgreSQL by COPY and one upsert, elsewhere by the batch writer.

Both must store the same rows, count the same and refuse the same rows for the same reasons."""

import datetime as dt
import io

import pytest
from django.db import connection, transaction

from abm.models import Change
from ingestion import importing
from ingestion.import_activity_copy import copy_activities
from ingestion.import_jobs import import_job_create, import_job_run, import_labels, import_read
from ingestion.import_upsert import upsert_rows
from playbooks.models import Activity
from tests.factories import AccountFactory, ActivityFactory, ContactFactory

UTC = dt.UTC
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"
)
pytestmark = pytest.mark.usefixtures("exchange_rates")

HEADER = (
    "Activity ID,Company Domain Name,Account Name,Contact Email,Contact ID,Channel,Type,"
    "Date,Cost,Duration Minutes,Notes\n"
)


@pytest.fixture
def book(db):
    acme = AccountFactory(domain="acme.com", name="Acme")
    beta = AccountFactory(domain="beta.io", name="Beta")
    AccountFactory(domain="twin-one.com", name="Twin")
    AccountFactory(domain="twin-two.com", name="Twin")
    ada = ContactFactory(account=acme, email="ada@acme.com")
    ContactFactory(account=beta, email="bo@beta.io", external_id="CT1")
    at = dt.datetime(2025, 3, 1, 9, tzinfo=UTC)
    stored = {
        "source": "import",
        "channel": "email",
        "kind": "email_open",
        "direction": "inbound",
        "occurred_at": at,
    }
    ActivityFactory(account=acme, external_id="X1", cost=5, notes="old", **stored)
    ActivityFactory(account=acme, external_id="X2", notes="same", **stored)
    ActivityFactory(account=beta, external_id="X3", duration_minutes=30, **stored)
    ActivityFactory(account=beta, external_id="X4", contact=None, **stored)
    ActivityFactory(account=beta, external_id="X1", **{**stored, "source": "api"})
    return {"acme": acme, "beta": beta, "ada": ada}


MIXED = HEADER + (
    # New rows, with a contact by email and by id, a cost in dollars and one in euros; the
    # account's name only counts when its domain is unknown.
    "N6,acme.com,Beta,,,Email,Email opened,2025-03-05,,,\n"
    'N1,acme.com,,ada@acme.com,,Email,Email opened,2025-03-02 10:00,$12.50,,"tab\there"\n'
    "N2,beta.io,,,CT1,Webinar,Webinar attended,2025-03-03,€40,45,\n"
    # Blank cells keep what is stored; X2 names only its account: unchanged.
    "X1,,,,,,,,,,new note\n"
    "X2,acme.com,,,,,,,,,\n"
    # X3 moves to Acme as an outbound email: direction follows the kind.
    "X3,acme.com,,,,Email,Email sent,2025-03-04,,,\n"
    # A contact of the stored account, the row naming none.
    "X4,,,bo@beta.io,,,,,,,\n"
    # Refused, each for its own reason.
    "N3,acme.com,,,,Email,,2025-03-05,,,\n"
    "N4,nope.com,,,,Email,Email opened,2025-03-05,,,\n"
    "N5,,Twin,,,Email,Email opened,2025-03-05,,,\n"
    "N1,acme.com,,,,Email,Email clicked,2025-03-05,,,\n"
    '"N7",acme.com,,,,Email,Email opened,2025-03-05,"$99,999,999,999",,\n'
    ",acme.com,,,,Email,Email opened,2025-03-05,,,\n"
    "N8,acme.com,,ghost@acme.com,,Email,Email opened,2025-03-05,,,\n"
    "N9,,,,,Email,Email opened,2025-03-05,,,\n"
    "N10,acme.com,,,,Carrier pigeon,Email opened,2025-03-05,,,\n"
    # A refused first row does not claim its key: the later one is written.
    "N11,nope.com,,,,Email,Email opened,2025-03-05,,,\n"
    "N11,acme.com,,,,Email,Email opened,2025-03-06,,,\n"
)


def stored_rows() -> list[dict]:
    names = [
        f.attname for f in Activity._meta.concrete_fields if f.name not in ("id", "created_at")
    ]
    return list(Activity.objects.order_by("source", "external_id").values(*names))


def batch_import(parsed, by):
    touched = set()
    counts, rejects = upsert_rows(
        kind="activities",
        rows=parsed.rows,
        by=by,
        labels=import_labels(parsed.mapping),
        touched=touched,
    )
    return counts.as_dict(), {r.line: r.reason for r in rejects}, touched


def copy_import(parsed, by):
    counts, rejects, touched = copy_activities(
        parsed.rows, by=by, labels=import_labels(parsed.mapping)
    )
    return counts.as_dict(), {r.line: r.reason for r in rejects}, touched


@postgresql_only
def test_the_copy_path_stores_counts_and_refuses_as_the_batch_writer(book, maria):
    parsed = importing.parse(MIXED.encode(), "activities", tz=UTC)
    results = []
    for write in (batch_import, copy_import):
        with transaction.atomic():
            outcome = write(parsed, maria)
            results.append((outcome, stored_rows()))
            transaction.set_rollback(True)

    (batch, batch_rows), (copied, copied_rows) = results
    assert copied == batch
    assert copied_rows == batch_rows
    # The comparison saw every case: creates, updates, unchanged rows and refusals.
    counts, reasons, touched = copied
    assert min(counts["created"], counts["updated"], counts["unchanged"]) > 0
    assert len(reasons) == 8  # and two refused by the reading
    assert touched == {book["acme"].pk, book["beta"].pk}


def run_job(by, text: str):
    job = import_job_create(
        kind="activities", upload=io.BytesIO(text.encode()), name="touches.csv", by=by
    )
    import_job_run(job=job, by=by)
    job.refresh_from_db()
    return job


def test_a_reimport_writes_nothing_and_duplicates_nothing(book, maria):
    first = run_job(maria, MIXED)
    rows = stored_rows()

    again = run_job(maria, MIXED)

    assert (first.created, first.updated, first.unchanged, first.rejected) == (4, 3, 1, 10)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
    assert stored_rows() == rows
    assert Activity.objects.filter(source="import", external_id="N1").count() == 1


def test_refused_rows_keep_their_reason_line_by_line(book, maria):
    counts, rejects, _, _ = import_read(
        kind="activities", data=MIXED.encode(), mapping=None, by=maria, dry_run=False
    )

    assert {r.line: r.reason for r in rejects} == {
        9: "Type is required to create an activity",
        10: "unknown account (Company Domain Name 'nope.com')",
        11: "Account Name 'Twin' matches 2 accounts; add an account domain or account id column",
        12: "duplicate of line 3 (same Activity ID 'N1')",
        13: "Cost '$99,999,999,999' is too large",
        14: "Activity ID is required: it is how a re-import finds an activity",
        15: "unknown contact 'ghost@acme.com' at this account",
        16: "an account (account_external_id, domain or name) is required",
        17: "unknown Channel 'Carrier pigeon' (expected one of email, linkedin, paid_social, "
        "display, direct_mail, event, webinar, phone, sdr_outreach, content, "
        "web_personalisation)",
        18: "unknown account (Company Domain Name 'nope.com')",
    }
    assert counts.as_dict() == {"created": 4, "updated": 3, "unchanged": 1, "rejected": 10}
    assert Activity.objects.get(source="import", external_id="N11").occurred_at.day == 6


def test_the_change_feed_names_the_accounts_the_rows_touched(book, maria):
    other = AccountFactory(domain="other.io")

    run_job(
        maria, HEADER + "X3,acme.com,,,,,,,,,\nN1,acme.com,,,,Email,Email opened,2025-03-02,,,\n"
    )

    announced = set(Change.objects.values_list("account_id", flat=True))
    # X3 moved from Beta to Acme: both are recomputed, and no other account.
    assert announced == {book["acme"].pk, book["beta"].pk}
    assert other.pk not in announced


def test_a_file_of_only_a_header_imports_nothing(book, maria):
    counts, rejects, _, touched = import_read(
        kind="activities", data=HEADER.encode(), mapping=None, by=maria, dry_run=False
    )

    assert (counts.as_dict(), rejects, touched) == (
        {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0},
        [],
        set(),
    )
