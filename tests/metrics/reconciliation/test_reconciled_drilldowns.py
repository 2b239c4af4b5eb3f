"""Every drill-down of the three dashboards lists exactly the records behind the number clicked:
the same count and the same total (DOMAIN.md "Dashboards")."""

from dataclasses import replace

import pytest
from django.db import connection
from django.urls import reverse

from tests.metrics.reconciliation import sql
from tests.metrics.reconciliation.money import ALL_SCOPES, cents

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the reconciliation SQL is PostgreSQL"
    ),
]
MODEL = "linear"


@pytest.fixture
def listing(client):
    """``listing(url)``: what the list page a figure links to holds in all (every page)."""

    def get(url):
        assert url, "the figure links nowhere"
        response = client.get(url)
        assert response.status_code == 200
        context = response.context
        if "totals" in context:
            return context["totals"]
        return type("Count", (), {"count": context["page"].paginator.count})

    return get


def _by(rows, key):
    return {r[key]: r for r in rows}


def _credited(totals) -> float:
    return float(totals.credited if totals.credited is not None else totals.amount)


def _deals_credited(kind: str, scope, key: str) -> dict:
    """Per channel or playbook: the deals whose journey has a touch of it (any model's deals)."""
    deals = {}
    for row in sql.credits(kind, scope):
        deals.setdefault(row[key], set()).add(row["opp"])
    return deals


# --- Director ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_director_pipeline_and_revenue_tiles(page, listing, scopes, name):
    params, scope = scopes[name]
    response = page("dashboards:director", {**params, "model": MODEL})

    tiles = _by(response.context["tiles"], "key")
    for kind in ("pipeline", "revenue"):
        listed = listing(tiles[kind]["url"])
        assert listed.count == len({r["opp"] for r in sql.credits(kind, scope)})
        cents(_credited(listed), tiles[kind]["value"])


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_director_money_by_channel_and_by_playbook(page, listing, scopes, name):
    params, scope = scopes[name]
    response = page("dashboards:director", {**params, "model": MODEL})

    for table, key, row_key in (
        ("by_channel", "channel", "channel_key"),
        ("by_playbook", "playbook_id", "playbook_id"),
    ):
        rows = response.context["t"][table].rows
        for kind, link in (("pipeline", "url"), ("revenue", "revenue_url")):
            deals = _deals_credited(kind, scope, key)
            for row in rows:
                if not row[kind]:
                    continue
                listed = listing(row[link])
                assert listed.count == len(deals[row[row_key]]), (table, row[row_key], kind)
                cents(_credited(listed), row[kind])


def _costs(costs, *, channel=None, playbook=...) -> tuple[int, float]:
    """How many of the suite's costs (``sql.spend_costs``) a figure holds, and their total."""
    chosen = [
        amount
        for ch, pb, amount in costs
        if (channel is None or ch == channel) and (playbook is ... or pb == playbook)
    ]
    return len(chosen), sum(chosen)


def _spend_listed(listing, url, figure, expected) -> None:
    """The spend list a figure opens holds the suite's costs: same count, same total."""
    listed = listing(url)
    count, total = expected
    assert listed.count == count
    cents(float(listed.amount), figure)
    cents(float(listed.amount), total)


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_director_spend_tile_by_channel_and_by_playbook(page, listing, scopes, name):
    params, scope = scopes[name]
    response = page("dashboards:director", params)
    costs = sql.spend_costs(scope)

    tile = _by(response.context["tiles"], "key")["spend"]
    _spend_listed(listing, tile["url"], tile["value"], _costs(costs))
    channels = response.context["t"]["by_channel"].rows
    playbooks = response.context["t"]["by_playbook"].rows
    assert any(row["spend"] for row in channels)
    assert any(row["spend"] for row in playbooks)
    for row in channels:
        expected = _costs(costs, channel=row["channel_key"])
        _spend_listed(listing, row["spend_url"], row["spend"], expected)
    for row in playbooks:
        expected = _costs(costs, playbook=row["playbook_id"])
        _spend_listed(listing, row["spend_url"], row["spend"], expected)


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_director_target_table_and_lift_tile(page, listing, scopes, name):
    params, _scope = scopes[name]
    response = page("dashboards:director", params)

    for row in response.context["t"]["target_vs_non_target"].rows:
        if row.get("url"):
            assert listing(row["url"]).count == row["opportunities"], row["key"]
    lift = _by(response.context["tiles"], "key")["lift"]
    target = _by(response.context["t"]["target_vs_non_target"].rows, "key")["target"]
    assert listing(lift["url"]).count == target["opportunities"]


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_director_funnel(page, listing, scopes, name):
    params, _scope = scopes[name]
    for row in page("dashboards:director", params).context["t"]["funnel"].rows:
        assert listing(row["url"]).count == row["reached"], row["stage"]


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_director_follow_up(page, listing, scopes, name):
    params, scope = scopes[name]
    rows = page("dashboards:director", params).context["t"]["follow_up"].rows

    expected = sql.follow_up(scope)
    assert sum(r["handed_off"] for r in rows)
    for row in rows:
        assert listing(row["url"]).count == row["handed_off"]
    assert sum(listing(r["on_time_url"]).count for r in rows) == sum(
        m["on_time"] for m in expected.values()
    )
    assert sum(listing(r["followed_url"]).count for r in rows) == sum(
        m["followed"] for m in expected.values()
    )


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_director_sourced_and_influenced(page, listing, scopes, name):
    params, _scope = scopes[name]
    for row in page("dashboards:director", params).context["t"]["sourced_vs_influenced"].rows:
        cents(float(listing(row["url"]).amount), row["amount"])


# --- Marketer ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_marketer_enrolments_by_stage(page, listing, scopes, name, dataset):
    params, _scope = scopes[name]
    rows = (
        page("dashboards:marketer", params, user=dataset.marketer)
        .context["t"]["enrolments_by_stage"]
        .rows
    )

    for row in rows:
        assert listing(row["url"]).count == row["accounts"], (row["playbook"], row["stage"])


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_marketer_tasks_done(page, listing, scopes, name, dataset):
    params, _scope = scopes[name]
    rows = (
        page("dashboards:marketer", params, user=dataset.marketer)
        .context["t"]["task_completion"]
        .rows
    )

    # No list holds exactly the tasks done in the period across every assignee, so the bars
    # offer no link rather than one that lists something else.
    assert rows
    for row in rows:
        assert not row.get("done_url"), row["playbook"]


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_marketer_money_by_playbook(page, listing, scopes, name, dataset):
    params, scope = scopes[name]
    response = page("dashboards:marketer", {**params, "model": MODEL}, user=dataset.marketer)

    for row in response.context["t"]["by_playbook"].rows:
        if row["playbook_id"] is None:
            continue
        for kind, link in (("pipeline", "url"), ("revenue", "revenue_url")):
            if row[kind]:
                deals = _deals_credited(kind, scope, "playbook_id")[row["playbook_id"]]
                listed = listing(row[link])
                assert listed.count == len(deals)
                cents(_credited(listed), row[kind])


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_marketer_spend_tile_and_by_playbook(page, listing, scopes, name, dataset):
    params, scope = scopes[name]
    response = page("dashboards:marketer", params, user=dataset.marketer)
    costs = sql.spend_costs(scope)

    # The tile counts playbook work only.
    on_playbooks = [cost for cost in costs if cost[1] is not None]
    tile = _by(response.context["tiles"], "key")["spend"]
    _spend_listed(listing, tile["url"], tile["value"], _costs(on_playbooks))
    rows = response.context["t"]["by_playbook"].rows
    assert any(row["spend"] for row in rows)
    for row in rows:
        expected = _costs(costs, playbook=row["playbook_id"])
        _spend_listed(listing, row["spend_url"], row["spend"], expected)
    bars = response.context["charts"]["money"]["data"][0]
    assert bars["name"] == "Spend"
    assert bars["customdata"] == [r["spend_url"] for r in rows if r["playbook_id"] is not None]


@pytest.mark.parametrize("rep_index", [0, 1, 2])
def test_a_reps_spend_list_is_their_owner_slice(client, listing, scopes, dataset, rep_index):
    rep = dataset.reps[rep_index]
    _params, default = scopes["default"]
    client.force_login(rep)

    listed = listing(reverse("dashboards:spend"))

    count, total = _costs(sql.spend_costs(replace(default, owner=rep.pk)))
    assert listed.count == count
    cents(float(listed.amount), total)


# --- Sales ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rep_index", [0, 1, 2])
def test_sales_tiles_and_tables(page, listing, dataset, rep_index):
    rep = dataset.reps[rep_index]
    response = page("dashboards:sales", {"model": MODEL}, user=rep)

    tiles = _by(response.context["tiles"], "key")
    assert listing(tiles["targets"]["url"]).count == tiles["targets"]["value"]
    assert listing(tiles["spiking"]["url"]).count == tiles["spiking"]["value"]
    for key in ("open_pipeline", "won"):
        cents(float(listing(tiles[key]["url"]).amount), tiles[key]["value"])
    for row in response.context["t"]["pipeline_by_stage"].rows:
        listed = listing(row["url"])
        assert listed.count == row["deals"], row["stage"]
        cents(float(listed.amount), row["amount"])
    for row in response.context["t"]["attributed_by_channel"].rows:
        for kind, link in (("pipeline", "url"), ("revenue", "revenue_url")):
            if row[kind]:
                cents(_credited(listing(row[link])), row[kind])
