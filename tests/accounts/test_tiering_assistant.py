"""The tiering assistant: best untiered fits with why they fit, promotion, the tier x stage matrix."""

import pytest
from django.urls import reverse

from accounts.models import Account
from accounts.tiering import tier_stage_table
from tests.accounts.account_pages import account

URL = reverse("accounts:tiering")


@pytest.fixture
def plan():
    breakdown = [{"criterion": "industry", "weight": 1, "match": 1.0, "value": "Software"}]
    return {
        "best": account(None, "Best", fit_score=95, industry="Software", fit_breakdown=breakdown),
        "good": account(None, "Good", fit_score=80, industry="Retail", country="France"),
        "weak": account(None, "Weak", fit_score=10, industry="Software"),
        "tiered": account(None, "Tiered", fit_score=99, tier=1, stage="engaged"),
    }


def test_it_lists_untiered_accounts_best_fit_first_with_why(client, maria, plan):
    client.force_login(maria)

    response = client.get(URL)

    candidates = response.context["candidates"]
    assert [a.name for a in candidates] == ["Best", "Good", "Weak"]
    assert candidates[0].fit_rows[0]["label"] == "Industry"
    assert 'data-testid="tiering-table"' in response.content.decode()


def test_it_keeps_to_the_top_fifty(client, maria):
    Account.objects.bulk_create(
        Account(name=f"C{i:03}", domain=f"c{i:03}.example", fit_score=i % 100) for i in range(60)
    )
    client.force_login(maria)

    candidates = client.get(URL).context["candidates"]

    assert len(candidates) == 50
    assert candidates[0].fit_score == 59


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"industry": "Software"}, ["Best", "Weak"]), ({"country": "France"}, ["Good"])],
)
def test_it_filters_by_industry_and_country(client, maria, plan, params, expected):
    client.force_login(maria)

    assert [a.name for a in client.get(URL, params).context["candidates"]] == expected


def test_a_bad_filter_is_ignored_with_a_message(client, maria, plan):
    client.force_login(maria)

    response = client.get(URL, {"industry": "Nope"})

    assert len(response.context["candidates"]) == 3
    assert response.context["problems"]


def test_promoting_goes_through_the_bulk_action_and_comes_back(client, maria, plan):
    client.force_login(maria)

    response = client.post(
        reverse("accounts:bulk"),
        {
            "action": "set_tier",
            "scope": "selected",
            "ids": [plan["best"].pk, plan["good"].pk],
            "tier": "2",
            "next": URL + "?industry=Software",
        },
    )

    assert response["Location"] == URL + "?industry=Software"
    assert set(Account.objects.filter(tier=2).values_list("name", flat=True)) == {"Best", "Good"}


def test_the_matrix_counts_tier_by_stage(client, maria, plan):
    client.force_login(maria)

    matrix = client.get(URL).context["matrix"]

    rows = {row["label"]: row for row in matrix.rows}
    assert rows["Tier 1"]["total"] == 1
    assert rows["Untiered"]["total"] == 3
    engaged = [value for value, _ in matrix.stages].index("engaged")
    assert rows["Tier 1"]["cells"][engaged]["count"] == 1
    assert matrix.total == 4


def test_the_matrix_table_has_totals_and_heat():
    table = tier_stage_table({(1, "engaged"): 10, (None, ""): 5, (2, "mqa"): 1})

    assert table.total == 16
    assert [row["total"] for row in table.rows] == [10, 1, 0, 5]
    cells = {(row["tier"], c["stage"]): c["heat"] for row in table.rows for c in row["cells"]}
    assert cells[(1, "engaged")] == 5
    assert cells[(2, "mqa")] == 1  # any count shows, however small
    assert cells[(3, "aware")] == 0
    assert [label for _, label in table.stages][-1] == "No stage"


@pytest.mark.parametrize("username", ["alice", "diana"])
def test_reps_and_directors_cannot_open_it(client, alice, diana, username):
    client.force_login({"alice": alice, "diana": diana}[username])

    assert client.get(URL).status_code == 403


def test_nothing_left_to_tier_says_so(client, maria):
    account(None, "Done", tier=1)
    client.force_login(maria)

    assert "Every account already has a tier" in client.get(URL).content.decode()
