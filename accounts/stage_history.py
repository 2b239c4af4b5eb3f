"""An opportunity's stage history and closing time: the rules the API and the import share.

Every stage an opportunity enters is one OpportunityStageChange row, dated when it happened: a
new deal's first row when it was created (or when it closed, if it arrived closed), a later
change when the deal closed, else when the change was written. A closed stage needs closed_at;
an open one has none (the model's constraint).
"""

from __future__ import annotations

import datetime as dt

from accounts.models import CLOSED_STAGES, Opportunity, OpportunityStageChange

# "closed_at was not sent": different from an explicit null.
NOT_GIVEN = object()


def closed_at_for(*, stage: str, given=NOT_GIVEN, stored: dt.datetime | None, now: dt.datetime):
    """When a deal in `stage` closed: the time given, else the stored one, else now (closing it
    now); None for an open stage unless one was given (which the constraint then refuses)."""
    if stage in CLOSED_STAGES:
        value = stored if given is NOT_GIVEN else given
        return value or now
    return None if given is NOT_GIVEN else given


def stage_changed_at(
    *, previous_stage: str, closed_at, created_at: dt.datetime, now: dt.datetime
) -> dt.datetime:
    """When the deal entered its current stage (see the module's docstring)."""
    return closed_at or (created_at if not previous_stage else now)


def stage_change(
    opportunity: Opportunity, *, previous_stage: str, now: dt.datetime
) -> OpportunityStageChange:
    """The history row for `opportunity` having moved from `previous_stage` ("" = new)."""
    return OpportunityStageChange(
        opportunity=opportunity,
        from_stage=previous_stage,
        to_stage=opportunity.stage,
        changed_at=stage_changed_at(
            previous_stage=previous_stage,
            closed_at=opportunity.closed_at,
            created_at=opportunity.created_at,
            now=now,
        ),
    )
