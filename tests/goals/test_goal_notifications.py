"""A goal's owner is emailed once per turn into at_risk or off_track, not on every recompute."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from goals import notifications
from goals.models import Goal
from goals.notifications import notify_goal_owners
from goals.tracking import update_goal_progress
from tests.factories import AccountFactory, OpportunityFactory

START, END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
HALF_WAY = dt.datetime(2026, 2, 15, tzinfo=dt.UTC)  # expected = target / 2 = 100k


@pytest.fixture
def goal(diana, alice):
    account = AccountFactory(tier=1, owner=alice)
    OpportunityFactory(
        account=account, amount=Decimal(80_000), created_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    )
    return Goal.objects.create(
        name="Tier 1 pipeline",
        team="sales",
        owner=diana,
        metric="pipeline_created",
        scope_tiers=[1],
        target=200_000,
        start_date=START,
        end_date=END,
    )


def recompute(django_capture_on_commit_callbacks, target=None, goal=None):
    if target is not None:
        Goal.objects.filter(pk=goal.pk).update(target=target)
    with django_capture_on_commit_callbacks(execute=True):
        update_goal_progress(now=HALF_WAY)


def test_the_owner_is_emailed_once_when_the_goal_turns_at_risk(
    goal, django_capture_on_commit_callbacks
):
    recompute(django_capture_on_commit_callbacks)  # 80k of 100k expected: at risk
    recompute(django_capture_on_commit_callbacks)  # still at risk: no second email

    goal.refresh_from_db()
    assert (goal.status, goal.notified_status) == ("at_risk", "at_risk")
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["diana@example.com"]
    assert email.subject == "Goal at risk: Tier 1 pipeline"
    assert "$80,000 so far, $100,000 expected by now, target $200,000" in email.body
    assert f"/metrics/goals/{goal.pk}/" in email.body


def test_each_change_for_the_worse_is_a_new_email(goal, django_capture_on_commit_callbacks):
    recompute(django_capture_on_commit_callbacks)  # at risk: email 1
    recompute(django_capture_on_commit_callbacks, target=300_000, goal=goal)  # 80k / 150k: off
    recompute(django_capture_on_commit_callbacks, target=160_000, goal=goal)  # 80k / 80k: on track
    recompute(django_capture_on_commit_callbacks, target=200_000, goal=goal)  # at risk again

    assert [m.subject.split(":")[0] for m in mail.outbox] == [
        "Goal at risk",
        "Goal off track",
        "Goal at risk",
    ]


def test_a_goal_on_track_sends_nothing(goal, django_capture_on_commit_callbacks):
    recompute(django_capture_on_commit_callbacks, target=160_000, goal=goal)

    goal.refresh_from_db()
    assert (goal.status, goal.notified_status) == ("on_track", "")
    assert mail.outbox == []


def test_no_email_goes_out_before_the_transaction_commits(goal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        update_goal_progress(now=HALF_WAY)

    assert mail.outbox == []
    assert len(callbacks) == 1


def test_a_second_sender_finds_nothing_left_to_claim(goal, django_capture_on_commit_callbacks):
    recompute(django_capture_on_commit_callbacks)

    assert notify_goal_owners() == 0
    assert len(mail.outbox) == 1


def test_a_failed_email_is_tried_again_on_the_next_run(
    goal, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(**kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(notifications, "send_mail", broken)
    recompute(django_capture_on_commit_callbacks)
    goal.refresh_from_db()
    assert goal.notified_status == ""

    monkeypatch.undo()
    recompute(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_the_full_recompute_measures_goals(goal, django_capture_on_commit_callbacks):
    from metrics.engine.runner import recompute_all

    with django_capture_on_commit_callbacks(execute=True):
        recompute_all(now=HALF_WAY)

    goal.refresh_from_db()
    assert (goal.current_value, goal.expected_value) == (Decimal(80_000), Decimal(100_000))
    assert goal.status == "at_risk"
    assert len(mail.outbox) == 1
