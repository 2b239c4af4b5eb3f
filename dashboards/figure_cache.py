"""The director's figures, kept until the stored results they read change.

The ROI dashboard reads only what the metrics engine stored (rollups, the stage history) and
playbook names, so its figures stay the same from one run to the next: a director's second look,
or a colleague opening the same filters, reuses them instead of re-reading and re-shaping the
rollups. The key holds the user (what they may see), the filters, the last finished run, the
newest rollup row, the newest playbook edit, the change feed's position, the newest account edit
and the enrolments: any run, rename or change the funnel would show at once (it counts accounts
by their current tier, owner and enrolments, as its drill-down lists them) makes a new key; so
does a new version of the code (``code_stamp``). Goals are not kept: they are edited between
runs.

Every user who may open the ROI dashboard sees every account, and the figures read only through
the visibility functions, so those users share one key: the worker builds the figures of the
default filters once after each run (dashboards/figure_warming.py) and a director's first look
after a run finds them. They live in the shared "figures" cache (Redis, or files in the embedded
default; settings.CACHES).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import F, Func

from abm.models import Change, Job, RunKind, RunStatus
from accounts.filtering import ENROLLED_STATUSES
from accounts.models import Account
from metrics.models import MetricRollup
from playbooks.models import Enrolment, Playbook

# A safety net only: every change that matters changes the key.
KEEP_SECONDS = 15 * 60
# The filtered views looked at lately (their query strings), newest first: the worker builds
# them again after each run (dashboards/figure_warming.py).
_LOOKED_AT = "director-looked-at"
LOOKED_AT_KEPT = 12
LOOKED_AT_SECONDS = 30 * 24 * 60 * 60


def cached_figures(build, user, filters) -> dict:
    """``build(user, filters)``, or what it returned for the same scope, filters and stored
    data."""
    key = _figures_key(user, filters)
    figures = caches["figures"].get(key)
    if figures is None:
        figures = build(user, filters)
        caches["figures"].set(key, figures, KEEP_SECONDS)
    return figures


def remember_looked_at(user, filters) -> None:
    """Note a view of the shared figures someone opened (not a rep's own: the worker builds
    only the shared ones). Lossy under concurrent looks, which costs one build at most."""
    if not user.sees_everything:
        return
    query = filters.query()
    looked_at = caches["figures"].get(_LOOKED_AT) or []
    if looked_at[:1] != [query]:
        looked_at = [query, *(q for q in looked_at if q != query)][:LOOKED_AT_KEPT]
        caches["figures"].set(_LOOKED_AT, looked_at, LOOKED_AT_SECONDS)


def looked_at() -> list[str]:
    """The query strings of the shared views opened lately, newest first."""
    return list(caches["figures"].get(_LOOKED_AT) or [])


def kept_figures(user, filters) -> dict | None:
    """The figures kept for this user's scope, filters and the stored data, if any."""
    return caches["figures"].get(_figures_key(user, filters))


def cached_value(name: str, build, user, *parts):
    """``build()``, or what it returned for the same user, ``parts`` and stored data (None
    included)."""
    key = _key(name, _own(user), parts)
    kept = caches["figures"].get(key)
    if kept is None:
        kept = (build(),)
        caches["figures"].set(key, kept, KEEP_SECONDS)
    return kept[0]


def _figures_key(user, filters) -> str:
    return _key("director-figures", _scope(user), filters)


def _scope(user) -> tuple:
    """Whose figures: one key for the users who see everything, else the user's own."""
    return ("everything",) if user.sees_everything else _own(user)


def _own(user) -> tuple:
    return (user.pk, user.role, user.is_superuser)


def code_stamp(root: Path, dirs: tuple[str, ...]) -> str:
    """A digest of the Python modules and templates under ``dirs`` (migrations aside): figures
    and HTML kept by one version of the code are not served by another (after a deploy that
    changes a panel or a sum, for up to ``KEEP_SECONDS``), while the web and worker processes
    of one version agree wherever they run (contents, not file times)."""
    digest = hashlib.sha256()
    files = (p for d in dirs for p in (root / d).rglob("*") if p.suffix in (".py", ".html"))
    for path in sorted(p for p in files if "migrations" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@cache
def _code() -> str:
    """The stamp of our apps' code and the templates (~400 files, read once per process)."""
    root = Path(settings.BASE_DIR)
    apps = tuple(app for app in settings.INSTALLED_APPS if (root / app).is_dir())
    return code_stamp(root, (*apps, "templates"))


def _key(name: str, scope: tuple, parts) -> str:
    stamp = (*scope, repr(parts), _code(), *_data_stamp())
    return f"{name}:" + hashlib.sha256(repr(stamp).encode()).hexdigest()


def _data_stamp() -> tuple:
    """What the figures were built from, in one query of index look-ups: the last finished run,
    the newest rollup row, playbook edit, change-feed entry and account edit, and the
    enrolments (the funnel counts accounts by their current tier, owner and enrolments)."""
    runs = Job.objects.filter(
        kind__in=(RunKind.FULL, RunKind.INCREMENTAL), status=RunStatus.DONE
    ).exclude(finished_at=None)
    parts = [
        _newest(runs, "finished_at"),
        _newest(runs, "pk"),
        _newest(MetricRollup.objects.all(), "pk"),
        _newest(Playbook.objects.all(), "updated_at"),
        _newest(Change.objects.all(), "pk"),
        _newest(Account.objects.all(), "updated_at"),
        _newest(Enrolment.objects.all(), "pk"),
        Enrolment.objects.filter(status__in=ENROLLED_STATUSES)
        .order_by()
        .values_list(Func(F("pk"), function="COUNT")),
    ]
    sql, params = [], []
    for queryset in parts:
        part, part_params = queryset.query.sql_with_params()
        sql.append(f"({part})")
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(sql)}", params)
        return tuple(cursor.fetchone())


def _newest(queryset, field: str):
    return queryset.exclude(**{field: None}).order_by(f"-{field}").values_list(field)[:1]
