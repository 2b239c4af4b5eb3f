"""account_assign: one service for the account page and the bulk action, with its history."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.urls import reverse

from accounts.assignment import AssignmentError, account_assign
from accounts.models import Account, OwnershipChange
from tests.accounts.account_pages import account


def test_it_moves_accounts_and_records_who_moved_them(alice, bob, diana):
    acme = account(alice, "Acme")

    result = account_assign(accounts=Account.objects.filter(pk=acme.pk), owner=bob, by=diana)

    acme.refresh_from_db()
    change = OwnershipChange.objects.get()
    assert (result.changed, result.unchanged) == (1, 0)
    assert acme.owner == bob
    assert (change.account, change.previous_owner, change.new_owner, change.changed_by) == (
        acme,
        alice,
        bob,
        diana,
    )
    assert change.changed_at is not None


def test_it_takes_a_list_of_accounts_as_well(alice, maria):
    acme, bolt = account(None, "Acme"), account(None, "Bolt")

    result = account_assign(accounts=[acme, bolt], owner=alice, by=maria)

    assert result.changed == 2
    assert OwnershipChange.objects.count() == 2


def test_accounts_the_owner_already_has_get_no_history(alice, maria):
    acme = account(alice, "Acme")

    result = account_assign(accounts=[acme], owner=alice, by=maria)

    assert (result.changed, result.unchanged) == (0, 1)
    assert not OwnershipChange.objects.exists()


@pytest.mark.parametrize("role_user", ["maria", "diana", "root"])
def test_only_sales_reps_can_own_accounts(request, maria, role_user):
    acme = account(None, "Acme")
    owner = request.getfixturevalue(role_user)

    with pytest.raises(AssignmentError, match="only sales reps can own accounts"):
        account_assign(accounts=[acme], owner=owner, by=maria)

    assert Account.objects.get(pk=acme.pk).owner is None


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("diana", "Diana is a director:"),
        ("root", "Root is an admin:"),
        ("maria", "Maria is a marketer:"),
    ],
)
def test_the_refusal_names_the_role(request, maria, username, message):
    owner = request.getfixturevalue(username)

    with pytest.raises(AssignmentError, match=message):
        account_assign(accounts=[account(None, "Acme")], owner=owner, by=maria)


def test_a_deactivated_rep_cannot_take_accounts(alice, maria):
    alice.is_active = False
    alice.save()

    with pytest.raises(AssignmentError, match="deactivated"):
        account_assign(accounts=[account(None, "Acme")], owner=alice, by=maria)


def test_a_rep_may_not_assign(alice, bob):
    with pytest.raises(PermissionDenied):
        account_assign(accounts=[account(alice, "Acme")], owner=bob, by=alice)

    assert not OwnershipChange.objects.exists()


def test_the_move_and_its_history_share_one_transaction(alice, bob, maria, monkeypatch):
    acme = account(alice, "Acme")

    def broken(*args, **kwargs):
        raise IntegrityError("history write failed")

    monkeypatch.setattr(OwnershipChange.objects, "bulk_create", broken)
    with pytest.raises(IntegrityError):
        account_assign(accounts=[acme], owner=bob, by=maria)

    assert Account.objects.get(pk=acme.pk).owner == alice


# --- On the account page ---------------------------------------------------------------------


def test_a_director_assigns_from_the_account_page_and_sees_the_history(client, alice, bob, diana):
    acme = account(alice, "Acme")
    client.force_login(diana)

    response = client.post(reverse("accounts:assign", args=[acme.pk]), {"owner": bob.pk})
    page = client.get(reverse("accounts:detail", args=[acme.pk]))

    assert response.status_code == 302
    assert Account.objects.get(pk=acme.pk).owner == bob
    html = page.content.decode()
    assert 'data-testid="ownership-history"' in html
    assert "from Alice" in html
    assert "by Diana" in html


def test_the_account_page_explains_why_an_owner_was_refused(client, maria):
    acme = account(None, "Acme")
    client.force_login(maria)

    response = client.post(reverse("accounts:assign", args=[acme.pk]), {"owner": maria.pk})

    assert response.status_code == 200
    assert "only sales reps can own accounts" in response.content.decode()
    assert response.context["assign_form"].errors["owner"]


def test_a_rep_cannot_reassign_from_the_account_page(client, alice, bob):
    acme = account(alice, "Acme")
    client.force_login(alice)

    response = client.post(reverse("accounts:assign", args=[acme.pk]), {"owner": bob.pk})
    page = client.get(reverse("accounts:detail", args=[acme.pk]))

    assert response.status_code == 403
    assert page.context["assign_form"] is None
    assert Account.objects.get(pk=acme.pk).owner == alice
