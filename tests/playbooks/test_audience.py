import pytest

from playbooks.audience import (
    audience_accounts,
    describe_audience,
    parse_saved_filter,
    saved_filter,
)
from tests.factories import AccountFactory, PlaybookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(alice, bob):
    rows = [
        ("a", 1, "Software", alice, 80),
        ("b", 1, "Healthcare", alice, 40),
        ("c", 2, "Software", bob, 90),
        ("d", 3, "Software", bob, 75),
        ("e", None, "Software", None, 99),
    ]
    return {
        name: AccountFactory(name=name, tier=tier, industry=industry, owner=owner, fit_score=fit)
        for name, tier, industry, owner, fit in rows
    }


def matching(playbook, user) -> list[str]:
    return list(audience_accounts(playbook, user=user).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ({"audience_tiers": [1]}, ["a", "b"]),
        ({"audience_tiers": [1, 2]}, ["a", "b", "c"]),
        ({"audience_industries": ["Software"]}, ["a", "c", "d", "e"]),
        ({"audience_tiers": [1, 3], "audience_industries": ["Software"]}, ["a", "d"]),
        ({"audience_filter": {"tier": "1", "industry": "Software"}}, ["a"]),
        ({"audience_filter": {"fit_min": "75"}}, ["a", "c", "d", "e"]),
        ({"audience_tiers": [2, 3], "audience_filter": {"fit_min": "80"}}, ["c"]),
        ({"audience_filter": {"tier": "untiered"}}, ["e"]),
        ({}, []),
    ],
)
def test_every_part_of_the_audience_must_match(maria, accounts, audience, expected):
    playbook = PlaybookFactory(**{"audience_tiers": [], **audience})

    assert matching(playbook, maria) == expected


def test_a_rep_counts_only_their_own_accounts(alice, accounts):
    playbook = PlaybookFactory(audience_tiers=[], audience_industries=["Software"])

    assert matching(playbook, alice) == ["a"]


def test_a_saved_filter_naming_an_industry_without_accounts_matches_none(maria, accounts):
    playbook = PlaybookFactory(audience_tiers=[], audience_filter={"industry": "Mining"})

    assert matching(playbook, maria) == []
    assert saved_filter({"industry": "Mining"}).values == {"industry": "Mining"}


@pytest.mark.parametrize(
    ("text", "params", "problem"),
    [
        ("", {}, None),
        ("tier=1&industry=Software", {"tier": "1", "industry": "Software"}, None),
        ("https://abm.example/accounts/?tier=2&sort=-fit&page=3", {"tier": "2"}, None),
        ("?fit_min=70&spike=on", {"fit_min": "70", "spike": "1"}, None),
        ("tier=9", {}, "“Tier” was ignored"),
        ("colour=blue&tier=1", {"tier": "1"}, "“colour” is not an account-list filter"),
        ("fit_min=90&fit_max=10", {}, "both were ignored"),
    ],
)
def test_a_pasted_account_list_address_becomes_its_filters(text, params, problem):
    parsed, problems = parse_saved_filter(text)

    assert parsed == params
    if problem:
        assert any(problem in p for p in problems), problems
    else:
        assert problems == []


def test_the_audience_reads_as_words():
    playbook = PlaybookFactory(
        audience_tiers=[1, 2], audience_industries=["Software"], audience_filter={"fit_min": "70"}
    )

    assert describe_audience(playbook) == [
        "Tier 1 (1:1), Tier 2 (1:few)",
        "Software",
        "Account filter: fit_min = 70",
    ]
