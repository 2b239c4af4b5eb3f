"""One settings module, driven by environment variables (see .env.example)."""

import datetime as dt
import importlib.util
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from abm.lib.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

# Production unless development is asked for explicitly (`make run` and the test suite set
# ABM_DEV=1): an image or a shell that sets nothing gets no debug pages and no public key.
ABM_DEV = envbool("ABM_DEV", False)
DEBUG = envbool("DEBUG", ABM_DEV)
if DEBUG and not ABM_DEV:
    raise ImproperlyConfigured("DEBUG=1 is for development only: set ABM_DEV=1 as well")
# The public key only exists so a newcomer needs no set-up; abm/checks.py refuses it on deploy.
DEV_SECRET_KEY = "dev-only-key-never-used-with-debug-off-0123456789abcdef"
SECRET_KEY = envstr("SECRET_KEY") or (DEV_SECRET_KEY if ABM_DEV else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set (a long random string); on a development machine set ABM_DEV=1"
    )
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "abm",
    "accounts",
    "playbooks",
    "ingestion",
    "metrics",
    "goals",
    "dashboards",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag on GET responses and 304 for If-None-Match: cheap revalidation for API clients.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "abm.lib.security_headers.ContentSecurityPolicyMiddleware",
    "abm.lib.row_locks.RecordDeletedMiddleware",
    # Runs before any view's CSRF check reads a body, inside the header middleware above.
    "ingestion.middleware.ImportSizeMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "abm.urls"
WSGI_APPLICATION = "abm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "abm.navigation.navigation",
            ],
        },
    },
]

DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'abm.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while an in-process task writes.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

AUTH_USER_MODEL = "abm.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["abm.lib.login_lockout.LockoutBackend"]
# A working day: a session left open on a shared machine ends by the next morning.
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Our JavaScript reads the CSRF token from the page (<meta name="csrf-token">, the forms' hidden
# field), never from the cookie, so scripts need not see the cookie at all.
CSRF_COOKIE_HTTPONLY = True

# --- Sign-in lock-out (django-axes, abm/lib/login_lockout.py): per username + IP address.
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# Failures are kept as rows (admin: Axes -> Access failures) instead of several log lines per
# sign-in, successful ones included, that axes writes when verbose.
AXES_VERBOSE = envbool("AXES_VERBOSE", False)
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The client address is REMOTE_ADDR unless a proxy we run in front says otherwise: trusting
# X-Forwarded-For from anyone would let an attacker pick a fresh "IP" for every guess.
AXES_IPWARE_PROXY_COUNT = envint("AXES_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
# plotly.js comes from the plotly package we already install, served as our own static file.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/plotly", Path(importlib.util.find_spec("plotly").origin).parent / "package_data"),
]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "abm@localhost")

# --- Security: strict by default when DEBUG is off (manage.py check --deploy stays clean).
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# abm/lib/security_headers.py: scripts only from our static files (no inline code, no CDN).
ABM_CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    # Inline style attributes: plotly and the progress bars set widths and colours in style="".
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    # ReDoc builds its search index in a worker created from a blob: URL.
    "worker-src": ["'self'", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
ABM_CSP_REPORT_ONLY = envbool("ABM_CSP_REPORT_ONLY", False)

# --- API: personal tokens (abm/tokens.py) or the session with CSRF; JSON in, JSON out, errors in
# one shape (abm/api_errors.py).
ABM_API_INGEST_RATE = envstr("ABM_API_INGEST_RATE", "120/min")
ABM_API_RATE = envstr("ABM_API_RATE", "1200/min")
for _name, _rate in (("ABM_API_INGEST_RATE", ABM_API_INGEST_RATE), ("ABM_API_RATE", ABM_API_RATE)):
    if not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", _rate):
        raise ImproperlyConfigured(f"{_name}={_rate!r} is not a rate such as 120/min or 5000/hour")
REST_FRAMEWORK = {
    # The token class comes first so that a call without credentials is a 401 (it names the
    # WWW-Authenticate scheme), not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "abm.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "abm.api.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "abm.api_filter_backend.StrictFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["abm.api.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "abm.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"ingestion": ABM_API_INGEST_RATE, "api": ABM_API_RATE},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Keystone ABM API",
    "DESCRIPTION": (
        "Accounts, contacts, opportunities, leads, activities, playbooks, enrolments, tasks, "
        "goals, spend and the metrics computed from them. Every list and object is scoped like "
        "the pages: a sales rep sees only their own accounts and what hangs off them. "
        "Authenticate with a personal token (`Authorization: Bearer <token>`, created under "
        "API tokens) or the browser session (send the CSRF token on writes). Errors are JSON: "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "abm.api_schema.add_error_responses",
    ],
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JourneyStageEnum": "accounts.models.JourneyStage",
        "OpportunityStageEnum": "accounts.models.OpportunityStage",
        "TierEnum": "accounts.models.Tier",
        "BuyingRoleEnum": "accounts.models.BuyingRole",
        "SeniorityEnum": "accounts.models.Seniority",
        "ChannelEnum": "abm.lib.channels.Channel.choices",
        "ActivityKindEnum": "abm.lib.channels.ActivityKind.choices",
        "RunKindEnum": "abm.models.RunKind",
        "ConversionKindEnum": "metrics.models.ConversionKind",
        "PlanKindEnum": "goals.models.PlanKind",
    },
}
# Throttle counters must be shared by every web process, so they live in Redis when there is one;
# the embedded default (one process) keeps them in memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api_throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": envstr("REDIS_URL"),
        "KEY_PREFIX": "abm-throttle",
    }
    if envstr("REDIS_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-throttle"},
    # The director's figures (dashboards/figure_cache.py): built by the worker after each run and
    # read by every web process, so shared: Redis, or files beside the embedded database.
    # ABM_FIGURES_CACHE=memory keeps them in the process (the test suite: ids repeat between tests).
    "figures": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "figures"}
    if envstr("ABM_FIGURES_CACHE") == "memory"
    else {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": envstr("REDIS_URL"),
        "KEY_PREFIX": "abm-figures",
    }
    if envstr("REDIS_URL")
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "figures"),
    },
}
ABM_API_TOKEN_EXPIRY_DAYS = (7, 30, 90, 365)
ABM_API_TOKEN_DEFAULT_EXPIRY_DAYS = envint("ABM_API_TOKEN_DEFAULT_EXPIRY_DAYS", 90)
if ABM_API_TOKEN_DEFAULT_EXPIRY_DAYS not in ABM_API_TOKEN_EXPIRY_DAYS:
    raise ImproperlyConfigured(
        f"ABM_API_TOKEN_DEFAULT_EXPIRY_DAYS must be one of {ABM_API_TOKEN_EXPIRY_DAYS}"
    )
# A token's last-used time is written at most this often, not on every request.
ABM_API_TOKEN_TOUCH_SECONDS = envint("ABM_API_TOKEN_TOUCH_SECONDS", 60)
ABM_API_BATCH_MAX_ITEMS = envint("ABM_API_BATCH_MAX_ITEMS", 10_000)
ABM_API_BATCH_MAX_BYTES = envint("ABM_API_BATCH_MAX_BYTES", 32 * 1024 * 1024)
# Any API body: lists and objects nested deeper than this are refused (a batch needs three).
ABM_API_MAX_JSON_DEPTH = envint("ABM_API_MAX_JSON_DEPTH", 20)

# --- Celery: a real worker and one beat in every mode (`make run` starts both, abm/supervisor.py).
# With REDIS_URL the broker is Redis (the full stack). Without it, kombu's filesystem transport
# (abm/lib/file_broker.py): one file per message under var/broker/, so the default needs no
# server and queued jobs survive a restart. Tasks never run inside a request; only the test suite turns eager execution on.
REDIS_URL = envstr("REDIS_URL")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = True
# Runs keep their outcome on their Job row; nothing waits on a Celery result.
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_BEAT_SCHEDULE_FILENAME = envstr("ABM_BEAT_SCHEDULE_FILE") or str(
    VAR_DIR / "celerybeat-schedule"
)
# Time limits stay below the broker's visibility timeout so Redis never re-delivers a task that is
# still running on a healthy worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600)}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    ABM_BROKER_DIR = Path(envstr("ABM_BROKER_DIR") or VAR_DIR / "broker")
    for _folder in ("queue", "control"):
        (ABM_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "abmfs://localhost/"  # abm/lib/file_broker.py
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(ABM_BROKER_DIR / "queue"),
        "data_folder_out": str(ABM_BROKER_DIR / "queue"),
        "control_folder": str(ABM_BROKER_DIR / "control"),
        # The worker lists the folder this often: a queued job starts within that time.
        "polling_interval": envfloat("ABM_BROKER_POLL_SECONDS", 0.25),
    }
    # No broadcast messages on this broker: `celery inspect` / `control` need Redis.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
# One writer at a time on SQLite (no waits on its write lock); PostgreSQL takes two tasks at once.
CELERY_WORKER_CONCURRENCY = 1 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 2
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 1500)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 1800)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    # Lock-outs are warnings and stay in the log; every successful sign-in need not be.
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Domain settings (DOMAIN.md): every default is here, never a literal buried in code.
ABM_ENGAGEMENT_POINTS = {
    "email_open": 1.0,
    "email_click": 3.0,
    "email_reply": 8.0,
    "web_visit": 2.0,
    "content_download": 5.0,
    "form_fill": 10.0,
    "ad_click": 2.0,
    "ad_impression": 0.1,
    "event_attended": 15.0,
    "webinar_attended": 10.0,
    "meeting": 20.0,
    "call_connected": 5.0,
    "intent_signal": 3.0,
    "email_sent": 0.0,
    "direct_mail_sent": 0.0,
    "call_attempt": 0.0,
    "linkedin_message": 0.0,
}
ABM_SENIORITY_MULTIPLIERS = {
    "c_level": 2.0,
    "vp": 1.5,
    "director": 1.25,
    "manager": 1.0,
    "other": 0.5,
    None: 1.0,
}
ABM_ENGAGEMENT_WINDOW_DAYS = envint("ABM_ENGAGEMENT_WINDOW_DAYS", 90)
# Touch rules (DOMAIN.md "Attribution"), the defaults until a marketer saves the rules page: a kind
# counts as an attribution touch when its engagement points are >= ABM_TOUCH_MIN_POINTS (a response
# by the account); these outbound kinds count when a playbook step did them for the account with a
# cost (a 1:1 action by a person). Ad impressions and other outbound-only kinds do not count.
ABM_TOUCH_MIN_POINTS = envfloat("ABM_TOUCH_MIN_POINTS", 1.0)
ABM_TOUCH_STEP_KINDS = ("direct_mail_sent", "email_sent", "linkedin_message")
ABM_ENGAGEMENT_HALF_LIFE_DAYS = envfloat("ABM_ENGAGEMENT_HALF_LIFE_DAYS", 30.0)
ABM_DAILY_POINTS_CAP = envfloat("ABM_DAILY_POINTS_CAP", 20.0)
ABM_SPIKE_RATIO = envfloat("ABM_SPIKE_RATIO", 2.0)
# A spike also needs this many points in the last 7 days: a doubling of a near-zero base is noise.
ABM_SPIKE_MIN_POINTS = envfloat("ABM_SPIKE_MIN_POINTS", 10.0)
ABM_ENGAGED_SCORE = envfloat("ABM_ENGAGED_SCORE", 10.0)
ABM_MQA_SCORE = envfloat("ABM_MQA_SCORE", 50.0)
ABM_MQA_MIN_ENGAGED_CONTACTS = envint("ABM_MQA_MIN_ENGAGED_CONTACTS", 2)
ABM_ATTRIBUTION_WINDOW_DAYS = envint("ABM_ATTRIBUTION_WINDOW_DAYS", 180)
ABM_TIME_DECAY_HALF_LIFE_DAYS = envfloat("ABM_TIME_DECAY_HALF_LIFE_DAYS", 7.0)
ABM_HOLDOUT_SHARE = envfloat("ABM_HOLDOUT_SHARE", 0.10)
ABM_LIFT_MIN_GROUP = envint("ABM_LIFT_MIN_GROUP", 30)
# Beat creates tasks whose due date arrives later every this many minutes; a task created later
# than one interval after its nominal due date is due when created (README "Metrics", Tasks).
ABM_TASK_GENERATION_MINUTES = envint("ABM_TASK_GENERATION_MINUTES", 15)
ABM_FOLLOW_UP_SLA_HOURS = envint("ABM_FOLLOW_UP_SLA_HOURS", 48)
ABM_GOAL_ATTAINABLE_PACE = envfloat("ABM_GOAL_ATTAINABLE_PACE", 3.0)
# Attainable warns above the best of this many previous equal periods that the data cover.
ABM_GOAL_RECORD_PERIODS = envint("ABM_GOAL_RECORD_PERIODS", 8)
# Goal status: on_track at >= this share of expected-by-now, at_risk from the next, off_track below.
ABM_GOAL_ON_TRACK_SHARE = envfloat("ABM_GOAL_ON_TRACK_SHARE", 0.9)
ABM_GOAL_AT_RISK_SHARE = envfloat("ABM_GOAL_AT_RISK_SHARE", 0.7)
ABM_IMPORT_MAX_BYTES = envint("ABM_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
# An export with more rows runs in the worker and is downloaded from its progress page; the file
# stays in a private folder (outside static and media) for ABM_EXPORT_MAX_AGE_HOURS.
ABM_EXPORT_INLINE_MAX_ROWS = envint("ABM_EXPORT_INLINE_MAX_ROWS", 10_000)
ABM_EXPORT_DIR = Path(envstr("ABM_EXPORT_DIR", str(VAR_DIR / "exports")))
ABM_EXPORT_MAX_AGE_HOURS = envint("ABM_EXPORT_MAX_AGE_HOURS", 24)

# Every stored amount is in this currency; imports convert others by the ExchangeRate table.
ABM_REPORTING_CURRENCY = envstr("ABM_REPORTING_CURRENCY") or "USD"
if not re.fullmatch(r"[A-Z]{3}", ABM_REPORTING_CURRENCY):
    raise ImproperlyConfigured("ABM_REPORTING_CURRENCY must be an ISO 4217 code such as USD")
# A burst of changes waits this long for more before the incremental recompute runs.
ABM_RECOMPUTE_DEBOUNCE_SECONDS = envint("ABM_RECOMPUTE_DEBOUNCE_SECONDS", 30)
# The task that consumes the change feed (abm/change_feed.py): named here, so that the layers
# below the engine announce changes without importing it.
ABM_CHANGE_CONSUMER_TASK = "metrics.recompute_incremental"
# The engine's slots (metrics/engine/slots.py): a change recomputes the slot of its account, so
# smaller slots make incremental runs cheaper; each slot stores its own partial rollup rows, so
# the finish reads more of them. A run computes slots in batches of about so many accounts (one
# load and one computation per batch), so small slots cost no more computation per account.
# Batches of 2 000: a full run at 10 000 accounts took 10.6 s against 14.7 s in batches of 500
# (fewer, larger queries and frames), for 310 MB against 255 MB at the peak (README, Benchmarks).
ABM_ENGINE_ACCOUNTS_PER_SLOT = envint("ABM_ENGINE_ACCOUNTS_PER_SLOT", 50)
ABM_ENGINE_ACCOUNTS_PER_BATCH = envint("ABM_ENGINE_ACCOUNTS_PER_BATCH", 2000)
ABM_ENGINE_MAX_SLOTS = envint("ABM_ENGINE_MAX_SLOTS", 512)
# Worker tasks a full run's slots are dealt to (1: the run computes them all itself).
ABM_ENGINE_SHARDS = envint("ABM_ENGINE_SHARDS", 1)
ABM_ROLLUP_MONTHS = envint("ABM_ROLLUP_MONTHS", 24)
ABM_LIFT_PERIOD_DAYS = envint("ABM_LIFT_PERIOD_DAYS", 365)
ABM_LIFT_RESAMPLES = envint("ABM_LIFT_RESAMPLES", 2000)
ABM_LIFT_SEED = envint("ABM_LIFT_SEED", 20260101)
ABM_LEAD_CONVERSION_DAYS = envint("ABM_LEAD_CONVERSION_DAYS", 90)
# The planner (README "Metrics", Planner): a rate resting on fewer accounts than this falls back to
# the all-tier figure; the 80 % intervals come from this many bootstrap resamples (fixed seed, so
# a plan reads the same twice); today's cost per outcome is over the last this many whole months.
ABM_PLAN_MIN_ACCOUNTS = envint("ABM_PLAN_MIN_ACCOUNTS", 30)
ABM_PLAN_RESAMPLES = envint("ABM_PLAN_RESAMPLES", 400)
ABM_PLAN_SEED = envint("ABM_PLAN_SEED", 20261203)
ABM_PLAN_COST_MONTHS = envint("ABM_PLAN_COST_MONTHS", 12)
