"""The ICP editor: validation, saving with a re-score of every account, preview, progress."""

from decimal import Decimal

import pytest
from django.urls import reverse

from abm.models import Job, RunKind, RunStatus
from accounts.icp import weight_shares
from accounts.models import ICP, Account
from accounts.scoring import IcpCriteria
from tests.accounts.account_pages import account

URL = reverse("accounts:icp")

VALID = {
    "industries": ["Software"],
    "extra_industries": "",
    "industries_weight": "3",
    "employees_min": "100",
    "employees_max": "1000",
    "employees_weight": "1",
    "revenue_min": "",
    "revenue_max": "",
    "revenue_weight": "0",
    "countries": [],
    "extra_countries": "",
    "countries_weight": "0",
}


@pytest.fixture
def companies():
    return {
        "fit": account(None, "Fit", industry="Software", employees=500),
        "half": account(None, "Half", industry="Retail", employees=500),
        "none": account(None, "None", industry="Retail", employees=5_000),
    }


def test_saving_rescores_every_account_and_shows_the_run_done(
    client, maria, companies, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(maria)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(URL, {**VALID, "save": "1"})

    assert len(callbacks) == 1  # the task is sent once the ICP is committed
    run = Job.objects.get(kind=RunKind.ICP_RESCORE)
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?run={run.pk}"
    assert run.status == RunStatus.DONE
    assert run.requested_by == maria
    icp = ICP.objects.get(is_active=True)
    assert (icp.industries, icp.industries_weight, icp.updated_by) == (["Software"], 3.0, maria)
    scores = dict(Account.objects.values_list("name", "fit_score"))
    assert scores == {"Fit": 100.0, "Half": 25.0, "None": 0.0}

    page = client.get(response["Location"])
    assert page.context["run"] == run
    html = page.content.decode()
    assert 'data-status="done"' in html
    assert "hx-trigger" not in html  # a finished run is not polled


def test_saving_updates_the_active_icp_in_place(client, maria, companies):
    existing = ICP.objects.create(name="Core", industries=["Retail"], industries_weight=1)
    client.force_login(maria)

    client.post(URL, {**VALID, "extra_industries": "Fintech, software ,  Health tech"})

    existing.refresh_from_db()
    assert ICP.objects.count() == 1
    assert existing.name == "Core"
    # Typed values join the ticked ones, once each whatever their case.
    assert existing.industries == ["Software", "Fintech", "Health tech"]
    assert existing.employees_min == 100


def test_the_form_starts_from_the_active_icp(client, maria, companies):
    ICP.objects.create(
        name="Core",
        industries=["Software", "Quantum"],
        industries_weight=2,
        revenue_min=Decimal("2000000.00"),
        revenue_weight=1,
    )
    client.force_login(maria)

    response = client.get(URL)

    form = response.context["form"]
    assert form.initial["revenue_min"] == 2_000_000
    # A chosen industry absent from the data stays on offer so it can be unticked.
    assert ("Quantum", "Quantum") in form.fields["industries"].choices
    assert ("Retail", "Retail") in form.fields["industries"].choices
    assert response.context["shares"]["industries_weight"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"employees_min": "500", "employees_max": "100"}, "employees_max", "at least the minimum"),
        (
            {"revenue_min": "9000000", "revenue_max": "10", "revenue_weight": "1"},
            "revenue_max",
            "at least the minimum",
        ),
        ({"industries_weight": "-1"}, "industries_weight", "cannot be negative"),
        ({"employees_weight": "heavy"}, "employees_weight", "Enter a number."),
        ({"employees_min": "-5"}, "employees_min", "greater than or equal to 0"),
        ({"countries_weight": "2"}, "countries_weight", "at least one country"),
        ({"industries_weight": "0", "employees_weight": "0"}, "__all__", "weight above 0"),
        (
            {"industries": [], "employees_min": "", "employees_max": ""},
            "__all__",
            "weight above 0",
        ),
        ({"industries": ["Nonexistent"]}, "industries", "Select a valid choice"),
    ],
)
def test_invalid_criteria_are_shown_inline_and_nothing_is_saved(
    client, maria, companies, changes, field, message
):
    client.force_login(maria)

    response = client.post(URL, {**VALID, **changes})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors[field]), errors
    assert not ICP.objects.exists()
    assert not Job.objects.exists()


def test_a_preview_counts_strong_fits_without_saving(client, maria, companies):
    Account.objects.filter(name="None").update(fit_score=90)
    client.force_login(maria)

    response = client.post(URL, {**VALID, "preview": "1"})

    preview = response.context["preview"]
    assert preview == {"threshold": 70, "accounts": 3, "now": 1, "would": 1, "delta": 0}
    assert not ICP.objects.exists()
    assert not Job.objects.exists()
    assert 'data-testid="icp-preview"' in response.content.decode()


@pytest.mark.parametrize("username", ["alice", "diana"])
def test_only_marketers_and_admins_edit_the_icp(client, alice, diana, username):
    client.force_login({"alice": alice, "diana": diana}[username])

    assert client.get(URL).status_code == 403
    assert client.post(URL, VALID).status_code == 403
    assert not ICP.objects.exists()


def test_run_status_renders_the_progress_partial_until_the_run_finishes(client, maria):
    run = Job.objects.create(
        kind=RunKind.ICP_RESCORE, status=RunStatus.RUNNING, phase="scoring 10 accounts", percent=30
    )
    client.force_login(maria)
    url = reverse("accounts:run_status", args=[run.pk])

    html = client.get(url).content.decode()

    assert 'data-status="running"' in html
    assert "scoring 10 accounts" in html
    assert "30%" in html
    assert 'aria-valuenow="30"' in html
    assert f'hx-get="{url}" hx-trigger="every 1s"' in html
    assert "HX-Refresh" not in client.get(url)

    Job.objects.filter(pk=run.pk).update(status=RunStatus.DONE, percent=100)
    html = client.get(url).content.decode()
    assert 'data-status="done"' in html
    assert "Every account has its new fit" in html
    assert "hx-trigger" not in html
    assert client.get(reverse("accounts:run_status", args=[999999])).status_code == 404


def test_a_queued_run_shows_a_bar_that_the_page_will_poll(client, maria):
    run = Job.objects.create(kind=RunKind.ICP_RESCORE, status=RunStatus.QUEUED)
    client.force_login(maria)

    html = client.get(URL, {"run": run.pk}).content.decode()

    assert 'data-status="queued"' in html
    assert f'hx-get="{reverse("accounts:run_status", args=[run.pk])}"' in html
    assert "vendor/htmx/htmx.min.js" in html
    assert 'role="progressbar"' in html


def test_weight_shares_count_only_configured_criteria():
    shares = weight_shares(
        IcpCriteria(industries=("Software",), industries_weight=3, countries_weight=5)
    )

    assert shares == {
        "industries_weight": 1.0,
        "employees_weight": 0.0,
        "revenue_weight": 0.0,
        "countries_weight": 0.0,
    }
