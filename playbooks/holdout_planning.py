"""Whether an enrolment leaves both groups big enough to measure holdout lift (DOMAIN.md).

Holdout lift says "not enough data" below ABM_LIFT_MIN_GROUP accounts per group, so enrolment
warns before it creates such a group and names the holdout share that would reach the minimum:
the smallest whole percent, since every held-out account is one the playbook does not work.
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class HoldoutPlan:
    new_accounts: int
    enrolled: int  # the playbook's enrolled group after this enrolment (not held out)
    held_out: int  # its holdout group after this enrolment
    min_group: int
    suggested_share: float | None  # a share reaching min_group in both groups, when one can
    more_needed: int  # accounts to add before any share can, when none can now

    @property
    def enough(self) -> bool:
        return self.enrolled >= self.min_group and self.held_out >= self.min_group

    @property
    def warning(self) -> str:
        """The words shown on the enrolment form, in its result and in the API answer."""
        if self.enough or not self.new_accounts:
            return ""
        groups = (
            f"Enrolling {_accounts(self.new_accounts)} leaves {self.enrolled:,} enrolled and "
            f"{self.held_out:,} held out: holdout lift needs at least {self.min_group} in each "
            "group, so no lift can be measured."
        )
        if self.suggested_share is not None:
            held = _held(self.new_accounts, self.suggested_share)
            return (
                f"{groups} A holdout share of {self.suggested_share:.0%} ({held:,} of these "
                f"{self.new_accounts:,} held out) would give both groups {self.min_group}."
            )
        return (
            f"{groups} No holdout share can give both groups {self.min_group} with "
            f"{_accounts(self.new_accounts)}: enrol at least {_accounts(self.more_needed)} more "
            f"({2 * self.min_group} in all, {self.min_group} in each group)."
        )


def _accounts(n: int) -> str:
    return f"{n:,} account{'s' if n != 1 else ''}"


def _held(n: int, share: float) -> int:
    # As playbooks.enrolment.holdout_draw sizes the group.
    return int(round(share * n))


def holdout_plan(
    *,
    new_accounts: int,
    share: float,
    enrolled_before: int = 0,
    held_before: int = 0,
    min_group: int | None = None,
) -> HoldoutPlan:
    """The groups after enrolling `new_accounts` more with this holdout `share`."""
    min_group = settings.ABM_LIFT_MIN_GROUP if min_group is None else min_group
    held = _held(new_accounts, share)

    def reaches(h: int) -> bool:
        return held_before + h >= min_group and enrolled_before + new_accounts - h >= min_group

    suggested = next(
        (p / 100 for p in range(1, 100) if reaches(_held(new_accounts, p / 100))), None
    )
    # Without a share that works: the accounts still missing from either group.
    short_held = max(0, min_group - held_before)
    short_enrolled = max(0, min_group - enrolled_before)
    return HoldoutPlan(
        new_accounts=new_accounts,
        enrolled=enrolled_before + new_accounts - held,
        held_out=held_before + held,
        min_group=min_group,
        suggested_share=suggested,
        more_needed=0
        if suggested is not None
        else max(1, short_held + short_enrolled - new_accounts),
    )
