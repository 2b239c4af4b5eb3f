"""Every drill-down on the three dashboards opens the records behind the number clicked.

Each test follows the links of one kind with the test client and compares the list's count or
total with the figure the dashboard shows (DOMAIN.md "Dashboards": same count, same total).
"""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from abm.models import User
from demo.seeding import seed_demo
from metrics.engine.runner import recompute_all
from playbooks.models import Playbook

DIRECTOR = reverse("dashboards:director")
MARKETER = reverse("dashboards:marketer")
SALES = reverse("dashboards:sales")
MONEY = 0.01  # figures are stored to 4 decimals, lists sum cents


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        seed_demo(accounts=90, seed=11, today=timezone.now().date())
        recompute_all(now=timezone.now(), queue_tasks=False)
    yield
    with django_db_blocker.unblock():
        from demo.seeding.seed import flush_domain_data

        flush_domain_data()
        User.objects.all().delete()


@pytest.fixture
def director(seeded, db):
    return User.objects.get(username="director")


@pytest.fixture
def marketer(seeded, db):
    return User.objects.get(username="marketer")


@pytest.fixture
def playbook(seeded, db):
    return Playbook.objects.filter(enrolments__isnull=False).order_by("pk").first().pk


def _page(client, url, params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.context


def _opened(client, url):
    """The list a link opens: (count, money total) as the list shows them."""
    assert url, "no link"
    response = client.get(url)
    assert response.status_code == 200, url
    ctx = response.context
    path = urlsplit(url).path
    if path == reverse("accounts:opportunities"):
        totals = ctx["totals"]
        money = totals.credited if totals.credited is not None else totals.amount
        return totals.count, float(money)
    if path == reverse("ingestion:activities"):
        return ctx["totals"].count, float(ctx["totals"].cost)
    if path == reverse("accounts:leads"):
        return ctx["totals"].count, None
    if path == reverse("dashboards:spend"):
        return ctx["totals"].count, float(ctx["totals"].amount)
    return ctx["page"].paginator.count, None


FILTERS = [{}, {"tier": "1"}, {"tier": "targets"}, {"owner": "rep1"}, {"playbook": "pb"}]


def _filters(params, playbook):
    out = dict(params)
    if out.get("owner") == "rep1":
        out["owner"] = User.objects.get(username="rep1").pk
    if out.get("playbook") == "pb":
        out["playbook"] = playbook
    return out


# --- Director ---------------------------------------------------------------------------------


@pytest.mark.parametrize("params", FILTERS)
def test_director_money_tiles_open_the_credited_deals(client, director, playbook, params):
    client.force_login(director)
    ctx = _page(client, DIRECTOR, _filters(params, playbook))

    for tile in ctx["tiles"]:
        if tile["key"] in ("pipeline", "revenue", "spend"):
            _, total = _opened(client, tile["url"])
            assert total == pytest.approx(tile["value"], abs=MONEY), tile["key"]


@pytest.mark.parametrize("params", FILTERS)
def test_director_channel_and_playbook_rows_open_their_credited_deals(
    client, director, playbook, params
):
    client.force_login(director)
    ctx = _page(client, DIRECTOR, _filters(params, playbook))

    checked = 0
    for name in ("by_channel", "by_playbook"):
        for row in ctx["t"][name].rows:
            links = (
                (row["url"], "pipeline"),
                (row["revenue_url"], "revenue"),
                (row["spend_url"], "spend"),
            )
            for url, figure in links:
                if not url:
                    assert not row[figure], (name, row)
                    continue
                _, total = _opened(client, url)
                assert total == pytest.approx(row[figure], abs=MONEY), (name, row, figure)
                checked += 1
    assert checked


def test_director_models_chart_opens_each_models_credited_deals(client, director):
    client.force_login(director)
    ctx = _page(client, DIRECTOR, {})

    figure = ctx["charts"]["models"]
    for trace in figure["data"]:
        for value, url in zip(trace["y"], trace["customdata"], strict=True):
            _, total = _opened(client, url)
            assert total == pytest.approx(value or 0, abs=MONEY), trace["name"]


@pytest.mark.parametrize("params", FILTERS)
def test_director_target_rows_open_their_deals(client, director, playbook, params):
    client.force_login(director)
    ctx = _page(client, DIRECTOR, _filters(params, playbook))

    for row in ctx["t"]["target_vs_non_target"].rows:
        if row.get("url"):
            count, _ = _opened(client, row["url"])
            assert count == row["opportunities"], row["segment"]
    lift = next(t for t in ctx["tiles"] if t["key"] == "lift")
    target = next(r for r in ctx["t"]["target_vs_non_target"].rows if r["key"] == "target")
    assert _opened(client, lift["url"])[0] == target["opportunities"]


@pytest.mark.parametrize("params", FILTERS)
def test_director_origin_rows_open_their_pipeline(client, director, playbook, params):
    client.force_login(director)
    ctx = _page(client, DIRECTOR, _filters(params, playbook))

    for row in ctx["t"]["sourced_vs_influenced"].rows:
        _, total = _opened(client, row["url"])
        assert total == pytest.approx(row["amount"], abs=MONEY), row["origin"]


@pytest.mark.parametrize("params", FILTERS)
def test_director_follow_up_points_open_their_leads(client, director, playbook, params):
    client.force_login(director)
    ctx = _page(client, DIRECTOR, _filters(params, playbook))

    for row in ctx["t"]["follow_up"].rows:
        assert _opened(client, row["url"])[0] == row["handed_off"], row["month"]
        on_time = round((row["rate"] or 0) * row["due"])
        assert _opened(client, row["on_time_url"])[0] == on_time, row["month"]
        followed = round((row["followed_share"] or 0) * row["due"])
        assert _opened(client, row["followed_url"])[0] == followed, row["month"]


@pytest.mark.parametrize("params", FILTERS)
def test_director_funnel_steps_open_their_accounts(client, director, playbook, params):
    client.force_login(director)
    ctx = _page(client, DIRECTOR, _filters(params, playbook))

    rows = ctx["t"]["funnel"].rows
    assert rows
    for row in rows:
        assert _opened(client, row["url"])[0] == row["reached"], row["stage"]


# --- Marketer ---------------------------------------------------------------------------------


@pytest.mark.parametrize("params", FILTERS)
def test_marketer_stage_bars_open_their_enrolments(client, marketer, playbook, params):
    client.force_login(marketer)
    ctx = _page(client, MARKETER, _filters(params, playbook))

    rows = ctx["t"]["enrolments_by_stage"].rows
    assert rows
    for row in rows:
        assert _opened(client, row["url"])[0] == row["accounts"], (row["playbook"], row["stage"])


@pytest.mark.parametrize("params", FILTERS)
def test_marketer_tiles_open_their_records(client, marketer, playbook, params):
    client.force_login(marketer)
    ctx = _page(client, MARKETER, _filters(params, playbook))

    for tile in ctx["tiles"]:
        if not tile["url"] or tile["key"] == "active_playbooks":
            continue
        count, total = _opened(client, tile["url"])
        if tile["format"] == "money":
            assert total == pytest.approx(tile["value"], abs=MONEY), tile["key"]
        else:
            assert count == tile["value"], tile["key"]


@pytest.mark.parametrize("params", FILTERS)
def test_marketer_playbook_money_opens_its_records(client, marketer, playbook, params):
    client.force_login(marketer)
    ctx = _page(client, MARKETER, _filters(params, playbook))

    figure = ctx["charts"]["money"]
    checked = 0
    for trace in figure["data"]:
        # Spend bars open the spend list: activity costs and budget-line shares.
        for value, url in zip(trace["y"], trace["customdata"], strict=True):
            checked += 1
            _, total = _opened(client, url)
            assert total == pytest.approx(value or 0, abs=MONEY), trace["name"]
    assert checked


# --- Sales ------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["director", "rep1"])
@pytest.mark.parametrize("params", FILTERS)
def test_sales_tiles_and_tables_open_their_records(client, seeded, db, playbook, user, params):
    who = User.objects.get(username=user)
    client.force_login(who)
    if user == "rep1" and params.get("owner"):
        pytest.skip("a rep has no owner filter")
    ctx = _page(client, SALES, _filters(params, playbook))

    for tile in ctx["tiles"]:
        if not tile["url"]:
            assert tile["key"] == "overdue"  # a director, a tier filter, or none overdue
            continue
        count, total = _opened(client, tile["url"])
        if tile["format"] == "money":
            assert total == pytest.approx(tile["value"], abs=MONEY), tile["key"]
        else:
            assert count == tile["value"], tile["key"]
    if user == "rep1" and not params:
        assert next(t for t in ctx["tiles"] if t["key"] == "overdue")["url"]  # checked above
    assert _opened(client, ctx["all_accounts_url"])[0] == ctx["account_count"]
    for row in ctx["t"]["pipeline_by_stage"].rows:
        count, total = _opened(client, row["url"])
        assert (count, total) == (row["deals"], pytest.approx(row["amount"], abs=MONEY))
    for row in ctx["t"]["attributed_by_channel"].rows:
        for url, figure in ((row["url"], "pipeline"), (row["revenue_url"], "revenue")):
            _, total = _opened(client, url)
            assert total == pytest.approx(row[figure], abs=MONEY), (row["channel"], figure)


def test_drilldown_links_follow_the_script_prefix_they_are_made_under():
    """The list's path is reversed once per prefix (dashboards.drilldown._path), not once."""
    import datetime as dt

    from django.urls import get_script_prefix, set_script_prefix

    from dashboards.drilldown import opportunities_url
    from dashboards.filters import DashboardFilters

    filters = DashboardFilters(preset="custom", start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 1))
    before = get_script_prefix()
    try:
        plain = opportunities_url(filters)
        set_script_prefix("/abm/")
        prefixed = opportunities_url(filters)
    finally:
        set_script_prefix(before)
    assert urlsplit(plain).path == reverse("accounts:opportunities")
    assert urlsplit(prefixed).path == "/abm" + reverse("accounts:opportunities")
    assert urlsplit(prefixed).query == urlsplit(plain).query
    assert opportunities_url(filters) == plain
