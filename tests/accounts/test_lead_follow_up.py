"""Lead follow-up against the SLA."""

import datetime as dt

import pandas as pd
import pytest

from accounts.filtersets import on_time_q
from accounts.follow_up import FollowUpStatus, follow_up_outcomes, lead_follow_up
from accounts.models import Lead
from tests.factories import AccountFactory, LeadFactory

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


def test_the_frame_rule_agrees_with_the_per_lead_rule():
    cases = [(2, 100), (48, 100), (48.5, 100), (None, 10), (None, 49)]
    frame = pd.DataFrame(
        {
            "handed_off_at": [pd.Timestamp(HANDED)] * len(cases),
            "first_follow_up_at": [
                pd.Timestamp(HANDED + dt.timedelta(hours=h)) if h is not None else pd.NaT
                for h, _ in cases
            ],
        }
    )
    for (_, now_hours), row in zip(cases, frame.itertuples(), strict=True):
        now = HANDED + dt.timedelta(hours=now_hours)
        one = lead_follow_up(
            handed_off_at=HANDED,
            first_follow_up_at=None if pd.isna(row.first_follow_up_at) else row.first_follow_up_at,
            now=now,
            sla_hours=48,
        )
        outcome = follow_up_outcomes(frame.iloc[[row.Index]], now=now, sla_hours=48).iloc[0]
        assert outcome["status"] == one.status
        assert outcome["on_time"] == (one.status == FollowUpStatus.ON_TIME)


@pytest.mark.django_db
def test_the_queryset_filter_agrees_with_the_per_lead_rule():
    account = AccountFactory()
    leads = {
        hours: LeadFactory(
            account=account,
            handed_off_at=HANDED,
            first_follow_up_at=HANDED + dt.timedelta(hours=hours) if hours is not None else None,
        )
        for hours in (2, 48, 48.5, None)
    }

    on_time = set(Lead.objects.filter(on_time_q(48)).values_list("pk", flat=True))

    expected = {
        lead.pk
        for lead in leads.values()
        if lead_follow_up(
            handed_off_at=lead.handed_off_at,
            first_follow_up_at=lead.first_follow_up_at,
            now=HANDED + dt.timedelta(hours=100),
            sla_hours=48,
        ).status
        == FollowUpStatus.ON_TIME
    }
    assert on_time == expected == {leads[2].pk, leads[48].pk}
