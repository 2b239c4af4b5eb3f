"""Every JSON body is bounded in size and depth, and every list in page size: a runaway request
is a 400 or 413 in words that writes nothing, never a 500 or a body read whole into memory."""

import json

import pytest
from django.conf import settings

from abm.api import ApiPagination
from abm.api_urls import router
from accounts.models import Account
from playbooks.models import Activity
from tests.api.api_calls import error_of
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
BATCH = "/api/activities/batch/"


@pytest.fixture
def acme(alice):
    return AccountFactory(name="Acme", domain="acme.example", external_id="001A", owner=alice)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def item(external_id: str = "evt-1") -> dict:
    return {
        "external_id": external_id,
        "account": "acme.example",
        "channel": "email",
        "kind": "email_click",
        "occurred_at": "2025-03-04T09:30:00Z",
    }


def too_deep(limit: int = 20) -> str:
    return (
        f"The JSON body is nested more than {limit} levels deep; no endpoint takes lists or "
        "objects nested that far. Nothing was saved."
    )


# Past Python's recursion limit (the parser's 500 on main) and just past ours.
@pytest.mark.parametrize("depth", [100_000, 19])
def test_a_deeply_nested_batch_is_a_400_and_saves_nothing(api, maria, acme, depth):
    body = '{"activities": [' + json.dumps(item())[:-1] + f', "notes": {nested(depth)}' + "}]}"

    response = api(maria).post(BATCH, body, content_type="application/json")

    error = error_of(response, 400)
    assert (error["code"], error["message"]) == ("too_deep", too_deep())
    assert not Activity.objects.exists()


def test_the_depth_limit_is_a_setting(api, maria, acme, settings):
    settings.ABM_API_MAX_JSON_DEPTH = 2

    response = api(maria).post(BATCH, {"activities": [item()]}, format="json")

    assert error_of(response, 400)["message"] == too_deep(2)
    assert not Activity.objects.exists()


def test_a_batch_at_the_usual_depth_is_still_saved(api, maria, acme):
    response = api(maria).post(BATCH, {"activities": [item("a"), item("b")]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["totals"]["created"] == 2


def test_a_deeply_nested_edit_is_a_400_and_changes_nothing(api, maria, acme):
    body = '{"industry": "Robotics", "notes": ' + nested(50_000) + "}"

    response = api(maria).patch(f"/api/accounts/{acme.pk}/", body, content_type="application/json")

    assert error_of(response, 400)["code"] == "too_deep"
    assert Account.objects.get(pk=acme.pk).industry == acme.industry


def test_an_edit_over_djangos_body_limit_is_a_413_and_changes_nothing(api, maria, acme, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"industry": "Robotics", "name": "x" * 2000})

    response = api(maria).patch(f"/api/accounts/{acme.pk}/", body, content_type="application/json")

    error = error_of(response, 413)
    assert error["code"] == "too_large"
    assert error["message"] == (
        f"The body is {len(body):,} bytes; this endpoint accepts at most 1,000 bytes. "
        "Nothing was saved."
    )
    assert Account.objects.get(pk=acme.pk).industry == acme.industry


def test_the_batch_keeps_its_own_larger_body_limit(api, maria, acme, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    items = [item(f"evt-{n}") for n in range(20)]

    response = api(maria).post(BATCH, {"activities": items}, format="json")

    assert response.status_code == 200, response.content
    assert Activity.objects.count() == 20


@pytest.mark.parametrize(
    "basename", sorted({basename for _, _, basename in router.registry}), ids=str
)
def test_every_list_endpoint_is_paginated_with_a_capped_page_size(api, maria, basename):
    viewset = next(view for _, view, name in router.registry if name == basename)
    prefix = next(prefix for prefix, _, name in router.registry if name == basename)

    response = api(maria).get(f"/api/{prefix}/", {"page_size": 100_000})

    assert response.status_code == 200, response.content
    assert set(response.json()) >= {"count", "results"}
    paginator = viewset.pagination_class or settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]
    assert paginator is ApiPagination
    assert ApiPagination.max_page_size == 500
