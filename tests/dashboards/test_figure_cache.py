"""The director's figures are kept between runs (dashboards/figure_cache.py): a second look
reads no rollup, any run, recorded change or rename shows at once, and the worker builds the
default view's figures after a run, the views one filter away and those opened lately
(dashboards/figure_warming.py)."""

import datetime as dt
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from abm.models import Job, RunStatus
from accounts.models import Account
from accounts.records import account_update
from dashboards.figure_cache import (
    LOOKED_AT_KEPT,
    code_stamp,
    kept_figures,
    looked_at,
    remember_looked_at,
)
from dashboards.figure_warming import views_to_warm, warm_director_figures
from dashboards.filters import parse_filters
from demo.seeding import seed_demo
from metrics.engine.runner import recompute_all, recompute_enqueue
from playbooks.models import Playbook
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


def forget_kept() -> None:
    """The kept figures (and their panels' HTML) gone, as after a deploy."""
    caches["figures"].clear()
    caches["default"].clear()


def panels_rendered(response) -> list[str]:
    """The templates of the figures' panels this request rendered."""
    names = {t.name for t in response.templates}
    return sorted(n for n in names if n.startswith(("dashboards/_panel", "dashboards/_director_")))


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
    forget_kept()
    assert funnel(retiered) == funnel(client.get(URL).content.decode())

    playbook = Playbook.objects.order_by("pk").first()
    Playbook.objects.filter(pk=playbook.pk).update(name="Renamed on purpose")
    playbook.refresh_from_db()
    playbook.save(update_fields=["updated_at"])
    assert "Renamed on purpose" in client.get(URL).content.decode()


def test_users_who_see_everything_share_the_figures_and_a_rep_may_not_open_them(
    demo, diana, maria, bob, client
):
    client.force_login(diana)
    by_director = client.get(URL).content.decode()
    client.force_login(maria)  # a marketer: she sees every account too
    with CaptureQueriesContext(connection) as queries:
        by_marketer = client.get(URL).content.decode()
    assert rollup_reads(queries) == []
    assert kpis(by_marketer) == kpis(by_director)
    client.force_login(bob)  # a rep sees only his accounts: the page is not his
    assert client.get(URL).status_code == 403


def test_a_finished_run_builds_the_default_view_for_the_first_look(
    demo, diana, client, eager_tasks, django_capture_on_commit_callbacks
):
    account = Account.objects.order_by("pk").first()
    ActivityFactory(account=account, channel="event", kind="meeting", occurred_at=NOW, cost=7_777)
    with django_capture_on_commit_callbacks(execute=True):
        run = recompute_enqueue(by=diana, now=NOW)
    assert Job.objects.get(pk=run.pk).status == RunStatus.DONE
    caches["default"].clear()  # a web process that kept nothing itself

    client.force_login(diana)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboards:director"))
    warm = response.content.decode()
    assert rollup_reads(queries) == []  # the worker built them after the run
    assert panels_rendered(response) == []  # and rendered their panels
    forget_kept()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboards:director"))
    cold = response.content.decode()
    assert rollup_reads(queries) != []
    assert "dashboards/_panel.html" in panels_rendered(response)
    assert kpis(warm) == kpis(cold)
    assert funnel(warm) == funnel(cold)


def test_nothing_is_built_when_nobody_may_open_the_dashboard(db, bob):
    assert not bob.sees_everything  # the only user: a rep
    assert warm_director_figures() is False


def test_a_finished_run_also_builds_the_views_one_filter_away_and_those_opened_lately(
    demo, diana, client, eager_tasks, django_capture_on_commit_callbacks
):
    director = reverse("dashboards:director")
    account = Account.objects.exclude(owner=None).order_by("pk").first()
    playbook = Playbook.objects.order_by("pk").first()
    opened = f"?preset=this_year&owner={account.owner_id}&playbook={playbook.pk}"
    client.force_login(diana)
    client.get(director + opened)  # before the run: built in the request, and remembered
    ActivityFactory(account=account, channel="event", kind="meeting", occurred_at=NOW, cost=5_555)
    with django_capture_on_commit_callbacks(execute=True):
        run = recompute_enqueue(by=diana, now=NOW)
    assert Job.objects.get(pk=run.pk).status == RunStatus.DONE
    caches["default"].clear()  # a web process that kept nothing itself

    warm = {}
    for query in ("?tier=1", "?tier=targets", "?model=markov", "?preset=last_quarter", opened):
        with CaptureQueriesContext(connection) as queries:
            warm[query] = client.get(director + query).content.decode()
        assert rollup_reads(queries) == [], f"{query} was built in the request"
    with CaptureQueriesContext(connection) as queries:
        client.get(director + "?tier=2&model=markov")  # two filters away, never opened
    assert rollup_reads(queries) != []
    forget_kept()
    for query in ("?model=markov", opened):
        assert kpis(client.get(director + query).content.decode()) == kpis(warm[query])


def test_the_views_opened_lately_are_kept_newest_first_and_only_so_many(db, diana, bob):
    def query(text: str) -> str:
        return parse_filters(QueryDict(text), user=diana).query()

    views = [
        f"preset=custom&start={2020 + n // 12}-{n % 12 + 1:02}&end=2025-12"
        for n in range(LOOKED_AT_KEPT + 2)
    ]
    for view in views:
        remember_looked_at(diana, parse_filters(QueryDict(view), user=diana))
    remember_looked_at(diana, parse_filters(QueryDict(views[5]), user=diana))  # opened again
    remember_looked_at(bob, parse_filters(QueryDict("tier=1"), user=bob))  # a rep's own view
    opened = looked_at()
    assert len(opened) == LOOKED_AT_KEPT
    assert opened[:2] == [query(views[5]), query(views[-1])]
    assert query(views[0]) not in opened  # the oldest went
    assert len(set(opened)) == len(opened)
    assert query("tier=1") not in opened
    assert views_to_warm()[0] == ""  # the default view first
    assert views_to_warm()[-LOOKED_AT_KEPT:] == opened


def test_with_no_figure_in_the_default_period_only_other_periods_are_built(db, diana):
    assert warm_director_figures() is True
    for query, built in (("", True), ("preset=last_year", True), ("tier=1", False)):
        filters = parse_filters(QueryDict(query), user=diana)
        assert (kept_figures(diana, filters) is not None) is built, query
    assert len(views_to_warm(same_period=False)) < len(views_to_warm())


def test_figures_kept_by_another_version_of_the_code_are_not_served(tmp_path):
    """The key holds a digest of the code and templates: a deploy that changes a panel's
    template or a module makes new keys; other files, and file times, do not."""
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "templates" / "dashboards").mkdir(parents=True)
    module = tmp_path / "dashboards" / "director.py"
    panel = tmp_path / "templates" / "dashboards" / "_panel.html"
    notes = tmp_path / "dashboards" / "notes.txt"
    module.write_text("TOTAL = 1\n")
    panel.write_text("<section>{{ table.title }}</section>\n")
    notes.write_text("draft\n")
    dirs = ("dashboards", "templates")
    first = code_stamp(tmp_path, dirs)
    notes.write_text("draft, edited\n")
    module.touch()
    assert code_stamp(tmp_path, dirs) == first
    panel.write_text("<section class='new'>{{ table.title }}</section>\n")
    after_template = code_stamp(tmp_path, dirs)
    assert after_template != first
    module.write_text("TOTAL = 2\n")
    assert code_stamp(tmp_path, dirs) not in (first, after_template)
