"""Spend under tier and owner filters on real rows: budget lines shared out (DOMAIN "Money").

Every expected figure is worked out by hand from the rows below.
"""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from metrics.engine.runner import recompute_all
from metrics.models import BudgetLine
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory, StepFactory

URL = reverse("dashboards:director")


def _last_month() -> dt.date:
    return (timezone.now().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _at(day: int) -> dt.datetime:
    return dt.datetime.combine(_last_month().replace(day=day), dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def books(alice, bob):
    step = StepFactory(channel="email", owner_role="marketing")
    playbook = step.stage.playbook
    mine = AccountFactory(tier=1, owner=alice)
    theirs = AccountFactory(tier=2, owner=bob)
    nobody = AccountFactory(tier=None, owner=None)
    # The playbook's cost last month: 300 on alice's tier-1 account, 100 on bob's tier-2 one.
    for account, cost in ((mine, "300"), (theirs, "100")):
        ActivityFactory(
            account=account,
            channel="email",
            kind="email_click",
            step=step,
            cost=Decimal(cost),
            occurred_at=_at(5),
        )
    ActivityFactory(
        account=nobody, channel="display", kind="ad_click", cost=Decimal("50"), occurred_at=_at(6)
    )
    # 1000 on the playbook: 750 to alice's account, 250 to bob's (3:1, their playbook cost).
    BudgetLine.objects.create(playbook=playbook, date=_at(20).date(), amount=Decimal("1000"))
    # No event cost last month: 200 stays on no account.
    BudgetLine.objects.create(channel="event", date=_at(21).date(), amount=Decimal("200"))
    OpportunityFactory(
        account=mine,
        amount=Decimal("5000"),
        stage="closed_won",
        created_at=_at(8),
        closed_at=_at(25),
    )
    recompute_all(now=timezone.now())


def _get(client, **params):
    month = f"{_last_month():%Y-%m}"
    return client.get(URL, {"preset": "custom", "start": month, "end": month, **params})


def _tiles(response) -> dict:
    return {tile["key"]: tile for tile in response.context["tiles"]}


# Hand-computed: activities 300 + 100 + 50, budget lines 1000 + 200.
TOTAL = 1650.0
TIER_SLICES = {"1": 300 + 750, "2": 100 + 250, "0": 50}
UNALLOCATED = 200.0


def test_tier_and_owner_slices_with_the_unallocated_budget_add_up_to_the_total(
    client, diana, alice, bob, books
):
    client.force_login(diana)

    total = _tiles(_get(client))["spend"]["value"]
    tiers = {tier: _tiles(_get(client, tier=tier))["spend"]["value"] for tier in TIER_SLICES}
    owners = {
        user.username: _tiles(_get(client, owner=user.pk))["spend"]["value"]
        for user in (alice, bob)
    }

    assert total == pytest.approx(TOTAL)
    assert tiers == pytest.approx(TIER_SLICES)
    assert owners == pytest.approx({"alice": 1050, "bob": 350})
    assert sum(tiers.values()) + UNALLOCATED == pytest.approx(TOTAL)
    # The account without an owner (50) and the unallocated budget make up the rest.
    assert sum(owners.values()) + 50 + UNALLOCATED == pytest.approx(TOTAL)


def test_roi_under_a_tier_filter_counts_the_tiers_share_of_budget(client, diana, books):
    client.force_login(diana)

    tiles = _tiles(_get(client, tier="1"))

    # The won deal's single touch was alice's email: all 5000 to tier 1, against 1050 spend.
    assert tiles["revenue"]["value"] == pytest.approx(5000)
    assert tiles["roi"]["value"] == pytest.approx((5000 - 1050) / 1050)


def test_the_spend_tile_says_what_it_holds_under_a_filter(client, diana, books):
    client.force_login(diana)

    everything = _tiles(_get(client))["spend"]["sub"]
    tier_one = _tiles(_get(client, tier="1"))["spend"]["sub"]

    assert (
        everything
        == "activity costs and budget lines, $200 of it on no account (no cost that month)"
    )
    assert "share of budget lines" in tier_one
    assert "$200 of budget on no account" in tier_one


class _Cells(HTMLParser):
    """The text of each row's cells in the table with ``data-testid=table-<name>``."""

    def __init__(self, name: str):
        super().__init__()
        self.name, self.inside, self.rows, self.cell = name, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("data-testid") == f"table-{self.name}":
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag == "td" and self.cell is not None:
            self.rows[-1].append(re.sub(r"\s+", " ", self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


@pytest.mark.parametrize("name", ["by_channel", "by_playbook", "target_vs_non_target"])
def test_exported_cells_equal_the_pages_text(client, diana, books, name):
    client.force_login(diana)

    page = _get(client, tier="1").content.decode()
    export = _get(client, tier="1", export=name)

    parser = _Cells(name)
    parser.feed(page)
    shown = [row for row in parser.rows if row]
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    exported = list(csv.reader(io.StringIO(body)))[1:]
    assert shown
    assert exported == shown
    assert any(cell.endswith("%") for row in exported for cell in row)


def test_the_marketers_playbook_spend_under_a_tier_holds_its_share_of_playbook_budget(
    client, maria, books
):
    client.force_login(maria)
    month = f"{_last_month():%Y-%m}"

    response = client.get(
        reverse("dashboards:marketer"),
        {"preset": "custom", "start": month, "end": month, "tier": 1},
    )

    tiles = _tiles(response)
    # Alice's playbook email 300 and her 750 of the playbook's line; the event line is on no
    # playbook, so nothing of the playbook's budget is left out.
    assert tiles["spend"]["value"] == pytest.approx(1050)
    assert (
        tiles["spend"]["sub"]
        == "playbook touches of these accounts and their share of budget lines"
    )
    assert tiles["roi"]["value"] == pytest.approx((5000 - 1050) / 1050)


@pytest.mark.parametrize(("tier", "spend"), [(None, TOTAL), ("1", 1050.0), ("2", 350.0)])
def test_the_roi_api_agrees_and_names_the_budget_on_no_account(diana, books, tier, spend):
    client = APIClient()
    client.force_authenticate(diana)
    month = f"{_last_month():%Y-%m}"
    params = {"preset": "custom", "start": month, "end": month, "model": "linear"}

    body = client.get("/api/metrics/roi/", {**params, **({"tier": tier} if tier else {})}).json()

    assert sum(row["spend"] for row in body["rows"]) == pytest.approx(spend)
    assert body["spend_on_no_account"] == pytest.approx(UNALLOCATED)
    if tier == "1":
        email = next(row for row in body["rows"] if row["key"] == "email")
        # The playbook line names no channel: email holds alice's 300 touch alone, her 750
        # share of the line is in the "unallocated" (no channel) row.
        assert email["spend"] == pytest.approx(300)
        assert email["roi"] == pytest.approx((5000 - 300) / 300)
        assert next(r for r in body["rows"] if r["key"] == "unallocated")["spend"] == 750
