"""Personal API tokens: stored hashed, expiring, revocable, throttled per token; the tokens page."""

import datetime as dt
import hashlib
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from abm.models import ApiToken
from abm.tokens import TokenRefused, token_authenticate, token_create, token_revoke, token_touch

BATCH_URL = "/api/activities/batch/"


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


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_batch(client, raw: str | None = None, body=None, **headers):
    if raw is not None:
        headers.update(bearer(raw))
    return client.post(
        BATCH_URL,
        data=json.dumps({"activities": []} if body is None else body),
        content_type="application/json",
        **headers,
    )


# --- Hashing and display ----------------------------------------------------------------------


def test_the_raw_token_is_never_stored_only_its_sha256(alice):
    token, raw = token_create(user=alice, name="HubSpot sync")

    assert raw.startswith("abm_")
    assert len(raw) >= 40
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix)
    assert len(token.prefix) < len(raw) // 2
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in {str(value) for value in stored.values()}


def test_two_tokens_never_share_a_secret(alice):
    _, first = token_create(user=alice, name="one")
    _, second = token_create(user=alice, name="two")

    assert first != second


@pytest.mark.parametrize("days", [7, 30, 90, 365])
def test_a_token_expires_after_the_chosen_number_of_days(alice, days):
    token, _ = token_create(user=alice, name="sync", days=days)

    assert token.expires_at - token.created_at == dt.timedelta(days=days)


def test_the_default_expiry_is_ninety_days_and_others_are_refused(alice):
    token, _ = token_create(user=alice, name="sync")

    assert token.expires_at - token.created_at == dt.timedelta(days=90)
    with pytest.raises(ValueError, match="7, 30, 90, 365"):
        token_create(user=alice, name="forever", days=10_000)


# --- Authentication --------------------------------------------------------------------------


def test_a_token_authenticates_its_user(client, alice):
    _, raw = token_create(user=alice, name="sync")

    response = post_batch(client, raw)

    assert response.status_code == 200
    assert response.json()["totals"]["received"] == 0


def test_the_token_keyword_works_as_well_as_bearer(client, maria):
    _, raw = token_create(user=maria, name="sync")

    response = post_batch(client, HTTP_AUTHORIZATION=f"Token {raw}")

    assert response.status_code == 200


def test_an_unknown_token_is_a_401_in_the_api_error_shape(client, alice):
    response = post_batch(client, "abm_not-a-real-token")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "error": {"code": "authentication_failed", "message": "Invalid API token.", "fields": {}}
    }


def test_an_expired_token_is_refused_with_a_reason(client, alice):
    token, raw = token_create(user=alice, name="sync", days=7)
    eight_days_ago = timezone.now() - dt.timedelta(days=8)
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=eight_days_ago, expires_at=eight_days_ago + dt.timedelta(days=7)
    )

    response = post_batch(client, raw)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"
    assert "expired on" in response.json()["error"]["message"]


def test_a_token_is_refused_from_the_moment_it_expires(alice):
    token, raw = token_create(user=alice, name="sync", days=7)

    assert token_authenticate(raw=raw, now=token.expires_at - dt.timedelta(seconds=1)) == token
    with pytest.raises(TokenRefused) as refused:
        token_authenticate(raw=raw, now=token.expires_at)
    assert refused.value.code == "token_expired"


def test_a_revoked_token_is_refused_at_once(client, alice):
    token, raw = token_create(user=alice, name="sync")
    assert post_batch(client, raw).status_code == 200

    token_revoke(token=token)
    response = post_batch(client, raw)

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "token_revoked",
        "message": "This API token has been revoked.",
        "fields": {},
    }


def test_revoking_twice_keeps_the_first_revocation_time(alice):
    token, _ = token_create(user=alice, name="sync")
    token_revoke(token=token)
    first = ApiToken.objects.get(pk=token.pk).revoked_at

    token_revoke(token=ApiToken.objects.get(pk=token.pk))

    assert ApiToken.objects.get(pk=token.pk).revoked_at == first


def test_a_deactivated_users_token_no_longer_works(client, alice):
    _, raw = token_create(user=alice, name="sync")
    alice.is_active = False
    alice.save()

    assert post_batch(client, raw).status_code == 401


def test_a_malformed_authorization_header_is_a_401(client, alice):
    response = post_batch(client, HTTP_AUTHORIZATION="Bearer two parts")

    assert response.status_code == 401
    assert "Bearer <token>" in response.json()["error"]["message"]


# --- Last used ---------------------------------------------------------------------------------


def test_use_is_recorded_at_most_once_a_minute(client, alice):
    token, raw = token_create(user=alice, name="sync")
    assert token.last_used_at is None

    post_batch(client, raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    post_batch(client, raw)

    assert ApiToken.objects.get(pk=token.pk).last_used_at == first


def test_a_use_after_the_interval_is_recorded_again(alice, django_assert_num_queries):
    token, _ = token_create(user=alice, name="sync")
    start = timezone.now()
    token_touch(token=token, now=start)

    with django_assert_num_queries(0):
        token_touch(token=token, now=start + dt.timedelta(seconds=30))
    with django_assert_num_queries(1):
        token_touch(token=token, now=start + dt.timedelta(seconds=61))

    assert ApiToken.objects.get(pk=token.pk).last_used_at == start + dt.timedelta(seconds=61)


# --- Throttling --------------------------------------------------------------------------------


@pytest.fixture
def three_a_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"ingestion": "3/min"},
    }


def test_a_token_over_its_rate_gets_429_with_retry_after(client, maria, three_a_minute):
    _, raw = token_create(user=maria, name="sync")

    statuses = [post_batch(client, raw).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = post_batch(client, raw)
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_the_rate_is_counted_per_token(client, maria, three_a_minute):
    _, busy = token_create(user=maria, name="busy")
    _, other = token_create(user=maria, name="other")
    for _ in range(3):
        post_batch(client, busy)

    assert post_batch(client, busy).status_code == 429
    assert post_batch(client, other).status_code == 200


# --- The tokens page ---------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["alice", "maria", "diana", "root"])
def test_every_role_has_a_tokens_page(client, request, user):
    client.force_login(request.getfixturevalue(user))

    response = client.get(reverse("tokens"))

    assert response.status_code == 200
    assert b"No API tokens yet" in response.content
    assert b'href="/settings/tokens/"' in response.content  # in the user menu


def test_the_tokens_page_needs_a_login(client):
    response = client.get(reverse("tokens"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_creating_a_token_shows_it_once(client, alice):
    client.force_login(alice)

    response = client.post(reverse("tokens"), {"name": "HubSpot sync", "days": "30"})

    assert response.status_code == 200
    raw = response.context["created"]["raw"]
    assert raw.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=alice)
    assert (token.name, token.expires_at - token.created_at) == ("HubSpot sync", dt.timedelta(30))
    again = client.get(reverse("tokens"))
    assert raw.encode() not in again.content
    assert token.prefix.encode() in again.content
    assert b"HubSpot sync" in again.content


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"name": "", "days": "90"}, "name", "This field is required."),
        ({"name": "sync", "days": "1000"}, "days", "Select a valid choice."),
        ({"name": "x" * 101, "days": "90"}, "name", "at most 100 characters"),
    ],
)
def test_a_bad_form_says_why_next_to_the_field(client, alice, data, field, error):
    client.force_login(alice)

    response = client.post(reverse("tokens"), data)

    assert response.status_code == 422
    assert error in " ".join(response.context["form"].errors[field])
    assert b'aria-invalid="true"' in response.content
    assert not ApiToken.objects.exists()


def test_two_active_tokens_may_not_share_a_name(client, alice):
    token_create(user=alice, name="HubSpot sync")
    client.force_login(alice)

    response = client.post(reverse("tokens"), {"name": "hubspot sync", "days": "90"})

    assert response.status_code == 422
    assert "already have an active token" in response.context["form"].errors["name"][0]


def test_a_revoked_tokens_name_may_be_used_again(client, alice):
    old, _ = token_create(user=alice, name="HubSpot sync")
    token_revoke(token=old)
    client.force_login(alice)

    response = client.post(reverse("tokens"), {"name": "HubSpot sync", "days": "90"})

    assert response.status_code == 200
    assert ApiToken.objects.filter(user=alice).count() == 2


def test_the_page_lists_only_the_users_own_tokens_with_their_status(client, alice, bob):
    active, _ = token_create(user=alice, name="active one")
    revoked, _ = token_create(user=alice, name="revoked one")
    token_revoke(token=revoked)
    expired, _ = token_create(user=alice, name="expired one")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    token_create(user=bob, name="bobs token")
    client.force_login(alice)

    response = client.get(reverse("tokens"))

    shown = {row["token"].name: row["status"] for row in response.context["rows"]}
    assert shown == {"active one": "active", "revoked one": "revoked", "expired one": "expired"}
    assert b"bobs token" not in response.content


def test_revoking_from_the_page(client, alice):
    token, raw = token_create(user=alice, name="sync")
    client.force_login(alice)

    response = client.post(reverse("token_revoke", args=[token.pk]), follow=True)

    assert response.redirect_chain == [(reverse("tokens"), 302)]
    assert b"Revoked" in response.content
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    client.logout()
    assert post_batch(client, raw).status_code == 401


def test_revoking_needs_a_post(client, alice):
    token, _ = token_create(user=alice, name="sync")
    client.force_login(alice)

    assert client.get(reverse("token_revoke", args=[token.pk])).status_code == 405
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_revoking_checks_csrf(alice):
    from django.test import Client

    token, _ = token_create(user=alice, name="sync")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(reverse("token_revoke", args=[token.pk])).status_code == 403
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_another_users_token_cannot_be_revoked(client, alice, bob):
    bobs, raw = token_create(user=bob, name="bob's sync")
    client.force_login(alice)

    response = client.post(reverse("token_revoke", args=[bobs.pk]))

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=bobs.pk).revoked_at is None


def test_an_admin_creates_a_token_in_the_django_admin_and_sees_it_once(client, root, maria):
    client.force_login(root)

    response = client.post(
        reverse("admin:abm_apitoken_add"),
        {"user": maria.pk, "name": "Warehouse export", "days": "30"},
        follow=True,
    )

    assert response.status_code == 200
    token = ApiToken.objects.get(user=maria)
    (shown,) = [str(m) for m in response.context["messages"] if "not shown again" in str(m)]
    raw = shown.rsplit(" ", 1)[-1]
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    client.logout()
    assert post_batch(client, raw).status_code == 200


def test_an_admin_revokes_tokens_in_bulk(client, root, alice, bob):
    tokens = [token_create(user=user, name="sync")[0] for user in (alice, bob)]
    client.force_login(root)

    client.post(
        reverse("admin:abm_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [t.pk for t in tokens]},
    )

    assert not ApiToken.objects.filter(revoked_at__isnull=True).exists()
