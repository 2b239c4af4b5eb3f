"""The schema states the bounds and shapes the code enforces (schemathesis ST202, issue 17): a
value the schema allows is accepted, and the edge just past what it states is refused."""

import re

import pytest

from accounts.models import Account
from tests.api.conftest import schema_parameter as _parameter


@pytest.fixture
def schema(client, db):
    return client.get("/api/schema/?format=json").json()


@pytest.mark.parametrize(
    ("path", "name", "maximum"),
    [
        ("/api/accounts/", "fit_min", 100),
        ("/api/accounts/", "engagement_min", 10**9),
        ("/api/opportunities/", "amount_min", 10**12),
    ],
)
def test_a_minimum_filter_states_its_bounds_and_keeps_them(api, maria, schema, path, name, maximum):
    bounds = _parameter(schema, path, name)
    client = api(maria)

    assert (bounds["minimum"], bounds["maximum"]) == (0, maximum)
    assert client.get(path, {name: maximum}).status_code == 200
    assert client.get(path, {name: 0}).status_code == 200
    assert client.get(path, {name: maximum + 1}).status_code == 400
    assert client.get(path, {name: -1}).status_code == 400


REPORTS = ["attribution", "roi", "lift", "holdout-lift"]
MONTHS = ["2026-01", "1900-12", "1899-12", "2026-13", "2026-1"]


@pytest.mark.parametrize("report", REPORTS)
def test_a_reports_months_are_stated_as_yyyy_mm(schema, report):
    path = f"/api/metrics/{report}/"
    for name in ("start", "end"):
        pattern = re.compile(_parameter(schema, path, name)["pattern"])
        assert [bool(pattern.match(month)) for month in MONTHS] == [True, True, False, False, False]
    for name in ("owner", "playbook"):
        assert _parameter(schema, path, name)["minimum"] == 1


@pytest.mark.parametrize("report", REPORTS)
def test_any_month_the_schema_allows_is_read(api, maria, report):
    client = api(maria)

    for start, end in (("1900-01", "1900-12"), ("2026-01", "9999-12")):
        params = {"preset": "custom", "start": start, "end": end}
        assert client.get(f"/api/metrics/{report}/", params).status_code == 200, (start, end)
    refused = client.get(f"/api/metrics/{report}/", {"preset": "custom", "start": "1899-12"})
    assert refused.status_code == 400


def _domain_accepted(api, user, domain) -> bool:
    body = {"name": "Domain test", "domain": domain}
    response = api(user).post("/api/accounts/", body, format="json")
    assert response.status_code in (201, 400), response.content
    Account.objects.filter(name="Domain test").delete()
    return response.status_code == 201


@pytest.mark.parametrize(
    ("domain", "accepted"),
    [
        ("acme.com", True),
        ("https://www.Acme.com/about", True),
        ("sales@acme.co.uk", True),
        ("acme.com:8080", True),
        ("www.acme.com.", True),
        ("not a domain", False),
        ("acme", False),
        ("www.com", False),
        ("acme..com", False),
        ("-acme.com", False),
        ("http://http://acme.com", False),
    ],
)
def test_a_domain_is_accepted_exactly_when_the_schema_pattern_allows_it(
    api, maria, schema, domain, accepted
):
    stated = schema["components"]["schemas"]["AccountRequest"]["properties"]["domain"]

    assert bool(re.match(stated["pattern"], domain)) is accepted
    assert _domain_accepted(api, maria, domain) is accepted
