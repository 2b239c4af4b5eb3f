"""Bulk actions on the account list: set tier, assign, enrol; who may do which, and on what."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Account, OwnershipChange
from playbooks.models import Enrolment, EnrolmentStatus
from tests.accounts.account_pages import account
from tests.factories import PlaybookFactory, StageFactory

URL = reverse("accounts:bulk")


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def plan(alice, bob):
    return [
        account(alice, "Acme", industry="Software"),
        account(bob, "Bolt", industry="Software"),
        account(None, "Cobalt", industry="Retail"),
    ]


def test_marketers_set_the_tier_of_the_selected_accounts(client, maria, plan):
    acme, bolt, cobalt = plan
    client.force_login(maria)

    response = client.post(
        URL, {"action": "set_tier", "scope": "selected", "ids": [acme.pk, bolt.pk], "tier": "2"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:list")
    assert texts(response) == ["2 accounts updated: now in Tier 2."]
    tiers = dict(Account.objects.values_list("name", "tier"))
    assert tiers == {"Acme": 2, "Bolt": 2, "Cobalt": None}


def test_setting_no_tier_removes_the_targets(client, maria, plan):
    Account.objects.update(tier=1)
    client.force_login(maria)

    client.post(
        URL, {"action": "set_tier", "scope": "selected", "ids": [plan[0].pk], "tier": "none"}
    )

    assert Account.objects.get(pk=plan[0].pk).tier is None


def test_all_matching_applies_the_lists_filter_not_just_the_page(client, maria, plan):
    client.force_login(maria)

    response = client.post(
        URL,
        {"action": "set_tier", "scope": "matching", "query": "industry=Software", "tier": "3"},
    )

    assert response["Location"] == reverse("accounts:list") + "?industry=Software"
    assert texts(response) == ["2 accounts updated: now in Tier 3."]
    assert set(Account.objects.filter(tier=3).values_list("name", flat=True)) == {"Acme", "Bolt"}


@pytest.mark.parametrize("username", ["maria", "diana", "root"])
def test_marketers_directors_and_admins_assign_with_history(
    client, alice, bob, maria, diana, root, plan, username
):
    by = {"maria": maria, "diana": diana, "root": root}[username]
    acme, bolt, cobalt = plan
    client.force_login(by)

    response = client.post(
        URL,
        {
            "action": "assign",
            "scope": "selected",
            "ids": [acme.pk, bolt.pk, cobalt.pk],
            "owner": bob.pk,
        },
    )

    assert texts(response) == ["2 accounts updated: now owned by Bob. 1 account already was."]
    assert set(Account.objects.values_list("owner", flat=True)) == {bob.pk}
    changes = OwnershipChange.objects.order_by("account__name")
    assert [(c.account.name, c.previous_owner, c.new_owner, c.changed_by) for c in changes] == [
        ("Acme", alice, bob, by),
        ("Cobalt", None, bob, by),
    ]


def test_assigning_all_matching_accounts_locks_and_records_each(client, alice, diana, plan):
    client.force_login(diana)

    response = client.post(
        URL,
        {
            "action": "assign",
            "scope": "matching",
            "query": "industry=Software&sort=-priority",
            "owner": alice.pk,
        },
    )

    assert texts(response) == ["1 account updated: now owned by Alice. 1 account already was."]
    assert Account.objects.get(name="Bolt").owner == alice
    assert OwnershipChange.objects.get().account.name == "Bolt"


def test_a_director_can_assign_but_not_set_tiers_or_enrol(client, diana, plan):
    playbook = PlaybookFactory(status="active")
    client.force_login(diana)
    ids = [plan[0].pk]

    tier = client.post(URL, {"action": "set_tier", "scope": "selected", "ids": ids, "tier": "1"})
    enrol = client.post(
        URL, {"action": "enrol", "scope": "selected", "ids": ids, "playbook": playbook.pk}
    )

    assert tier.status_code == 403
    assert enrol.status_code == 403
    assert not Enrolment.objects.exists()
    assert Account.objects.get(pk=plan[0].pk).tier is None


@pytest.mark.parametrize("action", ["set_tier", "assign", "enrol"])
def test_a_rep_cannot_use_bulk_actions(client, alice, bob, plan, action):
    client.force_login(alice)

    response = client.post(
        URL,
        {"action": action, "scope": "selected", "ids": [plan[0].pk], "tier": "1", "owner": bob.pk},
    )

    assert response.status_code == 403
    assert Account.objects.get(pk=plan[0].pk).owner == alice
    assert not OwnershipChange.objects.exists()


def test_only_sales_reps_can_own_accounts(client, maria, diana, plan):
    client.force_login(maria)

    response = client.post(
        URL, {"action": "assign", "scope": "selected", "ids": [plan[2].pk], "owner": diana.pk}
    )

    assert texts(response) == ["Diana is a director: only sales reps can own accounts."]
    assert Account.objects.get(pk=plan[2].pk).owner is None
    assert not OwnershipChange.objects.exists()


def test_unassigning_is_an_ownership_change_too(client, maria, alice, plan):
    client.force_login(maria)

    client.post(
        URL, {"action": "assign", "scope": "selected", "ids": [plan[0].pk], "owner": "none"}
    )

    change = OwnershipChange.objects.get()
    assert (change.previous_owner, change.new_owner) == (alice, None)
    assert Account.objects.get(pk=plan[0].pk).owner is None


def test_marketers_enrol_accounts_in_an_active_playbook(client, maria, plan):
    playbook = PlaybookFactory(status="active", holdout_share=0)
    StageFactory(playbook=playbook)
    Enrolment.objects.create(account=plan[0], playbook=playbook, enrolled_at=plan[0].created_at)
    client.force_login(maria)

    response = client.post(
        URL,
        {
            "action": "enrol",
            "scope": "selected",
            "ids": [a.pk for a in plan],
            "playbook": playbook.pk,
        },
    )

    assert texts(response) == [
        f"2 accounts updated: enrolled in “{playbook.name}” "
        "(0 held out as the control group, 1 account already enrolled)."
    ]
    assert Enrolment.objects.filter(playbook=playbook, status=EnrolmentStatus.ACTIVE).count() == 3


@pytest.mark.parametrize("status", ["paused", "archived"])
def test_only_active_or_draft_playbooks_take_enrolments(client, maria, plan, status):
    playbook = PlaybookFactory(status=status)
    client.force_login(maria)

    response = client.post(
        URL, {"action": "enrol", "scope": "selected", "ids": [plan[0].pk], "playbook": playbook.pk}
    )

    assert texts(response) == ["Choose an active or draft playbook."]
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "set_tier", "scope": "selected", "tier": "1"}, "Select at least one account"),
        ({"action": "set_tier", "scope": "selected", "ids": ["1"]}, "Choose the tier to set."),
        ({"action": "set_tier", "scope": "selected", "ids": ["x"], "tier": "1"}, "invalid account"),
        ({"action": "assign", "scope": "selected", "ids": ["1"]}, "Choose who should own"),
        ({"action": "assign", "scope": "selected", "ids": ["1"], "owner": "abc"}, "Choose a sales"),
        ({"action": "explode", "scope": "selected", "ids": ["1"]}, "Select a valid choice"),
    ],
)
def test_incomplete_bulk_requests_say_what_is_missing(client, maria, plan, data, message):
    client.force_login(maria)

    response = client.post(URL, data)

    assert response.status_code == 302
    assert any(message in text for text in texts(response))


def test_ids_of_accounts_that_do_not_exist_are_ignored(client, maria, plan):
    client.force_login(maria)

    response = client.post(
        URL, {"action": "set_tier", "scope": "selected", "ids": [plan[0].pk, 999999], "tier": "1"}
    )

    assert texts(response) == ["1 account updated: now in Tier 1."]


def test_bulk_actions_need_a_post_with_csrf(maria, plan):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(maria)

    assert client.get(URL).status_code == 405
    response = client.post(
        URL, {"action": "set_tier", "scope": "selected", "ids": [plan[0].pk], "tier": "1"}
    )
    assert response.status_code == 403
    assert Account.objects.get(pk=plan[0].pk).tier is None


def test_it_goes_back_to_a_safe_next_page_only(client, maria, plan):
    client.force_login(maria)
    data = {"action": "set_tier", "scope": "selected", "ids": [plan[0].pk], "tier": "1"}

    inside = client.post(URL, {**data, "next": "/accounts/tiering/?industry=Retail"})
    outside = client.post(URL, {**data, "next": "https://evil.example/"})

    assert inside["Location"] == "/accounts/tiering/?industry=Retail"
    assert outside["Location"] == reverse("accounts:list")
