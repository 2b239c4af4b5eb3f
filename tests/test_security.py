"""Security headers, the Content-Security-Policy, sign-in lock-out, sessions and CSRF (issue #9)."""

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from abm.tokens import token_create
from tests.test_settings import PRODUCTION_ENV, bare_env

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pw-for-tests-1"


def csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


# --- Headers on every response --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [
        ("/login/", False),
        ("/accounts/", True),
        ("/metrics/director/", True),
        ("/settings/tokens/", True),
        ("/api/accounts/", True),
        ("/api/nowhere/", True),
        ("/no-such-page/", True),
        ("/admin/login/", False),
        ("/api/docs/", False),
        ("/health/", False),
    ],
)
def test_every_response_carries_the_security_headers(client, root, path, signed_in):
    if signed_in:
        client.force_login(root)

    response = client.get(path)

    policy = csp(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_no_directive_allows_inline_or_evaluated_scripts_or_another_host():
    for directive, sources in settings.ABM_CONTENT_SECURITY_POLICY.items():
        assert "'unsafe-eval'" not in sources
        if directive != "style-src":
            assert "'unsafe-inline'" not in sources, directive
        assert not [s for s in sources if "." in s or s in ("*", "http:", "https:")], directive


def production_settings() -> dict:
    """The settings a production start-up (no ABM_DEV) really gets, read in a fresh process."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
        "'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_HTTPONLY', 'SESSION_COOKIE_AGE', "
        "'SESSION_EXPIRE_AT_BROWSER_CLOSE')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=bare_env(**PRODUCTION_ENV),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production():
    return production_settings()


def test_production_settings_are_strict(production):
    assert production == {
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_AGE": 12 * 60 * 60,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": False,
    }


def test_https_responses_carry_hsts_and_plain_http_is_redirected(db, settings, production):
    settings.DEBUG = False
    for name in ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"):
        setattr(settings, name, production[name])
    settings.SECURE_SSL_REDIRECT = True

    secure = Client().get("/login/", secure=True)
    plain = Client().get("/login/")

    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in plain


# --- No inline code anywhere ----------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_have_no_inline_scripts_or_handlers(path):
    text = path.read_text()
    assert not INLINE_SCRIPT.findall(text)
    assert not EVENT_HANDLER.findall(text)
    assert "javascript:" not in text.lower()


def test_the_swagger_page_loads_its_start_up_script_as_a_file(client, db):
    page = client.get(reverse("api_docs"))
    html = page.content.decode()
    assert not INLINE_SCRIPT.findall(html)
    script_url = re.search(r'<script src="([^"]*\?[^"]*script[^"]*)"', html).group(1)

    script = client.get(script_url.replace("&amp;", "&"))

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


def test_the_redoc_page_has_no_inline_script_and_nothing_from_another_host(client, db):
    html = client.get(reverse("api_redoc")).content.decode()
    assert not INLINE_SCRIPT.findall(html)
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)


# --- Sign-in lock-out (django-axes) ---------------------------------------------------------


def sign_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_five_failures_lock_the_sign_in_even_with_the_right_password(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "alice", "wrong").status_code == 200  # the form with its error

    locked = sign_in(client, "alice", "wrong")
    again = sign_in(client, "alice", PASSWORD)

    assert locked.status_code == again.status_code == 429
    html = again.content.decode()
    assert 'data-testid="locked-out"' in html
    assert "Too many failed sign-ins" in html
    assert "15 minutes" in html
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_username_and_address(client, alice, bob):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong")

    assert sign_in(client, "bob", PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert sign_in(elsewhere, "alice", PASSWORD).status_code == 302


def test_the_sign_in_works_again_after_the_cool_off(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 429

    later = timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=later)

    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("logout"))

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_an_admin_unlocks_a_locked_user(client, alice, root):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong")
    attempt = AccessAttempt.objects.get(username="alice")
    admin = Client()
    admin.force_login(root)
    assert admin.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200

    admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_api_tokens_are_not_subject_to_the_lock(client, maria):
    _, raw = token_create(user=maria, name="CRM sync", days=30)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "maria", "wrong")

    response = Client().get("/api/accounts/", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200


def test_the_admin_sign_in_is_locked_too(client, root):
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "root", "password": "wrong"})
    response = client.post(url, {"username": "root", "password": PASSWORD})
    assert response.status_code == 429


# --- Passwords and sessions -----------------------------------------------------------------


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "alice2024"])
def test_weak_passwords_are_refused(alice, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=alice)


def test_a_strong_password_passes(alice):
    validate_password("correct horse battery staple", user=alice)


def test_signing_in_sets_an_http_only_session_cookie_that_expires(client, alice):
    response = sign_in(client, "alice", PASSWORD)

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_the_csrf_cookie_is_http_only_and_pages_carry_the_token(client, alice):
    response = client.get(reverse("login"))
    assert response.cookies[settings.CSRF_COOKIE_NAME]["httponly"]
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_an_expired_session_signs_the_user_out(client, alice):
    sign_in(client, "alice", PASSWORD)
    session = client.session
    session.set_expiry(-1)
    session.save()

    response = client.get(reverse("accounts:list"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- CSRF -----------------------------------------------------------------------------------


def test_a_form_post_without_the_csrf_token_is_refused(maria):
    client = Client(enforce_csrf_checks=True)
    client.force_login(maria)
    response = client.post(reverse("tokens"), {"name": "Sync", "days": "30"})
    assert response.status_code == 403
    assert not maria.api_tokens.exists()


def test_a_session_api_write_without_the_csrf_token_is_refused(diana):
    client = Client(enforce_csrf_checks=True)
    client.force_login(diana)
    response = client.post("/api/goals/", {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def _views(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _views(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def test_no_page_opts_out_of_csrf():
    """DRF views are exempt from Django's check because SessionAuthentication does its own (see
    the API test above); the JSON 404 for unknown /api/ addresses changes nothing."""
    exempt = [
        route
        for route, view in _views(get_resolver())
        if getattr(view, "csrf_exempt", False)
        and not hasattr(view, "cls")  # DRF's APIView.as_view()
        and not route.startswith("^api/")
    ]
    assert exempt == []


# --- CSV we hand out ------------------------------------------------------------------------

APPS = ("abm", "accounts", "playbooks", "ingestion", "metrics", "goals", "dashboards", "demo")
CSV_WRITERS = {"abm/lib/csv_safety.py", "abm/lib/csv_export.py", "abm/workspace_export.py"}


def test_every_csv_we_write_goes_through_the_formula_escaping():
    """Each export endpoint has its own test with formula cells (see the README); this keeps a new
    one from writing CSV by hand: only these modules call csv.writer, each through safe_cell."""
    writers = set()
    for path in (p for app in APPS for p in (ROOT / app).rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if "/migrations/" in relative:
            continue
        text = path.read_text()
        if "csv.writer(" in text:
            writers.add(relative)
            assert "safe_cell(" in text, relative
    assert writers <= CSV_WRITERS
