"""The account list: each filter, sorting, pagination, bad parameters, and what reps see."""

import pytest
from django.urls import reverse

from accounts.models import JourneyStage
from tests.accounts.account_pages import account, engagement

URL = reverse("accounts:list")


def names(response) -> list[str]:
    return [a.name for a in response.context["rows"]]


@pytest.fixture
def plan(alice, bob):
    """Four accounts that differ in every filtered field."""
    return {
        "acme": account(
            alice,
            "Acme",
            tier=1,
            stage=JourneyStage.ENGAGED,
            industry="Software",
            country="Germany",
            fit_score=90,
            engagement_score=40,
            spike=True,
        ),
        "bolt": account(
            bob,
            "Bolt",
            tier=2,
            stage=JourneyStage.MQA,
            industry="Retail",
            country="France",
            fit_score=60,
            engagement_score=80,
        ),
        "cobalt": account(
            None,
            "Cobalt",
            tier=None,
            stage="",
            industry="Software",
            country="France",
            fit_score=20,
            engagement_score=5,
        ),
        "delta": account(
            alice,
            "Delta",
            tier=3,
            stage=JourneyStage.AWARE,
            industry="Healthcare",
            country="Germany",
            fit_score=75,
            engagement_score=0,
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "cob"}, ["Cobalt"]),
        ({"q": "BOLT.EXAMPLE"}, ["Bolt"]),
        ({"tier": "1"}, ["Acme"]),
        ({"tier": "untiered"}, ["Cobalt"]),
        ({"tier": "targets"}, ["Acme", "Bolt", "Delta"]),
        ({"stage": "mqa"}, ["Bolt"]),
        ({"stage": "none"}, ["Cobalt"]),
        ({"owner": "unassigned"}, ["Cobalt"]),
        ({"industry": "Software"}, ["Acme", "Cobalt"]),
        ({"country": "France"}, ["Bolt", "Cobalt"]),
        ({"fit_min": "60"}, ["Acme", "Bolt", "Delta"]),
        ({"fit_max": "60"}, ["Bolt", "Cobalt"]),
        ({"fit_min": "50", "fit_max": "80"}, ["Bolt", "Delta"]),
        ({"engagement_min": "40"}, ["Acme", "Bolt"]),
        ({"engagement_max": "5"}, ["Cobalt", "Delta"]),
        ({"spike": "1"}, ["Acme"]),
        ({"industry": "Software", "country": "Germany"}, ["Acme"]),
    ],
)
def test_each_filter_narrows_the_list(client, maria, plan, params, expected):
    client.force_login(maria)

    response = client.get(URL, params)

    assert names(response) == expected
    assert response.context["problems"] == []


def test_the_owner_filter_takes_a_rep(client, maria, alice, plan):
    client.force_login(maria)

    response = client.get(URL, {"owner": alice.pk})

    assert names(response) == ["Acme", "Delta"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Acme", "Bolt", "Cobalt", "Delta"]),
        ("-name", ["Delta", "Cobalt", "Bolt", "Acme"]),
        ("-fit", ["Acme", "Delta", "Bolt", "Cobalt"]),
        ("fit", ["Cobalt", "Bolt", "Delta", "Acme"]),
        ("-engagement", ["Bolt", "Acme", "Cobalt", "Delta"]),
        # priority = fit x engagement: Bolt 48, Acme 36, Cobalt 1, Delta 0
        ("-priority", ["Bolt", "Acme", "Cobalt", "Delta"]),
        ("tier", ["Acme", "Bolt", "Delta", "Cobalt"]),
        ("-tier", ["Delta", "Bolt", "Acme", "Cobalt"]),
    ],
)
def test_it_sorts_by_whitelisted_keys(client, maria, plan, sort, expected):
    client.force_login(maria)

    assert names(client.get(URL, {"sort": sort})) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"fit_min": "abc"},
        {"fit_max": "250"},
        {"tier": "9"},
        {"stage": "dreaming"},
        {"owner": "99999"},
        {"industry": "Underwater basket weaving"},
        {"engagement_min": "-3"},
        {"engagement_max": "nan"},
        {"sort": "password"},
        {"sort": "owner__password"},
        {"page": "999"},
        {"page": "abc"},
        {"page": "-1"},
    ],
)
def test_bad_parameters_are_ignored_with_a_message(client, maria, plan, params):
    client.force_login(maria)

    response = client.get(URL, params)

    assert response.status_code == 200
    assert names(response) == ["Acme", "Bolt", "Cobalt", "Delta"]
    assert response.context["problems"]
    assert "could not be used" in response.content.decode()


def test_a_bad_parameter_leaves_the_good_ones_working(client, maria, plan):
    client.force_login(maria)

    response = client.get(URL, {"industry": "Software", "fit_min": "abc", "sort": "-fit"})

    assert names(response) == ["Acme", "Cobalt"]
    assert response.context["problems"] == ["“Fit from” was ignored: Enter a number."]
    # Links the page builds carry only what was applied.
    assert response.context["query_string"] == "industry=Software&sort=-fit"


def test_an_inverted_range_is_ignored_as_a_whole(client, maria, plan):
    client.force_login(maria)

    response = client.get(URL, {"fit_min": "80", "fit_max": "10"})

    assert len(names(response)) == 4
    assert "both were ignored" in response.context["problems"][0]


def test_the_filter_stays_in_the_links(client, maria, plan):
    client.force_login(maria)

    html = client.get(URL, {"country": "France", "tier": "2"}).content.decode()

    assert 'href="/accounts/export.csv?tier=2&amp;country=France"' in html
    assert 'name="query" value="tier=2&amp;country=France"' in html
    assert 'value="France" selected' in html


def test_pagination_keeps_the_filter(client, maria):
    for i in range(55):
        account(None, f"Company {i:02}", industry="Software")
    account(None, "Other", industry="Retail")
    client.force_login(maria)

    first = client.get(URL, {"industry": "Software"})
    second = client.get(URL, {"industry": "Software", "page": "2"})

    assert len(first.context["rows"]) == 50
    assert "?industry=Software&amp;page=2" in first.content.decode()
    assert len(second.context["rows"]) == 5


def test_a_filter_without_matches_says_what_to_do(client, maria, plan):
    client.force_login(maria)

    html = client.get(URL, {"q": "zzz"}).content.decode()

    assert "No accounts match these filters" in html
    assert "Clear filters" in html


def test_reps_see_only_their_accounts_ranked_by_priority(client, alice, plan):
    engagement(plan["delta"], score=50)  # Delta: 75 x 50 / 100 = 37.5, above Acme's 36
    client.force_login(alice)

    response = client.get(URL)

    assert response.context["title"] == "My accounts"
    assert names(response) == ["Delta", "Acme"]
    assert 'value="-priority" selected' in response.content.decode()
    assert "owner" not in response.context["form"].fields
    assert 'name="ids"' not in response.content.decode()  # no bulk actions for reps


def test_reps_cannot_widen_their_list_with_an_owner_filter(client, alice, bob, plan):
    client.force_login(alice)

    response = client.get(URL, {"owner": bob.pk})

    assert names(response) == ["Acme", "Delta"]


def test_the_rep_list_explains_why_each_account_is_hot(client, alice, plan):
    from tests.accounts.account_pages import activity
    from tests.factories import ContactFactory

    acme = plan["acme"]
    vp = ContactFactory(account=acme, seniority="vp")
    webinar = activity(acme, days_ago=3, kind="webinar_attended", channel="webinar", contact=vp)
    for _ in range(3):
        activity(acme, days_ago=2, kind="email_click", channel="email")
    engagement(
        acme,
        score=40,
        spike=True,
        top=[
            {
                "activity_id": webinar.pk,
                "kind": "webinar_attended",
                "channel": "webinar",
                "points": 9,
            },
            {"activity_id": 0, "kind": "email_click", "channel": "email", "points": 3},
        ],
    )
    client.force_login(alice)

    response = client.get(URL)

    row = next(a for a in response.context["rows"] if a.name == "Acme")
    assert row.why_hot == "Webinar attended by a VP, 3 email clicks this week"
    assert "Spike" in response.content.decode()


@pytest.mark.parametrize("username", ["maria", "diana", "root"])
def test_planners_see_the_bulk_actions_their_role_allows(client, users, plan, username):
    client.force_login(users[username])

    html = client.get(URL).content.decode()

    assert 'value="assign"' in html
    assert ('value="set_tier"' in html) is (username != "diana")
    assert ('value="enrol"' in html) is (username != "diana")


@pytest.fixture
def users(alice, bob, maria, diana, root):
    return {"alice": alice, "bob": bob, "maria": maria, "diana": diana, "root": root}
