"""What every API test needs: a client signed in as a named user, and its own throttle counters."""

import pytest
from _pytest.nodeid import NodeId
from rest_framework.test import APIClient


def pytest_collection_modifyitems(items):
    """Under pytest 9 schemathesis gives each operation's test the function's node id, and
    pytest-xdist, which deals tests out by node id, ran one of the fuzz file's 90 operations:
    each gets its own id, ``test_...[GET /api/accounts/]``."""
    for item in items:
        if type(item).__name__ == "SchemathesisFunction":
            item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")


@pytest.fixture(autouse=True)
def _own_throttle_cache(settings, request):
    # A fresh counter store per test: user ids repeat between tests once rows are rolled back.
    settings.CACHES = {
        **settings.CACHES,
        "api_throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{request.node.nodeid}",
        },
    }


@pytest.fixture
def api():
    """``api(user)``: a JSON client signed in as ``user``."""

    def client_for(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def schema_parameter(schema: dict, path: str, name: str) -> dict:
    """The schema of the GET parameter ``name`` of ``path`` in the served OpenAPI schema."""
    parameters = schema["paths"][path]["get"]["parameters"]
    return next(p["schema"] for p in parameters if p["name"] == name)
