"""Query parameters of the account-side API lists (django-filter: a bad value is a 400)."""

import django_filters as filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from abm.api_resources import BooleanParam, DateTimeParam, IdParam
from accounts.models import (
    CLOSED_STAGES,
    Account,
    Contact,
    JourneyStage,
    Lead,
    Opportunity,
    OpportunityStage,
    Tier,
)


class AccountFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", help_text="Part of the name or domain.")
    tier = filters.TypedChoiceFilter(choices=Tier.choices, coerce=int, help_text="1, 2 or 3.")
    target = BooleanParam(
        field_name="tier", lookup_expr="isnull", exclude=True, help_text="true: has a tier."
    )
    stage = filters.ChoiceFilter(choices=JourneyStage.choices)
    owner = IdParam(field_name="owner_id", help_text="Owner's user id.")
    unassigned = BooleanParam(field_name="owner", lookup_expr="isnull")
    spike = BooleanParam()
    fit_min = filters.NumberFilter(
        field_name="fit_score", lookup_expr="gte", min_value=0, max_value=100
    )
    engagement_min = filters.NumberFilter(
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


class OpportunityFilter(filters.FilterSet):
    account = IdParam(field_name="account_id")
    owner = IdParam(field_name="account__owner_id", help_text="Account owner's id.")
    stage = filters.ChoiceFilter(choices=OpportunityStage.choices)
    open = BooleanParam(method="is_open", help_text="true: not closed won or lost.")
    created_after = DateTimeParam(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeParam(field_name="created_at", lookup_expr="lt")
    closed_after = DateTimeParam(field_name="closed_at", lookup_expr="gte")
    closed_before = DateTimeParam(field_name="closed_at", lookup_expr="lt")
    amount_min = filters.NumberFilter(
        field_name="amount", lookup_expr="gte", min_value=0, max_value=10**12
    )
    updated_since = DateTimeParam(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Opportunity
        fields = ["source", "external_id"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def is_open(self, queryset, name, value):
        closed = Q(stage__in=CLOSED_STAGES)
        return queryset.exclude(closed) if value else queryset.filter(closed)


class LeadFilter(filters.FilterSet):
    account = IdParam(field_name="account_id")
    handed_off_after = DateTimeParam(field_name="handed_off_at", lookup_expr="gte")
    handed_off_before = DateTimeParam(field_name="handed_off_at", lookup_expr="lt")
    followed_up = BooleanParam(field_name="first_follow_up_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Lead
        fields = ["status", "source_channel", "external_id"]
