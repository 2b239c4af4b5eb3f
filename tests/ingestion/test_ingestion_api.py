"""POST /api/activities/batch/: idempotent by (source 'api', external_id), a status per item."""

import datetime as dt
import json
import math
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from abm.models import ApiToken, Job, RunKind, RunStatus
from abm.tokens import token_create
from ingestion import api as ingestion_api
from ingestion import api_batches as ingestion
from playbooks.models import Activity, ActivitySource
from tests.factories import AccountFactory, ActivityFactory, ContactFactory

URL = "/api/activities/batch/"
CHANNELS = (
    "email, linkedin, paid_social, display, direct_mail, event, webinar, phone, sdr_outreach, "
    "content, web_personalisation"
)
FIELDS = (
    "external_id, account, channel, kind, occurred_at, contact, direction, cost, "
    "duration_minutes, notes"
)


@pytest.fixture(autouse=True)
def _own_throttle_cache(settings, request):
    # A fresh counter store per test: token ids repeat between tests once rows are rolled back.
    settings.CACHES = {
        **settings.CACHES,
        "api_throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{request.node.nodeid}",
        },
    }


@pytest.fixture
def acme(alice):
    return AccountFactory(name="Acme", domain="acme.example", external_id="001A", owner=alice)


@pytest.fixture
def globex(bob):
    return AccountFactory(name="Globex", domain="globex.example", external_id="001B", owner=bob)


@pytest.fixture
def dana(acme):
    return ContactFactory(account=acme, email="dana@acme.example", external_id="003D")


def token_for(user) -> str:
    return token_create(user=user, name="sync")[1]


def post(client, raw, body, **extra):
    return client.post(
        URL,
        data=body if isinstance(body, str | bytes) else json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        **extra,
    )


def ingest(client, user_or_raw, items: list) -> dict:
    raw = user_or_raw if isinstance(user_or_raw, str) else token_for(user_or_raw)
    response = post(client, raw, {"activities": items})
    assert response.status_code == 200, response.content
    return response.json()


def item(external_id="evt-1", **fields) -> dict:
    return {
        "external_id": external_id,
        "account": "acme.example",
        "channel": "email",
        "kind": "email_click",
        "occurred_at": "2025-03-04T09:30:00Z",
        **fields,
    }


def statuses(result: dict) -> list[tuple]:
    return [
        (entry["index"], entry["external_id"], entry["status"], entry.get("reason", ""))
        for entry in result["items"]
    ]


def totals(created=0, updated=0, unchanged=0, rejected=0) -> dict:
    received = created + updated + unchanged + rejected
    return {
        "received": received,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "rejected": rejected,
    }


# --- Good and repeated batches ------------------------------------------------------------------


def test_a_good_batch_creates_every_activity_with_source_api(client, alice, acme, dana):
    result = ingest(
        client,
        alice,
        [
            item("evt-1", contact="dana@acme.example", cost=12.5, notes="Clicked the pricing link"),
            item("evt-2", account="001A", kind="meeting", channel="event", duration_minutes=45),
            item("evt-3", account="https://www.acme.example/", contact="003D", kind="email_sent"),
        ],
    )

    assert result == {
        "totals": totals(created=3),
        "items": [
            {"index": 0, "external_id": "evt-1", "status": "created"},
            {"index": 1, "external_id": "evt-2", "status": "created"},
            {"index": 2, "external_id": "evt-3", "status": "created"},
        ],
    }
    stored = {a.external_id: a for a in Activity.objects.all()}
    assert {a.source for a in stored.values()} == {ActivitySource.API}
    assert {a.account for a in stored.values()} == {acme}
    first = stored["evt-1"]
    assert (first.contact, first.cost, first.notes) == (
        dana,
        Decimal("12.50"),
        "Clicked the pricing link",
    )
    assert first.occurred_at == dt.datetime(2025, 3, 4, 9, 30, tzinfo=dt.UTC)
    assert first.direction == "inbound"
    assert (stored["evt-2"].kind, stored["evt-2"].duration_minutes) == ("meeting", 45)
    # Without a direction it follows the kind: a send is ours.
    assert (stored["evt-3"].direction, stored["evt-3"].contact) == ("outbound", dana)


def test_reposting_the_same_batch_changes_nothing(client, alice, acme):
    raw = token_for(alice)
    batch = [item("evt-1", cost=3), item("evt-2", kind="web_visit", channel="content")]
    ingest(client, raw, batch)
    before = list(Activity.objects.order_by("pk").values())

    result = ingest(client, raw, batch)

    assert result["totals"] == totals(unchanged=2)
    assert statuses(result) == [(0, "evt-1", "unchanged", ""), (1, "evt-2", "unchanged", "")]
    assert list(Activity.objects.order_by("pk").values()) == before


def test_a_changed_item_is_updated_and_the_rest_stay_unchanged(client, alice, acme):
    raw = token_for(alice)
    ingest(client, raw, [item("evt-1"), item("evt-2")])

    result = ingest(client, raw, [item("evt-1"), item("evt-2", kind="email_reply", cost="4.50")])

    assert statuses(result) == [(0, "evt-1", "unchanged", ""), (1, "evt-2", "updated", "")]
    changed = Activity.objects.get(external_id="evt-2")
    assert (changed.kind, changed.cost) == ("email_reply", Decimal("4.50"))
    assert Activity.objects.count() == 2


def test_api_and_import_ids_are_separate_namespaces(client, alice, acme):
    ActivityFactory(account=acme, source=ActivitySource.IMPORT, external_id="evt-1")

    result = ingest(client, alice, [item("evt-1")])

    assert statuses(result) == [(0, "evt-1", "created", "")]
    assert Activity.objects.filter(external_id="evt-1").count() == 2


@pytest.mark.parametrize("user", ["maria", "root"])
def test_marketers_and_admins_ingest_for_any_account(client, request, user, acme, globex):
    result = ingest(
        client,
        request.getfixturevalue(user),
        [item("evt-1"), item("evt-2", account="globex.example")],
    )

    assert result["totals"] == totals(created=2)


# --- Bad items ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ("evt-1", "must be an object with the activity's fields, not a string"),
        ({"external_id": "evt-1"}, "account, channel, kind and occurred_at are required"),
        (item(kind=None), "kind is required"),
        (item(channel="   "), "channel is required"),
        (item(channel=5), "channel must be a string, not a number"),
        (item(account=["acme.example"]), "account must be a string, not a list"),
        (item(cost=True), "cost must be a number, not true/false"),
        (item(cost={"amount": 5}), "cost must be a number, not an object"),
        (item(duration_minutes=30.5), "duration_minutes 30.5 must be a whole number"),
        (item(duration_minutes="half an hour"), "duration_minutes 'half an hour' is not a number"),
        (item(channel="fax"), f"unknown channel 'fax' (expected one of {CHANNELS})"),
        (item(kind="smoke_signal"), "unknown kind 'smoke_signal' (expected one of "),
        (item(direction="sideways"), "unknown direction 'sideways' (expected one of outbound, "),
        (
            item(occurred_at="yesterday"),
            "occurred_at 'yesterday' is not an ISO 8601 date and time "
            "(such as 2025-03-04T09:30:00Z)",
        ),
        (
            item(occurred_at="03/04/2025"),
            "occurred_at '03/04/2025' is not an ISO 8601 date and time "
            "(such as 2025-03-04T09:30:00Z)",
        ),
        (item(occurred_at="2025-02-30T10:00:00Z"), "occurred_at '2025-02-30T10:00:00Z' is not"),
        (item(occurred_at="1800-01-01"), "occurred_at '1800-01-01' is out of range (1900-2100)"),
        (item(cost=-5), "cost '-5' must not be negative"),
        (item(cost="-0.50"), "cost '-0.50' must not be negative"),
        (item(cost=1e30), "cost 1e+30 is too large"),
        (item(cost="9" * 30), f"cost '{'9' * 30}' is too large"),
        (item(external_id="x" * 101), "external_id is longer than 100 characters"),
        (item(chanel="email"), f"unknown field 'chanel' (fields: {FIELDS})"),
        (
            item(account="nowhere.example"),
            "account not found (no account has the external_id or domain 'nowhere.example')",
        ),
        (item(contact="nobody@acme.example"), "contact 'nobody@acme.example' not found at this"),
        (item(contact="003Z"), "contact '003Z' not found at this account"),
        (item(contact="dana@"), "contact 'dana@' is not an email address"),
        (
            item(kind=None, channel="fax"),
            f"kind is required; unknown channel 'fax' (expected one of {CHANNELS})",
        ),
    ],
)
def test_a_bad_item_is_rejected_with_its_reason_and_nothing_else_fails(
    client, maria, acme, sent, reason
):
    result = ingest(client, maria, [sent, item("evt-good")])

    rejected, good = result["items"]
    assert rejected["status"] == "rejected"
    assert rejected["reason"].startswith(reason)
    assert good == {"index": 1, "external_id": "evt-good", "status": "created"}
    assert result["totals"] == totals(created=1, rejected=1)
    assert list(Activity.objects.values_list("external_id", flat=True)) == ["evt-good"]


def test_a_duplicate_external_id_in_the_batch_is_rejected_and_the_first_wins(client, maria, acme):
    result = ingest(client, maria, [item("evt-1"), item("evt-2"), item("evt-1", kind="meeting")])

    assert statuses(result) == [
        (0, "evt-1", "created", ""),
        (1, "evt-2", "created", ""),
        (2, "evt-1", "rejected", "duplicate of item 0 (same external_id 'evt-1')"),
    ]
    assert Activity.objects.get(external_id="evt-1").kind == "email_click"


def test_a_repeat_of_the_first_item_is_caught_before_writing_not_by_the_database(
    client, maria, acme, django_assert_max_num_queries
):
    raw = token_for(maria)
    ingest(client, raw, [])  # records the token's first use
    batch = [item(f"evt-{n}") for n in range(50)] + [item("evt-0", kind="meeting")]

    # A unique violation would replay the batch item by item, with queries for each.
    with django_assert_max_num_queries(15):
        result = ingest(client, raw, batch)

    assert result["totals"] == totals(created=50, rejected=1)
    assert result["items"][-1]["reason"] == "duplicate of item 0 (same external_id 'evt-0')"


def test_a_contact_at_another_account_is_not_found(client, maria, acme, globex):
    ContactFactory(account=globex, email="gus@globex.example", external_id="003G")

    result = ingest(client, maria, [item("evt-1", contact="003G")])

    assert statuses(result) == [
        (0, "evt-1", "rejected", "contact '003G' not found at this account")
    ]


def test_a_numeric_cost_is_rounded_to_cents_not_read_as_thousands(client, maria, acme):
    ingest(client, maria, [item("evt-1", cost=1.234), item("evt-2", cost="1,234.50")])

    costs = dict(Activity.objects.values_list("external_id", "cost"))
    assert costs == {"evt-1": Decimal("1.23"), "evt-2": Decimal("1234.50")}


# --- Scoping ------------------------------------------------------------------------------------


def test_a_rep_posting_for_another_reps_account_hears_not_found(client, alice, acme, globex):
    result = ingest(
        client,
        alice,
        [item("evt-1", account="globex.example"), item("evt-2", account="001B"), item("evt-3")],
    )

    # Word for word what an account that does not exist gets: nothing says Globex is there.
    assert statuses(result) == [
        (
            0,
            "evt-1",
            "rejected",
            "account not found (no account has the external_id or domain 'globex.example')",
        ),
        (
            1,
            "evt-2",
            "rejected",
            "account not found (no account has the external_id or domain '001B')",
        ),
        (2, "evt-3", "created", ""),
    ]
    assert not Activity.objects.filter(account=globex).exists()


def test_a_rep_cannot_move_another_reps_activity_by_reusing_its_id(
    client, alice, bob, acme, globex
):
    ingest(client, bob, [item("evt-b", account="globex.example")])

    result = ingest(client, alice, [item("evt-b", notes="mine now")])

    assert statuses(result) == [
        (
            0,
            "evt-b",
            "rejected",
            "external_id 'evt-b' is already taken by an activity you cannot change; "
            "give this activity another id",
        )
    ]
    activity = Activity.objects.get(external_id="evt-b")
    assert (activity.account, activity.notes) == (globex, "")


def test_a_rep_may_move_an_activity_between_their_own_accounts(client, alice, acme):
    other = AccountFactory(domain="initech.example", owner=alice)
    raw = token_for(alice)
    ingest(client, raw, [item("evt-1")])

    result = ingest(client, raw, [item("evt-1", account="initech.example")])

    assert statuses(result) == [(0, "evt-1", "updated", "")]
    assert Activity.objects.get(external_id="evt-1").account == other


def test_a_director_is_read_only(client, diana, acme):
    response = post(client, token_for(diana), {"activities": [item()]})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "read-only" in response.json()["error"]["message"]
    assert not Activity.objects.exists()


# --- Authentication -----------------------------------------------------------------------------


def test_no_token_is_a_401(client, acme):
    response = client.post(
        URL, data=json.dumps({"activities": [item()]}), content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }


def test_an_expired_token_is_a_401(client, alice, acme):
    token, raw = token_create(user=alice, name="sync", days=7)
    start = token.created_at - dt.timedelta(days=30)
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=start, expires_at=start + dt.timedelta(days=7)
    )

    response = post(client, raw, {"activities": [item()]})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"
    assert not Activity.objects.exists()


def test_the_session_works_with_a_csrf_token(maria, acme):
    client = Client(enforce_csrf_checks=True)
    client.force_login(maria)
    body = json.dumps({"activities": [item()]})

    refused = client.post(URL, data=body, content_type="application/json")
    client.get("/settings/tokens/")  # sets the CSRF cookie, as any page does
    accepted = client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["message"].startswith("CSRF Failed")
    assert accepted.status_code == 200
    assert accepted.json()["totals"] == totals(created=1)


# --- Malformed bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "message", "fields"),
    [
        ("{not json", "parse_error", "JSON parse error - ", {}),
        ('{"activities": [1, 2,]}', "parse_error", "JSON parse error - ", {}),
        (
            "[]",
            "invalid_body",
            "The body must be a JSON object, not a list. Send a JSON object such as",
            {},
        ),
        (
            "{}",
            "invalid_body",
            "This field is required.",
            {"activities": ["This field is required."]},
        ),
        (
            '{"activities": "lots"}',
            "invalid_body",
            "Must be a list of activities, not a string.",
            {"activities": ["Must be a list of activities, not a string."]},
        ),
        (
            '{"activities": [], "dry_run": true}',
            "invalid_body",
            "Send a JSON object such as",
            {"dry_run": ["Unknown field; the body has only 'activities'."]},
        ),
    ],
)
def test_a_malformed_body_is_a_400_in_one_shape(client, maria, body, code, message, fields):
    response = post(client, token_for(maria), body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == (code, fields)
    assert error["message"].startswith(message)


def test_more_than_ten_thousand_items_is_a_400_and_writes_nothing(client, maria, acme):
    items = [item(f"evt-{n}") for n in range(10_001)]

    response = post(client, token_for(maria), {"activities": items})

    assert response.status_code == 400
    message = (
        "A batch holds at most 10,000 activities; this one has 10,001. "
        "Nothing was saved: split it into smaller batches."
    )
    assert response.json() == {
        "error": {"code": "too_many_items", "message": message, "fields": {"activities": [message]}}
    }
    assert not Activity.objects.exists()


def test_a_body_over_the_byte_limit_is_a_413(client, maria, settings):
    settings.ABM_API_BATCH_MAX_BYTES = 100

    response = post(client, token_for(maria), {"activities": [item(notes="x" * 200)]})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_other_content_types_are_a_415(client, maria):
    response = client.post(
        URL, data="a,b", content_type="text/csv", HTTP_AUTHORIZATION=f"Bearer {token_for(maria)}"
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_a_get_is_a_405_in_json(client, maria):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token_for(maria)}")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/nothing-here/", "There is no API endpoint at /api/nothing-here/."),
        (
            "/api/activities/batch",
            "There is no API endpoint at /api/activities/batch. "
            "Did you mean /api/activities/batch/ (with the trailing slash)?",
        ),
    ],
)
def test_an_unknown_api_address_is_a_json_404(client, path, message):
    response = client.post(path, data="{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": message, "fields": {}}}


def test_a_bug_is_a_json_500_not_an_html_page(client, maria, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ingestion_api, "activities_ingest", broken)

    response = post(client, token_for(maria), {"activities": []})

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


# --- Speed ---------------------------------------------------------------------------------------


def insert_statements(count: int) -> int:
    """Statements the database needs to insert `count` activities."""
    if connection.vendor == "postgresql":
        return 1  # COPY
    # SQLite binds at most 999 parameters per statement (Django's assumption), 13 per activity.
    fields = [f for f in Activity._meta.concrete_fields if not f.primary_key]
    return math.ceil(count / connection.ops.bulk_batch_size(fields, range(count)))


def update_statements(count: int) -> int:
    """Statements bulk_update needs to change one field of `count` activities."""
    notes = Activity._meta.get_field("notes")
    per_statement = min(connection.ops.bulk_batch_size(["pk", "pk", notes], range(count)), 1_000)
    return math.ceil(count / per_statement)


def spread(count: int, start: int, accounts, contacts, **fields) -> list[dict]:
    """Items over a few accounts (by domain and by external_id) with contacts, like a real sync."""
    return [
        item(
            f"evt-{start + n}",
            account=accounts[n % 3].domain if n % 2 else accounts[n % 3].external_id,
            contact=contacts[n % 3].email,
            cost=n % 7,
            occurred_at=f"2025-03-{1 + n % 28:02d}T10:00:00Z",
            **fields,
        )
        for n in range(count)
    ]


def count_queries(client, raw, items, status: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert ingest(client, raw, items)["totals"][status] == len(items)
    return len(captured)


def test_queries_do_not_grow_with_the_batch(client, maria, django_assert_max_num_queries):
    accounts = [AccountFactory(external_id=f"00{n}") for n in range(3)]
    contacts = [ContactFactory(account=account) for account in accounts]
    raw = token_for(maria)
    ingest(client, raw, [])  # records the token's first use, which later requests skip
    small, large = spread(10, 0, accounts, contacts), spread(500, 1_000, accounts, contacts)

    # Per path (create, unchanged, update), 500 items read as much as 10; only the number of
    # write statements may differ, where SQLite's parameter limit splits them.
    created = count_queries(client, raw, small, "created") - insert_statements(10)
    with django_assert_max_num_queries(created + insert_statements(500)):
        ingest(client, raw, large)

    unchanged = count_queries(client, raw, small, "unchanged")
    with django_assert_max_num_queries(unchanged):
        assert ingest(client, raw, large)["totals"]["unchanged"] == 500

    small = spread(10, 0, accounts, contacts, notes="changed")
    large = spread(500, 1_000, accounts, contacts, notes="changed")
    updated = count_queries(client, raw, small, "updated") - update_statements(10)
    with django_assert_max_num_queries(updated + update_statements(500)):
        assert ingest(client, raw, large)["totals"]["updated"] == 500


# --- Metrics -------------------------------------------------------------------------------------


def test_a_batch_that_changed_activities_queues_one_recompute_after_commit(
    client, alice, acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ingest(client, alice, [item("evt-1"), item("evt-2")])

    runs = Job.objects.filter(kind=RunKind.INCREMENTAL)
    assert [(run.status, run.params) for run in runs] == [
        (RunStatus.QUEUED, {"reason": "2 activities ingested by the API"})
    ]
    assert len(callbacks) == 1  # the task is sent when the transaction commits, not before


@pytest.mark.parametrize(
    "items",
    [[item("evt-1")], [item("evt-2", account="nowhere.example")], []],
    ids=["unchanged", "rejected", "empty"],
)
def test_a_batch_that_changed_nothing_requests_no_recompute(
    client, alice, acme, monkeypatch, items
):
    raw = token_for(alice)
    ingest(client, raw, [item("evt-1")])
    requests = []
    monkeypatch.setattr(ingestion, "announce_change", lambda **kw: requests.append(kw))

    ingest(client, raw, items)

    assert requests == []


def test_a_failed_recompute_request_does_not_hide_that_the_batch_was_saved(
    client, alice, acme, monkeypatch, caplog
):
    def broken(**kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(ingestion, "announce_change", broken)

    result = ingest(client, alice, [item("evt-1")])

    assert statuses(result) == [(0, "evt-1", "created", "")]
    assert Activity.objects.filter(external_id="evt-1").exists()
    assert "Could not request a metrics recompute" in caplog.text
