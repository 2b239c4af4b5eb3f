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


# --- Relations, a goal's target and milestones, a playbook's saved filter ----------------------

BIGINT_MAX = 9223372036854775807


@pytest.mark.parametrize(
    ("component", "name"),
    [
        ("GoalRequest", "owner"),
        ("GoalRequest", "scope_playbook"),
        ("GoalRequest", "scope_owner"),
        ("GoalRequest", "parent"),
        ("PatchedGoalRequest", "parent"),
        ("PlaybookRequest", "owner"),
        ("PlaybookRequest", "goal"),
        ("StepRequest", "stage"),
        ("EnrolmentRequest", "account"),
    ],
)
def test_a_relation_id_is_stated_from_1_to_the_bigint_max(schema, component, name):
    stated = schema["components"]["schemas"][component]["properties"][name]

    assert (stated["type"], stated["minimum"], stated["maximum"]) == ("integer", 1, BIGINT_MAX)


@pytest.mark.parametrize("owner", [-1, 0, BIGINT_MAX])
def test_an_owner_id_outside_the_stated_range_or_of_nobody_is_a_400(api, diana, owner):
    body = {"name": "Pipeline", "team": "sales", "owner": owner, "metric": "pipeline_created"}

    response = api(diana).post("/api/goals/", body, format="json")

    assert response.status_code == 400, response.content
    assert "owner" in response.json()["error"]["fields"]


def test_a_goals_target_is_stated_above_zero(schema):
    pattern = re.compile(
        schema["components"]["schemas"]["GoalRequest"]["properties"]["target"]["pattern"]
    )
    targets = ["0.0001", "5", "0010", "999999999999.9999", "0", "0.0000", "-1", "0.00001", ".5"]

    assert [bool(pattern.match(t)) for t in targets] == [True] * 4 + [False] * 5


def test_a_goal_states_its_most_milestones(schema):
    milestones = schema["components"]["schemas"]["GoalRequest"]["properties"]["milestones"]

    assert milestones["maxItems"] == 24


AUDIENCE_ACCEPTED = [
    {"tier": "targets", "stage": "none", "owner": "unassigned"},
    {"tier": "3", "owner": "12", "industry": " Software", "country": "Deutschland"},
    {"fit_min": "0", "fit_max": "100.0000", "engagement_min": "123456789.5", "spike": "true"},
    {"reached": "mqa", "reached_from": "2026-01-01", "reached_to": "2026-12-31"},
    {"playbook": "5", "target": "false", "unassigned": "1", "q": "acme"},
    {"updated_since": "2026-01-31T09:00:00+02:00", "external_id": "0012", "domain": "acme.com"},
]
AUDIENCE_REFUSED = [
    ("owner", "0012"),
    ("owner", "²"),
    ("playbook", "0"),
    ("fit_min", "1e1"),
    ("fit_max", "100.5"),
    ("engagement_min", "1_000"),
    ("spike", "yes"),
    ("tier", "4"),
    ("reached_from", "2026-1-5"),
    ("updated_since", "2026-01-31"),
    ("shoe_size", "9"),
]


def _audience_accepted(api, user, audience: dict) -> bool:
    body = {"name": "Audience test", "audience_filter": audience}
    response = api(user).post("/api/playbooks/", body, format="json")
    assert response.status_code in (201, 400), response.content
    return response.status_code == 201


@pytest.mark.parametrize("audience", AUDIENCE_ACCEPTED)
def test_a_saved_filter_the_schema_allows_is_accepted(api, maria, schema, audience):
    stated = schema["components"]["schemas"]["PlaybookRequest"]["properties"]["audience_filter"]
    properties = stated["properties"]

    assert stated["additionalProperties"] is False
    for name, value in audience.items():
        spec = properties[name]
        assert value in spec.get("enum", [value])
        assert re.match(spec.get("pattern", ""), value), (name, value)
    assert _audience_accepted(api, maria, audience)


@pytest.mark.parametrize(("name", "value"), AUDIENCE_REFUSED)
def test_a_saved_filter_the_schema_forbids_is_a_400_naming_it(api, maria, schema, name, value):
    properties = schema["components"]["schemas"]["PlaybookRequest"]["properties"]
    spec = properties["audience_filter"]["properties"].get(name)

    stated = spec is not None and value in spec.get("enum", [value])
    assert not (stated and re.match(spec.get("pattern", ""), value))
    response = api(maria).post(
        "/api/playbooks/",
        {"name": "Audience test", "audience_filter": {name: value}},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert name in response.json()["error"]["fields"]["audience_filter"][0]
