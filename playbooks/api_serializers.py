"""API representations of playbooks (with their stages and steps), enrolments, tasks, activities.

Writes go through the builder, lifecycle, enrolment and tasking services, as on the pages: the
serializers check types and scoping, the services the rules (their errors become 400s).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from abm.api_fields import StrictFloatField
from abm.api_resources import (
    MAX_ID,
    ApiModelSerializer,
    ScopedRelatedField,
    StrictCharField,
    service_errors,
)
from abm.scoping import visible_to
from accounts.models import Tier
from accounts.visibility import accounts_visible_to
from playbooks import building
from playbooks.api_audience import AudienceFilterField
from playbooks.building import STEP_FIELDS
from playbooks.enrolment import enrol_accounts
from playbooks.forms import HOLDOUT_MAX_PERCENT, playbook_owners
from playbooks.models import Activity, Enrolment, Playbook, Stage, Step, Task
from playbooks.visibility import playbooks_visible_to, stages_visible_to

# Goals sit above playbooks: reached through the relation, scoped by their own function.
GOAL = Playbook._meta.get_field("goal").related_model

STEP_EXAMPLE = {
    "id": 88,
    "stage": 31,
    "order": 0,
    "channel": "email",
    "day_offset": 0,
    "owner_role": "marketing",
    "target_buying_role": "champion",
    "target_seniority": "",
    "subject": "A plan for {{ account.name }}",
    "body": "Hi {{ contact.first_name }}, ...",
    "unit_cost": "0.00",
}
STAGE_EXAMPLE = {"id": 31, "playbook": 12, "order": 0, "name": "Find", "exit_stage": "aware"}


def _tier_list():
    return serializers.ListField(
        child=serializers.ChoiceField(choices=Tier.choices),
        required=False,
        help_text="Tiers of the audience (1, 2, 3); empty: any tier.",
    )


@extend_schema_serializer(examples=[OpenApiExample("An email on day 0", value=STEP_EXAMPLE)])
class StepSerializer(ApiModelSerializer):
    stage = ScopedRelatedField(
        scope=stages_visible_to, noun="stage", help_text="The stage the step belongs to."
    )

    class Meta:
        model = Step
        fields = ["id", "stage", "order", *STEP_FIELDS]
        read_only_fields = ["order"]
        # Left out, a field takes the builder's default (an email a few days after the last).
        extra_kwargs = {"channel": {"required": False}}

    def validate_stage(self, stage):
        # A step stays in its stage; moving one to another stage is delete and add.
        if self.instance is not None and stage.pk != self.instance.stage_id:
            raise serializers.ValidationError("A step cannot move to another stage.")
        return stage

    def create(self, validated_data):
        stage = validated_data.pop("stage")
        with service_errors():
            return building.step_add(stage=stage, by=self._by(), **validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("stage", None)
        with service_errors():
            return building.step_update(step=instance, by=self._by(), **validated_data)

    def _by(self):
        return self.context["request"].user


@extend_schema_serializer(examples=[OpenApiExample("The first stage", value=STAGE_EXAMPLE)])
class StageSerializer(ApiModelSerializer):
    playbook = ScopedRelatedField(
        scope=playbooks_visible_to, noun="playbook", help_text="The playbook of the stage."
    )

    class Meta:
        model = Stage
        fields = ["id", "playbook", "order", "name", "exit_stage"]
        read_only_fields = ["order"]
        extra_kwargs = {"name": {"required": False}}

    def validate_playbook(self, playbook):
        if self.instance is not None and playbook.pk != self.instance.playbook_id:
            raise serializers.ValidationError("A stage cannot move to another playbook.")
        return playbook

    def create(self, validated_data):
        with service_errors():
            return building.stage_add(
                playbook=validated_data["playbook"],
                by=self.context["request"].user,
                name=validated_data.get("name", ""),
                exit_stage=validated_data.get("exit_stage", ""),
            )

    def update(self, instance, validated_data):
        with service_errors():
            return building.stage_update(
                stage=instance,
                by=self.context["request"].user,
                name=validated_data.get("name", instance.name),
                exit_stage=validated_data.get("exit_stage", instance.exit_stage),
            )


class MoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=[building.UP, building.DOWN], help_text="Swap with the neighbour above or below."
    )


class PlaybookStepSerializer(ApiModelSerializer):
    class Meta:
        model = Step
        # Not read_only_fields: DRF drops allow_blank from read-only fields, and the schema
        # would then say a blank target role or exit stage cannot occur. The parent field is
        # read-only, so nothing is written through these.
        fields = ["id", "order", *STEP_FIELDS]


class PlaybookStageSerializer(ApiModelSerializer):
    steps = PlaybookStepSerializer(many=True, read_only=True)

    class Meta:
        model = Stage
        fields = ["id", "order", "name", "exit_stage", "steps"]


PLAYBOOK_EXAMPLE = {
    "id": 12,
    "name": "Tier 1 software land",
    "objective": "Open three new tier 1 software accounts this quarter.",
    "status": "active",
    "owner": 3,
    "budget": "25000.00",
    "goal": 4,
    "holdout_share": 0.1,
    "audience_tiers": [1],
    "audience_industries": ["Software"],
    "audience_filter": {"fit_min": "70"},
    "is_starter": False,
    "created_at": "2026-09-01T08:00:00Z",
    "updated_at": "2026-11-20T10:11:00Z",
    "stages": [
        {
            "id": 31,
            "order": 0,
            "name": "Find",
            "exit_stage": "aware",
            "steps": [{k: v for k, v in STEP_EXAMPLE.items() if k != "stage"}],
        }
    ],
}


@extend_schema_serializer(
    examples=[OpenApiExample("An active playbook", value=PLAYBOOK_EXAMPLE, response_only=True)]
)
class PlaybookSerializer(ApiModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=playbook_owners(),
        required=False,
        allow_null=True,
        help_text="A marketer or admin; marketing steps become their tasks (default: you).",
    )
    goal = ScopedRelatedField(
        scope=lambda user: visible_to(GOAL, user),
        noun="goal",
        required=False,
        allow_null=True,
        help_text="The SMART goal the playbook works towards.",
    )
    holdout_share = StrictFloatField(
        required=False,
        min_value=0,
        max_value=HOLDOUT_MAX_PERCENT / 100,
        help_text="Share of enrolled accounts held out as the control group (0.1 = 10 %).",
    )
    audience_tiers = _tier_list()
    audience_industries = serializers.ListField(
        child=StrictCharField(max_length=200),
        required=False,
        help_text="Industries of the audience; empty: any industry.",
    )
    audience_filter = AudienceFilterField(required=False)
    stages = PlaybookStageSerializer(many=True, read_only=True)

    class Meta:
        model = Playbook
        fields = [
            "id",
            "name",
            "objective",
            "status",
            "owner",
            "budget",
            "goal",
            "holdout_share",
            "audience_tiers",
            "audience_industries",
            "audience_filter",
            "is_starter",
            "created_at",
            "updated_at",
            "stages",
        ]
        read_only_fields = ["status", "is_starter", "created_at", "updated_at"]

    def create(self, validated_data):
        with service_errors():
            return building.playbook_create(
                by=self.context["request"].user,
                name=validated_data["name"],
                objective=validated_data.get("objective", ""),
                audience_tiers=validated_data.get("audience_tiers"),
                audience_industries=validated_data.get("audience_industries"),
                audience_filter=validated_data.get("audience_filter"),
                owner=validated_data.get("owner"),
                budget=validated_data.get("budget", 0),
                goal=validated_data.get("goal"),
                holdout_share=validated_data.get("holdout_share"),
            )

    def update(self, instance, validated_data):
        by = self.context["request"].user
        audience = {
            "tiers": validated_data.pop("audience_tiers", instance.audience_tiers),
            "industries": validated_data.pop("audience_industries", instance.audience_industries),
            "account_filter": validated_data.pop("audience_filter", instance.audience_filter),
        }
        with service_errors():
            # Both write through the edit check, so a locked playbook changes in neither.
            building.playbook_update(playbook=instance, by=by, **validated_data)
            building.playbook_set_audience(playbook=instance, by=by, **audience)
        return instance


class CloneSerializer(serializers.Serializer):
    name = StrictCharField(
        max_length=200, required=False, help_text='Default: the name with " (copy)".'
    )


class EnrolRequestSerializer(serializers.Serializer):
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=10_000,
        help_text="Ids of accounts to enrol (each one you may see).",
    )
    audience = serializers.BooleanField(
        required=False, help_text="true: enrol every account of the audience you may see."
    )

    def validate(self, attrs):
        accounts, audience = attrs.get("accounts"), attrs.get("audience", False)
        if (accounts is None) == (not audience):
            raise serializers.ValidationError(
                'Send either {"accounts": [ids]} or {"audience": true}, not both or neither.'
            )
        if accounts is not None:
            wanted = set(accounts)
            seen = set(
                accounts_visible_to(self.context["request"].user)
                .filter(pk__in=wanted)
                .values_list("pk", flat=True)
            )
            if missing := sorted(wanted - seen):
                shown = ", ".join(str(pk) for pk in missing[:20])
                more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
                raise serializers.ValidationError(
                    {"accounts": [f"There are no accounts {shown}{more} that you can see."]}
                )
        return attrs


class EnrolResultSerializer(serializers.Serializer):
    enrolled = serializers.IntegerField(help_text="Newly enrolled accounts that get the playbook.")
    holdout = serializers.IntegerField(help_text="Newly enrolled accounts held out as control.")
    already = serializers.IntegerField(help_text="Accounts that were enrolled before.")
    seed = serializers.IntegerField(help_text="Seed of this holdout draw, to reproduce it.")
    warning = serializers.CharField(
        help_text="Empty, or why holdout lift cannot be measured with these groups (fewer than "
        "30 accounts enrolled or held out) and which holdout share would reach it."
    )
    tasks_run = serializers.IntegerField(
        source="run_id",
        allow_null=True,
        help_text="The background job creating the tasks due now (GET /api/metric-runs/{id}/), or null.",
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "An account in the Find stage",
            value={
                "id": 501,
                "account": 42,
                "playbook": 12,
                "current_stage": 31,
                "entered_stage_at": "2026-11-01T09:00:00Z",
                "status": "active",
                "holdout_seed": 1234567,
                "enrolled_at": "2026-11-01T09:00:00Z",
                "enrolled_by": 3,
            },
        )
    ]
)
class EnrolmentSerializer(ApiModelSerializer):
    account = ScopedRelatedField(scope=accounts_visible_to, noun="account")
    playbook = ScopedRelatedField(scope=playbooks_visible_to, noun="playbook")

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "account",
            "playbook",
            "current_stage",
            "entered_stage_at",
            "status",
            "holdout_seed",
            "enrolled_at",
            "enrolled_by",
        ]
        read_only_fields = [
            "current_stage",
            "entered_stage_at",
            "status",
            "holdout_seed",
            "enrolled_at",
            "enrolled_by",
        ]
        # The service enrols once per (account, playbook); a second time is explained below.
        validators = []

    def validate(self, attrs):
        account, playbook = attrs["account"], attrs["playbook"]
        if problem := building.edit_problem(playbook):
            raise serializers.ValidationError({"playbook": [problem]})
        existing = Enrolment.objects.filter(account=account, playbook=playbook).first()
        if existing is not None:
            raise serializers.ValidationError(
                {
                    "account": [
                        f"Account {account.pk} is already enrolled in playbook {playbook.pk} "
                        f"(enrolment {existing.pk}, {existing.status})."
                    ]
                }
            )
        return attrs

    def create(self, validated_data):
        account, playbook = validated_data["account"], validated_data["playbook"]
        enrol_accounts(playbook=playbook, account_ids=[account.pk], by=self.context["request"].user)
        return Enrolment.objects.get(account=account, playbook=playbook)


TASK_EXAMPLE = {
    "id": 7001,
    "enrolment": 501,
    "playbook": 12,
    "step": 88,
    "account": 42,
    "assignee": 7,
    "channel": "phone",
    "owner_role": "sales",
    "subject": "Call Ada at Acme Robotics",
    "body": "Follow up on the webinar.",
    "due_at": "2026-11-24T09:00:00Z",
    "status": "open",
    "completed_at": None,
    "completed_by": None,
    "created_at": "2026-11-21T02:00:00Z",
}


@extend_schema_serializer(examples=[OpenApiExample("An open call task", value=TASK_EXAMPLE)])
class TaskSerializer(ApiModelSerializer):
    playbook = serializers.IntegerField(
        source="enrolment.playbook_id", read_only=True, help_text="The playbook's id."
    )

    class Meta:
        model = Task
        fields = list(TASK_EXAMPLE)
        read_only_fields = fields


class TaskCompleteSerializer(serializers.Serializer):
    notes = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="What happened, kept on the activity recorded on the account's timeline.",
    )


ACTIVITY_EXAMPLE = {
    "id": 90211,
    "account": 42,
    "contact": 311,
    "channel": "webinar",
    "kind": "webinar_attended",
    "direction": "inbound",
    "occurred_at": "2026-11-19T16:00:00Z",
    "cost": "0.00",
    "step": None,
    "source": "api",
    "external_id": "webinar-2026-11-19-ada",
    "duration_minutes": 45,
    "notes": "",
    "created_at": "2026-11-19T16:05:00Z",
}


@extend_schema_serializer(examples=[OpenApiExample("A webinar attended", value=ACTIVITY_EXAMPLE)])
class ActivitySerializer(ApiModelSerializer):
    class Meta:
        model = Activity
        fields = list(ACTIVITY_EXAMPLE)
        read_only_fields = fields


class TaskCompletedSerializer(serializers.Serializer):
    task = TaskSerializer()
    activity = ActivitySerializer(help_text="What was recorded on the account's timeline.")
