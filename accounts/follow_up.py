"""Lead follow-up against the SLA (DOMAIN.md "Lead management"), pure: no ORM."""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class FollowUpStatus(StrEnum):
    ON_TIME = "on_time"  # followed up within the SLA
    LATE = "late"  # followed up, after the SLA
    WAITING = "waiting"  # not yet, still inside the SLA
    OVERDUE = "overdue"  # not yet, and the SLA has passed


LABELS = {
    FollowUpStatus.ON_TIME: "Within SLA",
    FollowUpStatus.LATE: "Late",
    FollowUpStatus.WAITING: "Waiting",
    FollowUpStatus.OVERDUE: "Overdue",
}


@dataclass(frozen=True)
class FollowUp:
    status: FollowUpStatus
    hours: float | None  # hand-off to first follow-up; None until followed up

    @property
    def label(self) -> str:
        return LABELS[self.status]

    @property
    def within_sla(self) -> bool | None:
        """True or False once decided; None while the rep still has time."""
        if self.status == FollowUpStatus.WAITING:
            return None
        return self.status == FollowUpStatus.ON_TIME


def lead_follow_up(
    *,
    handed_off_at: dt.datetime,
    first_follow_up_at: dt.datetime | None,
    now: dt.datetime,
    sla_hours: float,
) -> FollowUp:
    # Exactly sla_hours counts as on time: the SLA is "within 48 h".
    if first_follow_up_at is not None:
        hours = (first_follow_up_at - handed_off_at).total_seconds() / 3600
        status = FollowUpStatus.ON_TIME if hours <= sla_hours else FollowUpStatus.LATE
        return FollowUp(status=status, hours=hours)
    waited = (now - handed_off_at).total_seconds() / 3600
    status = FollowUpStatus.WAITING if waited <= sla_hours else FollowUpStatus.OVERDUE
    return FollowUp(status=status, hours=None)
