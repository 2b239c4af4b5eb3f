"""Lead follow-up against the SLA."""

import datetime as dt

import pytest

from accounts.follow_up import FollowUpStatus, lead_follow_up

HANDED = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("follow_up_hours", "now_hours", "status", "within"),
    [
        (2, 100, FollowUpStatus.ON_TIME, True),
        (48, 100, FollowUpStatus.ON_TIME, True),
        (48.5, 100, FollowUpStatus.LATE, False),
        (None, 10, FollowUpStatus.WAITING, None),
        (None, 49, FollowUpStatus.OVERDUE, False),
    ],
)
def test_follow_up_status_against_the_sla(follow_up_hours, now_hours, status, within):
    first = HANDED + dt.timedelta(hours=follow_up_hours) if follow_up_hours is not None else None

    result = lead_follow_up(
        handed_off_at=HANDED,
        first_follow_up_at=first,
        now=HANDED + dt.timedelta(hours=now_hours),
        sla_hours=48,
    )

    assert result.status == status
    assert result.within_sla is within
    assert result.hours == follow_up_hours
