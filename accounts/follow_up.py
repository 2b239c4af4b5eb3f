"""Lead follow-up against the SLA (DOMAIN.md "Lead management"): the one home of the rule.

A lead is followed up in time when ``first_follow_up_at <= handed_off_at + sla_hours``; exactly
``sla_hours`` counts as on time (the SLA is "within 48 h"). A lead not followed up while its SLA is
still running is *waiting* (not decided yet); one not followed up after the SLA has passed is
*overdue*. The same rule in two shapes, side by side so they cannot drift: one lead (``lead_follow_up``) and
a frame of leads (``follow_up_outcomes``); its SQL shape is ``accounts.filtersets.on_time_q``
(a test holds the three to the same answers). Pure: no Django; callers pass
``settings.ABM_FOLLOW_UP_SLA_HOURS``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from abm.lib.timeconv import series_ns_float, to_utc

_HOUR_NS = 3_600 * 10**9


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


def within_sla(hours, sla_hours: float):
    """Hours from hand-off to first follow-up (a float or an array; NaN is never on time)."""
    return hours <= sla_hours


def past_sla(waited_hours, sla_hours: float):
    """Hours since hand-off without a follow-up (a float or an array)."""
    return waited_hours > sla_hours


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
    if first_follow_up_at is not None:
        hours = (first_follow_up_at - handed_off_at).total_seconds() / 3600
        on_time = within_sla(hours, sla_hours)
        return FollowUp(
            status=FollowUpStatus.ON_TIME if on_time else FollowUpStatus.LATE, hours=hours
        )
    waited = (now - handed_off_at).total_seconds() / 3600
    overdue = past_sla(waited, sla_hours)
    return FollowUp(
        status=FollowUpStatus.OVERDUE if overdue else FollowUpStatus.WAITING, hours=None
    )


def follow_up_outcomes(leads: pd.DataFrame, *, now: pd.Timestamp, sla_hours: float) -> pd.DataFrame:
    """Per lead: ``hours``, ``status`` (on_time | late | waiting | overdue), ``due``, ``on_time``.

    ``leads``: ``handed_off_at, first_follow_up_at`` (NaT until followed up); others are kept.
    """
    handed = series_ns_float(leads["handed_off_at"])
    followed = series_ns_float(leads["first_follow_up_at"])
    hours = (followed - handed) / _HOUR_NS
    done = ~np.isnan(hours)
    on_time = done & within_sla(hours, sla_hours)
    expired = past_sla((to_utc(now).value - handed) / _HOUR_NS, sla_hours)
    status = np.select([on_time, done, expired], ["on_time", "late", "overdue"], default="waiting")
    return leads.assign(
        hours=hours, status=status, due=status != "waiting", on_time=on_time.astype(bool)
    )
