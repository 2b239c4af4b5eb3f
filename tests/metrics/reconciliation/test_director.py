"""The director's ROI dashboard against the suite's own SQL (DOMAIN.md), to the cent."""

import pytest
from django.db import connection

from tests.metrics.reconciliation import sql
from tests.metrics.reconciliation.money import ALL_SCOPES, cents, ratio

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the reconciliation SQL is PostgreSQL"
    ),
]
URL = "dashboards:director"


def _tiles(response) -> dict:
    return {t["key"]: t["value"] for t in response.context["tiles"]}


def _table(response, name) -> list[dict]:
    return response.context["t"][name].rows


@pytest.mark.parametrize("model", sql.MODELS)
@pytest.mark.parametrize("name", ALL_SCOPES)
def test_attributed_pipeline_and_revenue_by_channel_and_playbook(page, scopes, name, model):
    params, scope = scopes[name]
    response = page(URL, {**params, "model": model})

    tiles = _tiles(response)
    for kind, tile in (("pipeline", "pipeline"), ("revenue", "revenue")):
        expected = sql.attributed(kind, model, scope)
        assert expected["total"] > 0
        cents(tiles[tile], expected["total"])
        channels = {r["channel_key"]: r[kind] for r in _table(response, "by_channel")}
        for channel, credit in expected["by_channel"].items():
            cents(channels.pop(channel, 0.0), credit)
        assert not any(channels.get(c) for c in channels if c != "unallocated")
        playbooks = {r["playbook_id"]: r[kind] for r in _table(response, "by_playbook")}
        for playbook, credit in expected["by_playbook"].items():
            cents(playbooks.pop(playbook, 0.0), credit)
        assert not any(playbooks.values())


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_models_side_by_side(page, scopes, name):
    params, scope = scopes[name]
    rows = {r["channel_key"]: r for r in _table(page(URL, params), "models_side_by_side")}

    for model in sql.MODELS:
        expected = sql.attributed("pipeline", model, scope)["by_channel"]
        assert {c for c, v in expected.items() if v} <= set(rows)
        for channel, row in rows.items():
            cents(row[model], expected.get(channel, 0.0))
    # Markov is data-driven: its channels add up to the value of every journey with a touch.
    cents(sum(r["markov"] for r in rows.values()), sql.converted_value("pipeline", scope))


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_spend_tile_and_spend_by_channel_and_playbook(page, scopes, name):
    params, scope = scopes[name]
    response = page(URL, params)

    expected = sql.spend(scope)
    assert expected["total"] > 0
    cents(_tiles(response)["spend"], expected["total"])
    channels = {r["channel_key"]: r["spend"] for r in _table(response, "by_channel")}
    for channel, spent in expected["by_channel"].items():
        cents(channels.pop(channel, 0.0), spent)
    assert not any(channels.values())
    playbooks = {r["playbook_id"]: r["spend"] for r in _table(response, "by_playbook")}
    for playbook, spent in expected["by_playbook"].items():
        cents(playbooks.pop(playbook, 0.0), spent)
    assert not any(playbooks.values())


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_roi_tile(page, scopes, name):
    params, scope = scopes[name]
    response = page(URL, {**params, "model": "linear"})

    revenue = sql.attributed("revenue", "linear", scope)["total"]
    # Credits are stored to 1/100 of a cent: a ratio of sums of them agrees to about 1e-8.
    assert _tiles(response)["roi"] == pytest.approx(
        sql.roi(revenue, sql.spend(scope)["total"]), rel=1e-6
    )


SEGMENT_COLUMNS = (
    "win_rate",
    "average_deal_size",
    "cycle_days",
    "velocity",
    "revenue_per_account",
)


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_target_vs_non_target_table_and_win_rate_lift(page, scopes, name):
    params, scope = scopes[name]
    response = page(URL, params)

    # The table compares tiers, so the tier filter does not narrow it (README "Metrics").
    scope = sql.Scope(scope.start, scope.end, owner=scope.owner)
    rows = {r["key"]: r for r in _table(response, "target_vs_non_target")}
    expected = {key: sql.segment(key, scope) for key in sql.SEGMENTS}
    assert expected["target"]["win_rate"]
    assert expected["non_target"]["win_rate"]
    for key, figures in expected.items():
        assert rows[key]["opportunities"] == figures["opportunities"]
        assert rows[key]["accounts"] == figures["accounts"]
        for column in SEGMENT_COLUMNS:
            ratio(rows[key][column], figures[column])
    for column in SEGMENT_COLUMNS:
        ratio(
            rows["lift"][column],
            sql.lift(expected["target"][column], expected["non_target"][column]),
        )
    win_rate_lift = sql.lift(expected["target"]["win_rate"], expected["non_target"]["win_rate"])
    ratio(_tiles(response)["lift"], win_rate_lift)


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_pipeline_created_and_marketing_sourced(page, scopes, name):
    params, scope = scopes[name]
    rows = {r["origin"]: r for r in _table(page(URL, params), "sourced_vs_influenced")}

    expected = sql.origin(scope)
    assert expected["sourced"] > 0
    cents(rows["All pipeline created"]["amount"], expected["pipeline"])
    cents(rows["Marketing-sourced"]["amount"], expected["sourced"])
    ratio(rows["Marketing-sourced"]["share"], expected["sourced"] / expected["pipeline"])


# Tier 1's deals happen to have a marketing response in every window, ad impressions or not.
@pytest.mark.parametrize("name", ALL_SCOPES)
def test_marketing_influenced(page, scopes, name):
    params, scope = scopes[name]
    rows = {r["origin"]: r for r in _table(page(URL, params), "sourced_vs_influenced")}

    expected = sql.origin(scope)
    cents(rows["Marketing-influenced"]["amount"], expected["influenced"])
    ratio(rows["Marketing-influenced"]["share"], expected["influenced"] / expected["pipeline"])


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_follow_up_by_month(page, scopes, name):
    params, scope = scopes[name]
    rows = _table(page(URL, params), "follow_up")

    expected = sql.follow_up(scope)
    assert sum(m["handed_off"] for m in expected.values()) == sum(r["handed_off"] for r in rows)
    for row, month in zip(rows, _months(scope), strict=True):
        figures = expected.get(month, {"handed_off": 0, "rate": None})
        assert row["handed_off"] == figures["handed_off"]
        ratio(row["rate"], figures["rate"])
        # Over the same decided leads as the rate, so never below it.
        decided = figures.get("decided", 0)
        ratio(row["followed_share"], figures["followed"] / decided if decided else None)
        if decided:
            assert row["followed_share"] >= row["rate"]


def _months(scope):
    month, out = scope.start, []
    while month <= scope.end:
        out.append(month)
        month = sql.add_months(month, 1)
    return out


@pytest.mark.parametrize("name", ALL_SCOPES)
def test_funnel_counts_accounts_that_reached_each_stage_in_the_period(page, scopes, name):
    params, scope = scopes[name]
    rows = {r["stage"]: r for r in _table(page(URL, params), "funnel")}

    expected = sql.funnel(scope)
    assert expected["mqa"]
    for index, stage in enumerate(sql.STAGES):
        assert rows[stage]["reached"] == len(expected[stage])
        before = len(expected[sql.STAGES[index - 1]]) if index else 0
        ratio(rows[stage]["drop_off"], 1 - len(expected[stage]) / before if before else None)
