"""A day range reaching the calendar's last day is an open end, not a 500: the lists, their API
and the audit log read ``to=9999-12-31`` as "until now and beyond"."""

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, ActivityFactory

pytestmark = pytest.mark.django_db
LAST_DAY = "9999-12-31"


@pytest.fixture
def touch(alice):
    return ActivityFactory(account=AccountFactory(owner=alice))


def test_the_activity_page_lists_everything_up_to_the_last_day(client, maria, touch):
    client.force_login(maria)

    response = client.get(reverse("ingestion:activities"), {"from": "0001-01-01", "to": LAST_DAY})

    assert response.status_code == 200
    assert [row.pk for row in response.context["rows"]] == [touch.pk]


def test_the_activity_api_lists_everything_up_to_the_last_day(client, maria, touch):
    client.force_login(maria)

    response = client.get("/api/activities/", {"to": LAST_DAY})

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [touch.pk]


def test_the_task_list_takes_the_last_day_too(client, alice):
    client.force_login(alice)

    response = client.get(reverse("playbooks:tasks"), {"to": LAST_DAY})

    assert response.status_code == 200


def test_the_audit_log_takes_the_last_day(client, root):
    client.force_login(root)

    response = client.get(reverse("audit"), {"until": LAST_DAY})

    assert response.status_code == 200
