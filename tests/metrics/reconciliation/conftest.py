"""One dataset and one real recompute per reconciliation module (module scope: pytest keeps a
"package" fixture of a folder without __init__.py to the end of the session, leaking its rows).

The rows live inside an outer transaction that is rolled back at the end, as Django's
TestCase.setUpTestData does: each test's own transaction nests inside it as a savepoint.
"""

from dataclasses import replace

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from metrics.engine.runner import recompute_all
from tests.metrics.reconciliation.dataset import build
from tests.metrics.reconciliation.sql import Scope, add_months


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("the reconciliation SQL is PostgreSQL")
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            data = build(timezone.now())
            recompute_all(now=data.now, queue_tasks=False)
            yield data
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def scopes(dataset):
    """name -> (the dashboard's query parameters, the same filters as a sql.Scope)."""
    month = dataset.now.date().replace(day=1)
    default = Scope(add_months(month, -11), month)
    custom = Scope(add_months(month, -6), add_months(month, -3))
    rep = dataset.reps[0].pk
    return {
        "default": ({}, default),
        "tier_1": ({"tier": "1"}, replace(default, tier="1")),
        "owner": ({"owner": rep}, replace(default, owner=rep)),
        "custom": (custom.query(), custom),
    }


@pytest.fixture
def page(db, client, dataset):
    """``page(url_name, params, user=director)``: the dashboard's response."""

    def get(name, params, user=None):
        client.force_login(user or dataset.director)
        response = client.get(reverse(name), params)
        assert response.status_code == 200
        return response

    return get
