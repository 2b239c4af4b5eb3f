"""What the account list's filters build on: the choices its select boxes offer, the priority
expression, journey-stage reach, user names (the filters themselves: accounts/account_filters.py).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.expressions import ExpressionWrapper

from abm.models import Role, User
from accounts.models import Account, JourneyStage

UNTIERED = "untiered"
TARGETS = "targets"
UNASSIGNED = "unassigned"
NO_STAGE = "none"
# Enrolment statuses that put an account in a playbook (the holdout is a control group, not in
# it): the same as metrics.lift.ENROLLED_STATUSES, which accounts may not import.
ENROLLED_STATUSES = ("active", "completed", "exited")


def priority_expression() -> ExpressionWrapper:
    """Priority = fit x engagement, with fit as a 0-1 share so the value reads like engagement."""
    return ExpressionWrapper(
        F("fit_score") * F("engagement_score") / 100.0, output_field=FloatField()
    )


@dataclass(frozen=True)
class FilterChoices:
    """The options the select boxes offer: values present in the data the user may see."""

    industries: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    owners: list[tuple[int, str]] = field(default_factory=list)


def filter_choices(accounts: QuerySet[Account], *, with_owners: bool) -> FilterChoices:
    """Two queries (one with owners): the industry x country pairs, then the sales reps."""
    pairs = accounts.order_by().values_list("industry", "country").distinct()
    industries, countries = set(), set()
    for industry, country in pairs:
        industries.add(industry)
        countries.add(country)
    owners = []
    if with_owners:
        owners = [(u.pk, display_name(u)) for u in sales_reps()]
    return FilterChoices(
        industries=sorted(i for i in industries if i),
        countries=sorted(c for c in countries if c),
        owners=owners,
    )


def sales_reps() -> QuerySet[User]:
    """The users who may own accounts."""
    return User.objects.filter(role=Role.SALES, is_active=True, is_superuser=False).order_by(
        "first_name", "last_name", "username"
    )


def display_name(user) -> str:
    return user.get_full_name() or user.username


def stages_at_or_beyond(stage: str) -> list[str]:
    """Journey stages from ``stage`` up: reaching one of them means having passed ``stage``
    (an account that went from engaged straight to opportunity passed mqa)."""
    order = list(JourneyStage.values)
    return order[order.index(stage) :]


def reached_q(stage: str, start: dt.date | None, end: dt.date | None) -> Q:
    """Accounts with a recorded journey stage change into ``stage`` or beyond on the UTC days
    ``start .. end``: the director's funnel step and the list it opens are this set.

    The stage history is kept by the metrics engine; the list reads it through the reverse
    relation ``stage_changes`` rather than importing it (accounts sits below metrics)."""
    changes = Q(stage_changes__to_stage__in=stages_at_or_beyond(stage))
    if start is not None:
        changes &= Q(stage_changes__changed_at__gte=_day_start(start))
    if end is not None and end < dt.date.max:  # the last day there is ends no range
        changes &= Q(stage_changes__changed_at__lt=_day_start(end + dt.timedelta(days=1)))
    return Q(pk__in=Account.objects.filter(changes).values("pk"))


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def playbook_name(pk: int) -> str:
    """A playbook's name for the list's description, reached through the enrolment relation
    (playbooks sits above accounts); blank for an unknown id."""
    playbook = Account._meta.get_field("enrolments").related_model._meta.get_field("playbook")
    names = playbook.related_model.objects.filter(pk=pk).values_list("name", flat=True)
    return names.first() or ""
