"""The OpenAPI document: valid, warning-free, described, and its docs pages served locally."""

import io

import pytest
from django.core.management import call_command

from tests.api.conftest import schema_parameter as _parameter
from tests.factories import AccountFactory


def test_the_schema_validates_without_warnings(db):
    out = io.StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    assert "openapi: 3" in out.getvalue()


def test_every_operation_has_a_description_and_documents_its_errors(client, db):
    schema = client.get("/api/schema/?format=json").json()

    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) > 50
    for path, method, operation in operations:
        assert operation.get("description"), f"{method.upper()} {path} has no description"
        assert "401" in operation["responses"], f"{method.upper()} {path}"
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_their_assets_from_our_static_files(client, db, path):
    html = client.get(path).content.decode()

    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


# --- The schema states the rules the code enforces (schemathesis ST201/ST202, issue 17) -------


@pytest.fixture
def schema(client, db):
    return client.get("/api/schema/?format=json").json()


def test_id_page_and_flag_parameters_state_their_ranges_and_types(schema):
    assert _parameter(schema, "/api/contacts/", "account")["minimum"] == 1
    assert _parameter(schema, "/api/contacts/", "account")["type"] == "integer"
    assert _parameter(schema, "/api/contacts/", "page")["minimum"] == 1
    assert _parameter(schema, "/api/contacts/", "page_size")["minimum"] == 1
    assert _parameter(schema, "/api/playbooks/", "is_starter") == {"type": "boolean"}
    tier = _parameter(schema, "/api/opportunities/", "tier")
    assert tier["type"] == "string"
    assert "targets" in tier["enum"]


def test_numbers_carry_the_bounds_of_the_models_check_constraints(schema):
    budget = schema["components"]["schemas"]["BudgetLineRequest"]["properties"]["amount"]
    playbook = schema["components"]["schemas"]["PlaybookRequest"]["properties"]

    # amount >= 0 and two decimal places: no minus sign, at least one digit.
    assert budget["pattern"] == r"^\d{1,12}(?:\.\d{1,2})?$"
    assert playbook["budget"]["pattern"] == r"^\d{1,12}(?:\.\d{1,2})?$"


def test_a_number_where_the_schema_says_text_is_refused(api, maria):
    account = AccountFactory()
    body = {"account": account.pk, "first_name": "Ada", "last_name": "Ng", "title": 123}

    response = api(maria).post("/api/contacts/", body, format="json")

    assert response.status_code == 400, response.content
    assert "title" in response.json()["error"]["fields"]


def test_a_number_for_a_decimal_string_is_refused(api, maria):
    body = {"channel": "event", "date": "2026-01-01", "amount": 100}

    response = api(maria).post("/api/spend/", body, format="json")

    assert response.status_code == 400, response.content
    assert "amount" in response.json()["error"]["fields"]


@pytest.mark.parametrize("page_size", ["abc", "0", "-3"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(api, maria, page_size):
    response = api(maria).get(f"/api/contacts/?page_size={page_size}")

    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["fields"]
