"""The director's figures are kept between runs (dashboards/figure_cache.py): a second look
reads no rollup, and any run, recorded change or rename shows at once."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from accounts.records import account_update
from demo.seeding import seed_demo
from metrics.engine.runner import recompute_all
from playbooks.models import Playbook
from tests.conftest import make_user
from tests.factories import ActivityFactory

URL = reverse("dashboards:director") + "?preset=this_year"
NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(db):
    seed_demo(accounts=30, seed=4, today=NOW.date())
    recompute_all(now=NOW)


def kpis(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="kpi-([\w-]+)-value">\s*(.*?)\s*</div>', html, re.S))


def funnel(html: str) -> str:
    return re.search(r'data-testid="panel-funnel".*?</section>', html, re.S).group(0)


def rollup_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if "metrics_metricrollup" in q["sql"] and "SUM(" in q["sql"]]


def test_a_second_look_reads_no_rollup_and_shows_the_same_page(demo, diana, client):
    client.force_login(diana)
    first = client.get(URL).content.decode()
    with CaptureQueriesContext(connection) as queries:
        second = client.get(URL).content.decode()
    assert rollup_reads(queries) == []
    assert kpis(second) == kpis(first)
    assert funnel(second) == funnel(first)


def test_a_run_a_recorded_change_and_a_rename_each_show_at_once(demo, diana, maria, client):
    client.force_login(diana)
    before = client.get(URL).content.decode()

    # A new run over a new, costly activity: the spend tile moves.
    account = Account.objects.order_by("pk").first()
    ActivityFactory(account=account, channel="event", kind="meeting", occurred_at=NOW, cost=9_999)
    recompute_all(now=NOW)
    after_run = client.get(URL).content.decode()
    assert kpis(after_run) != kpis(before)

    # A re-tier recorded in the change feed, before its run: the funnel (current tiers) follows.
    target = (
        Account.objects.filter(tier__isnull=False, stage_changes__changed_at__year=NOW.year)
        .order_by("pk")
        .first()
    )
    account_update(account=target, by=maria, tier=None)
    retiered = client.get(URL).content.decode()
    assert funnel(retiered) != funnel(after_run)  # one target fewer reached "targeted"
    cache.clear()
    assert funnel(retiered) == funnel(client.get(URL).content.decode())

    playbook = Playbook.objects.order_by("pk").first()
    Playbook.objects.filter(pk=playbook.pk).update(name="Renamed on purpose")
    playbook.refresh_from_db()
    playbook.save(update_fields=["updated_at"])
    assert "Renamed on purpose" in client.get(URL).content.decode()


def test_users_do_not_share_figures(demo, diana, client):
    other = make_user("dora", diana.role)
    client.force_login(diana)
    client.get(URL)
    client.force_login(other)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    assert rollup_reads(queries) != []  # built for this user, not taken from diana's
