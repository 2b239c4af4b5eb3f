"""API representations of accounts, contacts, opportunities (with stage history) and leads."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from abm.api_fields import StrictCharField
from abm.api_resources import ConstraintCheckedSerializer, ScopedRelatedField
from abm.lib.permissions import user_role
from abm.models import Role
from accounts.assignment import AssignmentError, can_assign, owner_check
from accounts.filtering import sales_reps
from accounts.models import (
    Account,
    Contact,
    JourneyStage,
    Lead,
    Opportunity,
    OpportunityStage,
    OpportunityStageChange,
)
from accounts.records import (
    account_create,
    account_update,
    opportunity_create,
    opportunity_update,
    record_create,
    record_update,
)
from accounts.stage_history import NOT_GIVEN, closed_at_for
from accounts.tiering import can_set_tier
from accounts.values import DOMAIN_PATTERN, CellError, parse_domain
from accounts.visibility import accounts_visible_to, contacts_visible_to

ACCOUNT_EXAMPLE = {
    "id": 42,
    "name": "Acme Robotics",
    "domain": "acme.com",
    "industry": "Manufacturing",
    "employees": 1200,
    "annual_revenue": "250000000.00",
    "country": "Germany",
    "tier": 1,
    "owner": 7,
    "stage": "engaged",
    "fit_score": 82.5,
    "engagement_score": 64.2,
    "spike": True,
    "external_id": "0015g00000XyZ12",
    "created_at": "2026-01-12T09:30:00Z",
    "updated_at": "2026-11-20T16:02:11Z",
}


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 253,
        "pattern": DOMAIN_PATTERN,
        "description": "The account's domain (acme.com); a URL or an email address is read as "
        "its domain, stored lower case without www.",
    }
)
class _DomainField(StrictCharField):
    """What validate_domain accepts, as the schema's pattern (accounts/values.py)."""


@extend_schema_serializer(examples=[OpenApiExample("A tier 1 account", value=ACCOUNT_EXAMPLE)])
class AccountSerializer(ConstraintCheckedSerializer):
    domain = _DomainField(max_length=253)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=sales_reps(),
        allow_null=True,
        required=False,
        help_text="Id of the sales rep who owns the account (null: unassigned).",
    )
    stage = serializers.ChoiceField(
        choices=JourneyStage.choices,
        allow_blank=True,
        read_only=True,
        help_text="Journey stage from the last metrics run; blank until one has run.",
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "domain",
            "industry",
            "employees",
            "annual_revenue",
            "country",
            "tier",
            "owner",
            "stage",
            "fit_score",
            "engagement_score",
            "spike",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "stage",
            "fit_score",
            "engagement_score",
            "spike",
            "created_at",
            "updated_at",
        ]

    def validate_domain(self, value: str) -> str:
        # Stored the way imports store it, so the API and a CSV upsert find the same account.
        try:
            return parse_domain(value, "domain")
        except CellError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate(self, attrs):
        user = self.context["request"].user
        changed = {
            name
            for name, value in attrs.items()
            if self.instance is None or getattr(self.instance, name) != value
        }
        if "owner" in changed and not can_assign(user):
            raise serializers.ValidationError(
                {"owner": ["Sales reps cannot reassign accounts; ask a marketer or director."]}
            )
        if "tier" in changed and not can_set_tier(user):
            raise serializers.ValidationError({"tier": ["Only marketers and admins set tiers."]})
        if user_role(user) == Role.DIRECTOR and changed - {"owner"}:
            raise serializers.ValidationError(
                {
                    name: ["Directors may reassign accounts but not edit them."]
                    for name in sorted(changed - {"owner"})
                }
            )
        if "owner" in changed:
            try:
                owner_check(attrs["owner"])
            except AssignmentError as error:
                raise serializers.ValidationError({"owner": list(error.messages)}) from None
        return super().validate(attrs)

    # Writes go through the services the pages and the import use (accounts/records.py).
    def create(self, validated_data):
        return account_create(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return account_update(account=instance, by=self.context["request"].user, **validated_data)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A champion at an account",
            value={
                "id": 311,
                "account": 42,
                "first_name": "Ada",
                "last_name": "Ng",
                "email": "ada.ng@acme.com",
                "title": "VP Operations",
                "seniority": "vp",
                "buying_role": "champion",
                "external_id": None,
                "created_at": "2026-03-02T10:00:00Z",
            },
        )
    ]
)
class ContactSerializer(ConstraintCheckedSerializer):
    account = ScopedRelatedField(scope=accounts_visible_to, noun="account")

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "first_name",
            "last_name",
            "email",
            "title",
            "seniority",
            "buying_role",
            "external_id",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def create(self, validated_data):
        return record_create(Contact, by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return record_update(instance, by=self.context["request"].user, **validated_data)


class StageChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpportunityStageChange
        fields = ["from_stage", "to_stage", "changed_at"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "An opportunity in negotiation",
            value={
                "id": 901,
                "account": 42,
                "name": "Acme platform",
                "amount": "120000.00",
                "stage": "negotiation",
                "created_at": "2026-08-01T09:00:00Z",
                "close_date": "2026-12-15",
                "closed_at": None,
                "source": "marketing",
                "external_id": "0065g00000AbC34",
                "updated_at": "2026-11-18T08:12:00Z",
                "stage_history": [
                    {
                        "from_stage": "",
                        "to_stage": "qualification",
                        "changed_at": "2026-08-01T09:00:00Z",
                    },
                    {
                        "from_stage": "qualification",
                        "to_stage": "negotiation",
                        "changed_at": "2026-10-30T14:20:00Z",
                    },
                ],
            },
        )
    ]
)
class OpportunitySerializer(ConstraintCheckedSerializer):
    account = ScopedRelatedField(scope=accounts_visible_to, noun="account")
    stage_history = StageChangeSerializer(source="stage_changes", many=True, read_only=True)
    created_at = serializers.DateTimeField(
        required=False, help_text="When the opportunity was created; defaults to now."
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "account",
            "name",
            "amount",
            "stage",
            "created_at",
            "close_date",
            "closed_at",
            "source",
            "external_id",
            "updated_at",
            "stage_history",
        ]
        read_only_fields = ["updated_at"]
        extra_kwargs = {"amount": {"min_value": 0}}

    def validate(self, attrs):
        # Resolved here so the constraint check sees what the service will store.
        now = timezone.now()
        if self.instance is None:
            attrs.setdefault("created_at", now)
        if self.instance is None or {"stage", "closed_at"} & set(attrs):
            stage = attrs.get(
                "stage", getattr(self.instance, "stage", OpportunityStage.QUALIFICATION)
            )
            attrs["closed_at"] = closed_at_for(
                stage=stage,
                given=attrs.get("closed_at", NOT_GIVEN),
                stored=getattr(self.instance, "closed_at", None),
                now=now,
            )
        return super().validate(attrs)

    def create(self, validated_data):
        return opportunity_create(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        by = self.context["request"].user
        return opportunity_update(opportunity=instance, by=by, **validated_data)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A lead handed to sales",
            value={
                "id": 77,
                "account": 42,
                "contact": 311,
                "source_channel": "webinar",
                "handed_off_at": "2026-11-02T15:00:00Z",
                "first_follow_up_at": "2026-11-03T09:30:00Z",
                "status": "working",
                "external_id": "L-2026-0077",
            },
        )
    ]
)
class LeadSerializer(ConstraintCheckedSerializer):
    account = ScopedRelatedField(scope=accounts_visible_to, noun="account")
    contact = ScopedRelatedField(
        scope=contacts_visible_to, noun="contact", allow_null=True, required=False
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "account",
            "contact",
            "source_channel",
            "handed_off_at",
            "first_follow_up_at",
            "status",
            "external_id",
        ]

    def validate(self, attrs):
        account = attrs.get("account", getattr(self.instance, "account", None))
        contact = attrs.get("contact", getattr(self.instance, "contact", None))
        if contact is not None and account is not None and contact.account_id != account.pk:
            raise serializers.ValidationError(
                {"contact": [f"Contact {contact.pk} works at another account, not {account.pk}."]}
            )
        return super().validate(attrs)

    def create(self, validated_data):
        return record_create(Lead, by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return record_update(instance, by=self.context["request"].user, **validated_data)
