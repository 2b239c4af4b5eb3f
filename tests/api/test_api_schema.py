"""The OpenAPI document: valid, warning-free, described, and its docs pages served locally."""

import io

import pytest
from django.core.management import call_command


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
