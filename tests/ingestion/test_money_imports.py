"""Money in imports end to end (DOMAIN.md "Money in imports"): dated conversion, the original kept,
reasons in the file's own headers, the mapping page's check equal to the run, fit on converted
amounts, and the activity API's cost in a currency."""

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from abm.models import RunStatus
from abm.tokens import token_create
from accounts.models import ICP, Account, ExchangeRate, Opportunity
from accounts.rescoring import icp_rescore
from ingestion.import_jobs import (
    import_job_check_enqueue,
    import_job_create,
    import_job_run,
)
from playbooks.models import Activity
from tests.factories import AccountFactory

CENTS = Decimal("0.01")


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def rates(db):
    """Our own rates, so the expectations do not follow the seeded ones."""
    ExchangeRate.objects.all().delete()
    ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(currency="SEK", date=dt.date(2025, 1, 2), usd_per_unit=Decimal("0.0900")),
            ExchangeRate(currency="SEK", date=dt.date(2025, 7, 1), usd_per_unit=Decimal("0.1000")),
            ExchangeRate(currency="GBP", date=dt.date(2025, 1, 2), usd_per_unit=Decimal("1.2500")),
            ExchangeRate(currency="EUR", date=dt.date(2025, 1, 2), usd_per_unit=Decimal("1.1000")),
        ]
    )


def run(kind: str, text: str, by):
    job = import_job_create(kind=kind, upload=io.BytesIO(text.encode()), name="f.csv", by=by)
    import_job_run(job=job, by=by)
    job.refresh_from_db()
    return job


def reasons(job) -> dict[int, str]:
    return {reject["line"]: reject["reason"] for reject in job.rejects}


ACCOUNTS = (
    "Account Name,Website,Annual Revenue\n"
    "Nordic,nordic.se,310 000 000 SEK\n"
    "Brit,brit.co.uk,£75.2m\n"
    "Yank,yank.com,$310k\n"
    'Plain,plain.com,"1.234.567,89"\n'
    "Odd,odd.com,EUR 1.2m\n"
)


def test_accounts_convert_at_the_import_days_rate_and_keep_the_original(maria):
    # The import's day is today, after the last SEK rate (2025-07-01).
    job = run("accounts", ACCOUNTS, maria)

    assert (job.created, job.rejected) == (5, 0)
    stored = {
        a.domain: (a.annual_revenue, a.annual_revenue_original, a.annual_revenue_currency)
        for a in Account.objects.all()
    }
    assert stored == {
        # today's SEK rate is the one of 2025-07-01, not of 2025-01-02
        "nordic.se": (Decimal("31000000.00"), Decimal("310000000.00"), "SEK"),
        "brit.co.uk": (Decimal("94000000.00"), Decimal("75200000.00"), "GBP"),
        "yank.com": (Decimal("310000.00"), None, ""),
        "plain.com": (Decimal("1234567.89"), None, ""),
        "odd.com": (Decimal("1320000.00"), Decimal("1200000.00"), "EUR"),
    }


def test_a_reimport_creates_no_duplicates_and_changes_nothing(maria):
    run("accounts", ACCOUNTS, maria)
    before = list(Account.objects.order_by("domain").values())

    again = run("accounts", ACCOUNTS, maria)

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 5, 0)
    assert list(Account.objects.order_by("domain").values()) == before


def test_a_revenue_in_the_reporting_currency_clears_an_earlier_original(maria):
    run("accounts", ACCOUNTS, maria)

    run("accounts", "Website,Annual Revenue\nnordic.se,USD 30m\n", maria)

    nordic = Account.objects.get(domain="nordic.se")
    assert (nordic.annual_revenue, nordic.annual_revenue_original) == (Decimal("30000000"), None)
    assert nordic.annual_revenue_currency == ""


def test_opportunities_convert_at_the_rate_of_their_creation(maria):
    AccountFactory(domain="nordic.se", external_id="A1")
    text = (
        "Id,AccountId,Deal Name,Amount,Created Date\n"
        "O1,A1,Before the change,SEK 1 000 000,2025-03-01\n"
        "O2,A1,After the change,SEK 1 000 000,2025-08-01\n"
    )

    job = run("opportunities", text, maria)

    assert job.created == 2
    before, after = Opportunity.objects.order_by("external_id")
    assert (before.amount, before.amount_original, before.amount_currency) == (
        Decimal("90000.00"),
        Decimal("1000000.00"),
        "SEK",
    )
    assert after.amount == Decimal("100000.00")


def test_an_amount_before_the_first_rate_is_rejected_with_the_date(maria):
    AccountFactory(domain="nordic.se", external_id="A1")
    text = "Id,AccountId,Deal Name,Amount,Created Date\nO1,A1,Old,SEK 1000,2024-03-01\n"

    job = run("opportunities", text, maria)

    assert reasons(job) == {
        2: "Amount 'SEK 1000': no SEK exchange rate on or before 2024-03-01 "
        "(the first is of 2025-01-02)"
    }


def test_an_unknown_currency_rejects_the_row_naming_it_in_the_files_words(maria):
    text = "Account Name,Website,Annual Revenue\nOdd,odd.com,12m XYZ\nFine,fine.com,12m\n"

    job = run("accounts", text, maria)

    assert (job.created, job.rejected) == (1, 1)
    assert reasons(job)[2].startswith("Annual Revenue '12m XYZ': unknown currency 'XYZ' (rates")
    assert not Account.objects.filter(domain="odd.com").exists()


def test_reasons_use_the_files_own_headers(maria):
    text = (
        "Company,Web Site,Revenue (yearly),Account Owner\n"
        "Bad,bad.com,£75.2m each,alice\n"
        "Who,who.com,1,nobody\n"
    )
    mapping = {"Company": "name", "Web Site": "domain", "Revenue (yearly)": "annual_revenue"}
    job = import_job_create(kind="accounts", upload=io.BytesIO(text.encode()), name="f", by=maria)
    import_job_run(job=job, by=maria, mapping={**mapping, "Account Owner": "owner"})
    job.refresh_from_db()

    assert reasons(job) == {
        2: "Revenue (yearly) '£75.2m each' is not an amount",
        3: "unknown Account Owner 'nobody'",
    }


# --- The mapping page's check counts what the run rejects ---------------------------------------

# What the old preview missed: an owner nobody is (line 4), a duplicate (line 5), an unknown
# currency (line 6), and a bad value beyond the previewed rows (line 13).
CHECKED = (
    "Id,Account Name,Website,Annual Revenue,Owner\n"
    "1,Acme,acme.com,$1m,alice\n"
    "2,Beta,beta.io,-5,alice\n"
    "3,Gamma,gamma.io,100,nobody\n"
    "1,Acme again,acme.com,$1m,alice\n"
    "6,Zed,zed.io,5 XYZ,alice\n"
    + "".join(f"{n},Filler {n},filler{n}.io,1,alice\n" for n in range(7, 13))
    + "13,Late,late.io,lots,alice\n"
)


def test_the_mapping_page_counts_every_reject_the_run_will_make(
    client, maria, alice, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(maria)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ingestion:import"),
            {"kind": "accounts", "file": io.BytesIO(CHECKED.encode())},
        )
    job_url = response["Location"]

    page = client.get(job_url)

    checked = page.context["checked"]
    assert (checked["rows"], checked["rejected"]) == (12, 5)
    assert "data-check-rejected>5</strong> will be rejected" in page.content.decode()
    # The previewed rows carry the run's reasons, owners and duplicates included.
    shown = {row["line"]: row["errors"] for row in page.context["preview_rows"] if row["errors"]}
    assert shown == {
        3: "Annual Revenue '-5' must not be negative",
        4: "unknown Owner 'nobody'",
        5: "duplicate of line 2 (same Id '1')",
        6: shown[6],
    }
    assert shown[6].startswith("Annual Revenue '5 XYZ': unknown currency 'XYZ'")

    job = page.context["job"]
    import_job_run(job=job, by=maria)
    job.refresh_from_db()
    assert job.rejected == checked["rejected"]
    assert sorted(reasons(job)) == [3, 4, 5, 6, 13]
    assert Account.objects.count() == 7  # the check wrote nothing; the run wrote the good rows


def test_a_check_of_other_columns_is_not_shown_as_this_mappings(
    maria, client, eager_tasks, django_capture_on_commit_callbacks
):
    job = import_job_create(
        kind="accounts", upload=io.BytesIO(CHECKED.encode()), name="f", by=maria
    )
    with django_capture_on_commit_callbacks(execute=True):
        check = import_job_check_enqueue(
            job=job, by=maria, mapping={"Website": "domain", "Account Name": "name"}
        )
    check.refresh_from_db()
    assert check.status == RunStatus.DONE
    client.force_login(maria)

    page = client.get(reverse("ingestion:import_job", args=[job.pk]))

    assert page.context["check"] is None  # the job's mapping also maps Id, Revenue and Owner
    assert page.context["checked"] is None


# --- Fit and the pages --------------------------------------------------------------------------


def test_fit_scores_the_converted_revenue(maria):
    ICP.objects.create(
        name="Mid-size",
        revenue_min=Decimal("100000000"),
        revenue_max=Decimal("500000000"),
        revenue_weight=1,
    )
    run("accounts", ACCOUNTS, maria)
    icp_rescore()

    nordic = Account.objects.get(domain="nordic.se")
    # $31M is below half the $100M floor: no revenue match, though the file said 310 000 000.
    assert nordic.fit_score == 0
    assert nordic.fit_breakdown[0]["value"] == 31000000


def test_the_account_page_and_opportunity_list_show_the_original_beside_the_converted(
    client, maria
):
    run("accounts", ACCOUNTS, maria)
    nordic = Account.objects.get(domain="nordic.se")
    text = "Id,Account Domain,Deal Name,Amount,Created Date\nO1,nordic.se,Big,SEK 1.5m,2025-08-01\n"
    run("opportunities", text, maria)
    client.force_login(maria)

    detail = client.get(reverse("accounts:detail", args=[nordic.pk])).content.decode()
    listing = client.get(reverse("accounts:opportunities")).content.decode()

    assert "SEK 310,000,000 (≈ $31M)" in detail
    assert "SEK 1,500,000 (≈ $150K)" in detail
    assert "SEK 1,500,000 (≈ $150K)" in listing


# --- Activity costs -----------------------------------------------------------------------------


def test_an_activity_cost_in_a_currency_converts_at_its_day_in_imports_and_the_api(client, maria):
    AccountFactory(domain="nordic.se", external_id="A1")
    text = (
        "Id,Account Domain,Channel,Kind,Occurred At,Cost\n"
        "E1,nordic.se,event,event_attended,2025-03-01 10:00,SEK 10 000\n"
    )
    job = run("activities", text, maria)
    assert job.created == 1

    raw = token_create(user=maria, name="sync")[1]
    response = client.post(
        "/api/activities/batch/",
        data=json.dumps(
            {
                "activities": [
                    {
                        "external_id": "api-1",
                        "account": "nordic.se",
                        "channel": "event",
                        "kind": "event_attended",
                        "occurred_at": "2025-08-01T10:00:00Z",
                        "cost": "SEK 10 000",
                    },
                    {
                        "external_id": "api-2",
                        "account": "nordic.se",
                        "channel": "event",
                        "kind": "event_attended",
                        "occurred_at": "2025-08-01T10:00:00Z",
                        "cost": "10 XYZ",
                    },
                ]
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["status"] for item in items] == ["created", "rejected"]
    assert items[1]["reason"].startswith("cost '10 XYZ': unknown currency 'XYZ'")
    costs = dict(Activity.objects.values_list("external_id", "cost"))
    assert costs == {"E1": Decimal("900.00"), "api-1": Decimal("1000.00")}
