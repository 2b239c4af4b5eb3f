"""Logging a call, meeting or email by hand from the account page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Lead
from ingestion.logging_activity import activity_log
from playbooks.models import Activity
from tests.accounts.account_pages import account
from tests.factories import ContactFactory, LeadFactory


def url(target) -> str:
    return reverse("accounts:log", args=[target.pk])


def when(hours: float = 0) -> str:
    return (timezone.localtime() + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def acme(alice):
    return account(alice, "Acme")


def test_a_rep_logs_a_meeting_on_their_account(client, alice, acme):
    contact = ContactFactory(account=acme, first_name="Dana", last_name="Reyes")
    client.force_login(alice)

    response = client.post(
        url(acme),
        {
            "kind": "meeting",
            "contact": contact.pk,
            "occurred_at": when(-2),
            "duration_minutes": "45",
            "notes": "  Walked through the pilot plan.  ",
        },
    )

    assert response.status_code == 302
    assert response["Location"].endswith("#activity")
    logged = Activity.objects.get()
    assert (logged.kind, logged.channel, logged.direction) == ("meeting", "sdr_outreach", "inbound")
    assert (logged.contact, logged.duration_minutes) == (contact, 45)
    assert logged.notes == "Walked through the pilot plan."
    assert logged.source == "api"
    assert logged.external_id.startswith("manual-")
    page = client.get(reverse("accounts:detail", args=[acme.pk]))
    assert "Walked through the pilot plan." in page.content.decode()
    assert page.context["timeline"]["total"] == 1


@pytest.mark.parametrize(
    ("kind", "channel", "direction"),
    [
        ("call_connected", "phone", "inbound"),
        ("call_attempt", "phone", "outbound"),
        ("email_sent", "email", "outbound"),
        ("email_reply", "email", "inbound"),
    ],
)
def test_each_kind_lands_on_its_channel_and_direction(alice, acme, kind, channel, direction):
    logged = activity_log(account=acme, by=alice, kind=kind)

    assert (logged.channel, logged.direction) == (channel, direction)


def test_two_logs_never_collide_on_their_external_id(alice, acme):
    first = activity_log(account=acme, by=alice, kind="email_sent")
    second = activity_log(account=acme, by=alice, kind="email_sent")

    assert first.external_id != second.external_id


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"occurred_at": "future"}, "occurred_at", "more than a day ahead"),
        ({"occurred_at": "not a date"}, "occurred_at", "Enter a date and time."),
        ({"occurred_at": ""}, "occurred_at", "This field is required."),
        ({"duration_minutes": "-5"}, "duration_minutes", "cannot be negative"),
        ({"duration_minutes": "5000"}, "duration_minutes", "at most 1,440 minutes"),
        ({"duration_minutes": "ten"}, "duration_minutes", "Enter whole minutes."),
        ({"kind": "email_sent", "duration_minutes": "10"}, "duration_minutes", "Only calls"),
        ({"kind": "webinar_attended"}, "kind", "Select a valid choice"),
        ({"contact": "other"}, "contact", "does not work at Acme"),
        ({"contact": "999999"}, "contact", "does not work at Acme"),
        ({"contact": "abc"}, "contact", "does not work at Acme"),
    ],
)
def test_invalid_logs_are_shown_inline_and_not_saved(
    client, alice, bob, acme, data, field, message
):
    elsewhere = ContactFactory(account=account(bob, "Bolt"))
    if data.get("contact") == "other":
        data = {**data, "contact": elsewhere.pk}
    if data.get("occurred_at") == "future":
        data = {**data, "occurred_at": when(30)}
    client.force_login(alice)

    response = client.post(url(acme), {"kind": "meeting", "occurred_at": when(), **data})

    assert response.status_code == 200
    errors = response.context["log_form"].errors
    assert any(message in e for e in errors[field]), errors
    assert message.split(",")[0] in response.content.decode()
    assert not Activity.objects.exists()


def test_a_few_hours_ahead_is_fine(alice, acme):
    activity_log(
        account=acme,
        by=alice,
        kind="call_connected",
        occurred_at=timezone.now() + dt.timedelta(hours=20),
    )

    assert Activity.objects.count() == 1


def test_a_rep_cannot_log_on_another_reps_account(client, alice, bob):
    theirs = account(bob, "Bolt")
    client.force_login(alice)

    response = client.post(url(theirs), {"kind": "meeting", "occurred_at": when()})

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_directors_read_but_do_not_log(client, diana, acme):
    client.force_login(diana)

    response = client.post(url(acme), {"kind": "meeting", "occurred_at": when()})
    page = client.get(reverse("accounts:detail", args=[acme.pk]))

    assert response.status_code == 403
    assert page.context["log_form"] is None


def test_marketers_may_log_on_any_account(client, maria, acme):
    client.force_login(maria)

    client.post(url(acme), {"kind": "email_sent", "occurred_at": when()})

    assert Activity.objects.get().account == acme


def test_logging_needs_a_post(client, alice, acme):
    client.force_login(alice)

    assert client.get(url(acme)).status_code == 405


def test_a_logged_call_is_the_first_follow_up_of_open_leads(alice, acme):
    handed = timezone.now() - dt.timedelta(hours=30)
    waiting = LeadFactory(account=acme, handed_off_at=handed)
    later = LeadFactory(account=acme, handed_off_at=timezone.now() - dt.timedelta(minutes=5))
    done = LeadFactory(
        account=acme, handed_off_at=handed, first_follow_up_at=handed + dt.timedelta(hours=1)
    )
    at = timezone.now() - dt.timedelta(hours=2)

    activity_log(account=acme, by=alice, kind="call_attempt", occurred_at=at)

    assert Lead.objects.get(pk=waiting.pk).first_follow_up_at == at
    assert Lead.objects.get(pk=later.pk).first_follow_up_at is None  # handed off after the call
    assert Lead.objects.get(pk=done.pk).first_follow_up_at == handed + dt.timedelta(hours=1)


def test_a_reply_received_is_not_a_follow_up(alice, acme):
    lead = LeadFactory(account=acme, handed_off_at=timezone.now() - dt.timedelta(hours=5))

    activity_log(account=acme, by=alice, kind="email_reply")

    assert Lead.objects.get(pk=lead.pk).first_follow_up_at is None
