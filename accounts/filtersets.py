"""The account-side lists' filters: one FilterSet per list, used by its page, its CSV export and
its API endpoint (see accounts/list_filters.py). Where the page and the API name the same thing
differently (``from`` / ``handed_off_after``), both parameters are kept."""

import datetime as dt

import django_filters as filters
from django.conf import settings
from django.db.models import F, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from abm.api_resources import BooleanParam, DateTimeParam, IdParam, NumberParam
from abm.lib.channels import Channel
from accounts.list_filters import (
    Chips,
    DayFilter,
    ListFilterSet,
    OwnerFilter,
    TierFilter,
    account_filter,
)
from accounts.models import (
    CLOSED_STAGES,
    Account,
    Contact,
    JourneyStage,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunitySource,
    OpportunityStage,
    Tier,
)


def on_time_q(sla_hours: float) -> Q:
    """Leads followed up within the SLA (a lead not followed up is not on time): the rule of
    accounts/follow_up.py as a queryset filter."""
    return Q(first_follow_up_at__lte=F("handed_off_at") + dt.timedelta(hours=sla_hours))


class AccountFilterSet(ListFilterSet):
    """Accounts as the API lists them; the account list page reads them through
    AccountListFilterSet (accounts/account_filters.py)."""

    q = filters.CharFilter(method="search", help_text="Part of the name or domain.")
    tier = filters.TypedChoiceFilter(choices=Tier.choices, coerce=int, help_text="1, 2 or 3.")
    target = BooleanParam(
        field_name="tier", lookup_expr="isnull", exclude=True, help_text="true: has a tier."
    )
    stage = filters.ChoiceFilter(choices=JourneyStage.choices)
    owner = IdParam(field_name="owner_id", help_text="Owner's user id.")
    unassigned = BooleanParam(field_name="owner", lookup_expr="isnull")
    spike = BooleanParam()
    fit_min = NumberParam(field_name="fit_score", lookup_expr="gte", min_value=0, max_value=100)
    engagement_min = NumberParam(
        field_name="engagement_score", lookup_expr="gte", min_value=0, max_value=10**9
    )
    updated_since = DateTimeParam(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Account
        fields = ["industry", "country", "external_id", "domain"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value))


class ContactFilter(filters.FilterSet):
    account = IdParam(field_name="account_id")
    email = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = ["seniority", "buying_role", "external_id"]


OPEN, WON, LOST = "open", "won", "lost"
STAGE_CHOICES = [(OPEN, "Open"), (WON, "Won"), (LOST, "Lost"), *OpportunityStage.choices]


class OpportunityFilterSet(ListFilterSet):
    """Deals: the API's list and, extended with credit filters by dashboards, the drill-down."""

    created_from = DayFilter("created_at", label="Created from")
    created_to = DayFilter("created_at", last=True, label="Created to")
    closed_from = DayFilter("closed_at", label="Closed from")
    closed_to = DayFilter("closed_at", last=True, label="Closed to")
    tier = TierFilter()
    owner = OwnerFilter(help_text="Account owner's id, or unassigned.")
    stage = filters.ChoiceFilter(
        label="Stage",
        choices=STAGE_CHOICES,
        method="in_stage",
        help_text="A stage, or open, won or lost.",
    )
    source = filters.ChoiceFilter(label="Source", choices=OpportunitySource.choices)
    account = account_filter()
    # The API's names: exact date-times, and open as a boolean.
    open = BooleanParam(method="is_open", help_text="true: not closed won or lost.")
    created_after = DateTimeParam(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeParam(field_name="created_at", lookup_expr="lt")
    closed_after = DateTimeParam(field_name="closed_at", lookup_expr="gte")
    closed_before = DateTimeParam(field_name="closed_at", lookup_expr="lt")
    amount_min = NumberParam(field_name="amount", lookup_expr="gte", min_value=0, max_value=10**12)
    updated_since = DateTimeParam(field_name="updated_at", lookup_expr="gte")

    # sort key -> order_by; every order ends in "id" so pages never overlap or skip rows.
    sorts = {
        "-created": ("-created_at", "-id"),
        "created": ("created_at", "id"),
        "-amount": ("-amount", "-id"),
        "amount": ("amount", "id"),
        "name": ("name", "id"),
    }
    sort_labels = {
        "-created": "Newest first",
        "created": "Oldest first",
        "-amount": "Largest first",
        "amount": "Smallest first",
        "name": "Name A–Z",
    }
    default_sort = "-created"
    ranges = (("created_from", "created_to"), ("closed_from", "closed_to"))

    class Meta:
        model = Opportunity
        fields = ["external_id"]

    def in_stage(self, queryset, name, value):
        return queryset.filter(
            {
                OPEN: ~Q(stage__in=CLOSED_STAGES),
                WON: Q(stage=OpportunityStage.CLOSED_WON),
                LOST: Q(stage=OpportunityStage.CLOSED_LOST),
            }.get(value, Q(stage=value))
        )

    @extend_schema_field(OpenApiTypes.BOOL)
    def is_open(self, queryset, name, value):
        closed = Q(stage__in=CLOSED_STAGES)
        return queryset.exclude(closed) if value else queryset.filter(closed)

    def chips(self, names):
        v, chips = self.values, Chips(self, names)
        chips.day_range("Created", "created_from", "created_to")
        chips.day_range("Closed", "closed_from", "closed_to")
        chips.tier()
        chips.owner()
        if "stage" in v:
            chips.add(f"Stage: {dict(STAGE_CHOICES)[v['stage']]}", "stage")
        if "source" in v:
            chips.add(f"Source: {OpportunitySource(v['source']).label}", "source")
        chips.account()
        return chips


FOLLOW_UP_CHOICES = [
    ("on_time", "Followed up within the SLA"),
    ("late", "Followed up late"),
    ("followed", "Followed up (on time or late)"),
    ("none", "Not followed up"),
]


class LeadFilterSet(ListFilterSet):
    """Hand-offs: the API's list and the drill-down behind the dashboards' follow-up trend."""

    from_ = DayFilter("handed_off_at", label="From")
    to = DayFilter("handed_off_at", last=True, label="To")
    channel = filters.ChoiceFilter(
        field_name="source_channel", label="Source channel", choices=Channel.choices
    )
    status = filters.ChoiceFilter(label="Status", choices=LeadStatus.choices)
    follow_up = filters.ChoiceFilter(
        label="Follow-up", choices=FOLLOW_UP_CHOICES, method="by_follow_up"
    )
    tier = TierFilter()
    owner = OwnerFilter()
    account = account_filter()
    # The API's names: exact date-times, and the source channel by its column's name.
    handed_off_after = DateTimeParam(field_name="handed_off_at", lookup_expr="gte")
    handed_off_before = DateTimeParam(field_name="handed_off_at", lookup_expr="lt")
    followed_up = BooleanParam(field_name="first_follow_up_at", lookup_expr="isnull", exclude=True)
    source_channel = filters.ChoiceFilter(choices=Channel.choices)

    sorts = {"-handed_off": ("-handed_off_at", "-id"), "handed_off": ("handed_off_at", "id")}
    sort_labels = {"-handed_off": "Newest first", "handed_off": "Oldest first"}
    default_sort = "-handed_off"
    ranges = (("from", "to"),)

    class Meta:
        model = Lead
        fields = ["external_id"]

    def by_follow_up(self, queryset, name, value):
        return queryset.filter(
            {
                "on_time": on_time_q(settings.ABM_FOLLOW_UP_SLA_HOURS),
                "late": Q(first_follow_up_at__isnull=False)
                & ~on_time_q(settings.ABM_FOLLOW_UP_SLA_HOURS),
                "followed": Q(first_follow_up_at__isnull=False),
                "none": Q(first_follow_up_at__isnull=True),
            }[value]
        )

    def chips(self, names):
        v, chips = self.values, Chips(self, names)
        chips.day_range("Handed off", "from", "to")
        if "channel" in v:
            chips.add(f"Source: {Channel(v['channel']).label}", "channel")
        if "status" in v:
            chips.add(f"Status: {LeadStatus(v['status']).label}", "status")
        if "follow_up" in v:
            chips.add(dict(FOLLOW_UP_CHOICES)[v["follow_up"]], "follow_up")
        chips.tier()
        chips.owner()
        chips.account()
        return chips
