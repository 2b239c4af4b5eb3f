import pytest

from playbooks.templating import merge_values, render, template_errors
from tests.factories import AccountFactory, ContactFactory


@pytest.mark.parametrize(
    "text",
    [
        "Hi {{ contact.first_name }}, how is {{account.name}} doing?",
        "No merge fields at all",
        "{{ owner.first_name }} from Keystone",
    ],
)
def test_known_merge_fields_are_valid(text):
    assert template_errors(text) == []


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{{ account.owner.password }}", "Unknown merge field {{ account.owner.password }}"),
        ("{{ account.revenue }}", "Unknown merge field {{ account.revenue }}"),
        ("{% load static %}hello", "template tags"),
        ("{{ account.name|upper }}", "template tags"),
        ("{# comment #}", "template tags"),
        ("{{ account.__class__ }}", "Unknown merge field"),
    ],
)
def test_anything_beyond_the_merge_fields_is_refused(text, needle):
    assert any(needle in error for error in template_errors(text))


@pytest.mark.django_db
def test_rendering_substitutes_only_the_listed_values(alice):
    account = AccountFactory(name="Acme", industry="Software", owner=alice)
    contact = ContactFactory(account=account, first_name="Dana")
    values = merge_values(account=account, contact=contact, owner=alice)
    text = "Hi {{ contact.first_name }}, {{ owner.first_name }} here about {{ account.name }}."
    assert render(text, values) == "Hi Dana, Alice here about Acme."


def test_rendering_without_a_contact_leaves_the_field_blank():
    values = merge_values(account=None, contact=None, owner=None)
    assert render("Hi {{ contact.first_name }}!", values) == "Hi !"
