"""The spend list: the costs behind a spend figure (DOMAIN "Dashboards", "Money").

Every expected figure is worked out by hand from the rows below.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from metrics.engine.runner import recompute_all
from metrics.models import BudgetLine
from tests.factories import AccountFactory, ActivityFactory, StepFactory

URL = reverse("dashboards:spend")


def _last_month() -> dt.date:
    return (timezone.now().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _at(day: int) -> dt.datetime:
    return dt.datetime.combine(_last_month().replace(day=day), dt.time(12), tzinfo=dt.UTC)


def _period() -> dict:
    month = f"{_last_month():%Y-%m}"
    return {"preset": "custom", "start": month, "end": month}


@pytest.fixture
def books(alice, bob):
    step = StepFactory(channel="email", owner_role="marketing")
    playbook = step.stage.playbook
    mine = AccountFactory(name="Alice Co", tier=1, owner=alice)
    theirs = AccountFactory(name="Bob Co", tier=2, owner=bob)
    nobody = AccountFactory(name="Nobody Co", tier=None, owner=None)
    # The playbook's cost last month: 300 on alice's account, 100 on bob's (3:1).
    for account, cost in ((mine, "300"), (theirs, "100")):
        ActivityFactory(
            account=account, channel="email", step=step, cost=Decimal(cost), occurred_at=_at(5)
        )
    ActivityFactory(
        account=nobody, channel="display", kind="ad_click", cost=Decimal("50"), occurred_at=_at(6)
    )
    # Two lines on the playbook, each shared 3:1: 750 + 250 and 450 + 150.
    BudgetLine.objects.create(
        playbook=playbook, date=_at(20).date(), amount=Decimal("1000"), description="Agency fee"
    )
    BudgetLine.objects.create(
        playbook=playbook, date=_at(22).date(), amount=Decimal("600"), description="=HYPERLINK(1)"
    )
    # No event cost last month: 200 stays on no account.
    BudgetLine.objects.create(
        channel="event", date=_at(21).date(), amount=Decimal("200"), description="Booth"
    )
    recompute_all(now=timezone.now())
    return playbook


def _totals(client, **params):
    response = client.get(URL, {**_period(), **params})
    assert response.status_code == 200
    return response


def _listed(response) -> tuple[int, float]:
    totals = response.context["totals"]
    return totals.count, totals.amount


@pytest.mark.parametrize(
    ("params", "count", "total"),
    [
        ({}, 3 + 4 + 1, 2250.0),
        ({"tier": "1"}, 3, 300 + 750 + 450),
        ({"tier": "0"}, 1, 50.0),
        ({"playbook": "any"}, 2 + 4, 400 + 1600),
        ({"playbook": "none"}, 2, 50 + 200),
        ({"channel": "event"}, 1, 200.0),
        ({"channel": "unallocated"}, 4, 1600.0),
    ],
)
def test_the_list_holds_each_cost_of_the_figure(client, diana, books, params, count, total):
    client.force_login(diana)

    assert _listed(_totals(client, **params)) == (count, pytest.approx(total))


def test_each_budget_line_is_shared_to_the_accounts_by_their_cost(client, diana, books):
    client.force_login(diana)

    rows = _totals(client, playbook="any").context["rows"]
    shares = {(r["detail"], r["account"]): r["amount"] for r in rows if r["source"] == "share"}

    assert shares == pytest.approx(
        {
            ("Agency fee", "Alice Co"): 750.0,
            ("Agency fee", "Bob Co"): 250.0,
            ("=HYPERLINK(1)", "Alice Co"): 450.0,
            ("=HYPERLINK(1)", "Bob Co"): 150.0,
        }
    )


def test_every_spend_link_on_the_dashboards_lists_its_figure(client, diana, maria, books):
    client.force_login(diana)
    director = client.get(reverse("dashboards:director"), _period()).context
    tile = next(t for t in director["tiles"] if t["key"] == "spend")
    assert tile["value"] == pytest.approx(2250)
    assert _listed(client.get(tile["url"]))[1] == pytest.approx(tile["value"])
    for table in ("by_channel", "by_playbook"):
        for row in director["t"][table].rows:
            if row["spend"]:
                assert _listed(client.get(row["spend_url"]))[1] == pytest.approx(row["spend"])

    client.force_login(maria)
    marketer = client.get(reverse("dashboards:marketer"), _period()).context
    tile = next(t for t in marketer["tiles"] if t["key"] == "spend")
    assert _listed(client.get(tile["url"])) == (6, pytest.approx(2000))
    for row in marketer["t"]["by_playbook"].rows:
        assert _listed(client.get(row["spend_url"]))[1] == pytest.approx(row["spend"])


def test_a_rep_sees_only_their_accounts_costs_and_shares(client, alice, books):
    client.force_login(alice)

    response = _totals(client)
    body = response.content.decode()

    assert _listed(response) == (3, pytest.approx(300 + 750 + 450))
    assert {r["account"] for r in response.context["rows"]} == {"Alice Co"}
    assert "Bob Co" not in body
    assert "Nobody Co" not in body
    assert "on no account" not in body
    # Their share, never the line itself (its notes or whole amount).
    assert "Agency fee" not in body
    assert "$1,000.00" not in body


def test_a_rep_asking_for_another_reps_costs_gets_nothing_more(client, alice, bob, books):
    client.force_login(alice)

    assert _listed(_totals(client, owner=bob.pk)) == (3, pytest.approx(1500))
    assert _listed(_totals(client, tier="2")) == (0, 0.0)


def test_the_csv_holds_the_listed_rows_with_formulas_escaped(client, diana, books):
    client.force_login(diana)

    listed = _totals(client)
    response = client.get(URL, {**_period(), "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert response["Content-Type"].startswith("text/csv")
    assert len(rows) == listed.context["totals"].count
    assert sum(float(r["amount"]) for r in rows) == pytest.approx(2250)
    assert {r["detail"] for r in rows if r["cost"] == "Share of budget line"} == {
        "Agency fee",
        "'=HYPERLINK(1)",
    }
    assert [r["account"] for r in rows if r["cost"] == "Budget line on no account"] == [
        "on no account"
    ]


def test_pages_of_fifty_with_totals_over_all_pages(client, diana):
    account = AccountFactory(name="Busy Co", tier=1)
    for day in range(55):
        ActivityFactory(
            account=account,
            channel="display",
            kind="ad_click",
            cost=Decimal("2.50"),
            occurred_at=_at(1 + day % 28),
        )
    client.force_login(diana)

    first, second = _totals(client), _totals(client, page=2)

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 5
    for response in (first, second):
        assert _listed(response) == (55, pytest.approx(137.5))
        assert "55 costs" in " ".join(response.content.decode().split()).replace(
            "<strong>", ""
        ).replace("</strong>", "")


def test_an_empty_period_says_so(client, diana):
    client.force_login(diana)

    response = _totals(client)

    assert _listed(response) == (0, 0.0)
    assert b"No spend in this period" in response.content


def test_a_bad_channel_is_ignored_and_named(client, diana, books):
    client.force_login(diana)

    response = _totals(client, channel="<b>nope")

    assert _listed(response) == (8, pytest.approx(2250))
    assert "was ignored" in response.content.decode()


def test_the_query_count_stays_flat(client, diana, books, django_assert_max_num_queries):
    client.force_login(diana)
    account = AccountFactory(tier=3)
    for day in range(1, 21):
        ActivityFactory(account=account, cost=Decimal("1"), occurred_at=_at(day))

    with django_assert_max_num_queries(10):
        response = _totals(client)

    assert response.context["totals"].count == 8 + 20


def test_a_line_with_no_cost_on_its_channel_is_shared_by_activity_count(client, diana, alice, bob):
    """A content budget, when downloads cost nothing: 1 download by alice's account, 3 by bob's."""
    mine = AccountFactory(name="Alice Co", tier=1, owner=alice)
    theirs = AccountFactory(name="Bob Co", tier=2, owner=bob)
    for account, downloads in ((mine, 1), (theirs, 3)):
        for day in range(downloads):
            ActivityFactory(
                account=account,
                channel="content",
                kind="content_download",
                direction="inbound",
                cost=Decimal("0"),
                occurred_at=_at(3 + day),
            )
    BudgetLine.objects.create(
        channel="content", date=_at(15).date(), amount=Decimal("800"), description="Guides"
    )
    recompute_all(now=timezone.now())
    client.force_login(diana)

    shares = {r["account"]: r["amount"] for r in _totals(client).context["rows"]}
    assert shares == pytest.approx({"Alice Co": 200.0, "Bob Co": 600.0})
    director = client.get(reverse("dashboards:director"), {**_period(), "tier": "1"}).context
    tile = next(t for t in director["tiles"] if t["key"] == "spend")
    # Tier 1 holds alice's 200: the line is in the filtered figure, and the list agrees.
    assert tile["value"] == pytest.approx(200.0)
    assert _listed(client.get(tile["url"])) == (1, pytest.approx(200.0))
