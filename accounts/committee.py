"""Buying-committee coverage (DOMAIN.md "Contact"), pure: no Django; the roles come in.

Coverage = share of the roles decision maker, champion and influencer that have at least one
contact engaged in the window, where engaged means an inbound activity by that contact inside it
(we count what they did, not what we sent them).
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RoleCoverage:
    role: str
    label: str
    contacts: int
    engaged: int

    @property
    def covered(self) -> bool:
        return self.engaged > 0


@dataclass(frozen=True)
class Coverage:
    roles: tuple[RoleCoverage, ...]

    @property
    def share(self) -> float:
        """0.0 to 1.0: the covered roles over the three committee roles."""
        return sum(r.covered for r in self.roles) / len(self.roles)

    @property
    def missing(self) -> list[str]:
        """Labels of the committee roles without an engaged contact."""
        return [r.label for r in self.roles if not r.covered]


def contact_engaged(last_inbound_at: dt.datetime | None, *, now: dt.datetime, days: int) -> bool:
    return last_inbound_at is not None and last_inbound_at > now - dt.timedelta(days=days)


def committee_coverage(
    contacts: Iterable[tuple[str, dt.datetime | None]],
    *,
    roles: Sequence[tuple[str, str]],
    now: dt.datetime,
    days: int,
) -> Coverage:
    """`contacts` holds (buying_role, last inbound activity at or None) per contact; `roles` the
    committee's (role, label) pairs, in the order they are shown."""
    labels = dict(roles)
    counts = {role: [0, 0] for role in labels}
    for role, last_inbound_at in contacts:
        if role not in counts:
            continue
        counts[role][0] += 1
        counts[role][1] += contact_engaged(last_inbound_at, now=now, days=days)
    return Coverage(
        roles=tuple(
            RoleCoverage(role=role, label=labels[role], contacts=n, engaged=engaged)
            for role, (n, engaged) in counts.items()
        )
    )
