"""API representations of spend lines, engagement scores and runs."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from abm.api_resources import ConstraintCheckedSerializer, ScopedRelatedField
from abm.job_reading import error_for, params_for
from abm.models import Job
from metrics.budget_lines import budget_line_create, budget_line_update
from metrics.models import BudgetLine, EngagementScore
from playbooks.visibility import playbooks_visible_to


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "An event sponsorship",
            value={
                "id": 19,
                "playbook": 12,
                "channel": "event",
                "date": "2026-10-14",
                "amount": "15000.00",
                "description": "SaaStr booth",
            },
        )
    ]
)
class BudgetLineSerializer(ConstraintCheckedSerializer):
    playbook = ScopedRelatedField(
        scope=playbooks_visible_to,
        noun="playbook",
        required=False,
        allow_null=True,
        help_text="The playbook the money was spent for (a line needs a playbook or a channel).",
    )

    class Meta:
        model = BudgetLine
        fields = ["id", "playbook", "channel", "date", "amount", "description"]

    def create(self, validated_data):
        return budget_line_create(values=validated_data, by=self.context["request"].user)

    def update(self, instance, validated_data):
        return budget_line_update(instance, values=validated_data, by=self.context["request"].user)

    def validate(self, attrs):
        playbook = attrs.get("playbook", getattr(self.instance, "playbook", None))
        channel = attrs.get("channel", getattr(self.instance, "channel", ""))
        # The database refuses it too; this says what to do about it.
        if playbook is None and not channel:
            raise serializers.ValidationError(
                {"channel": ["Say what the money was for: a channel, a playbook or both."]}
            )
        return super().validate(attrs)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A hot account",
            value={
                "account": 42,
                "score": 64.2,
                "by_channel": {"webinar": 38.5, "email": 25.7},
                "engaged_contacts": 3,
                "spike": True,
                "top_activities": [
                    {
                        "activity_id": 90211,
                        "kind": "webinar_attended",
                        "channel": "webinar",
                        "points": 18.4,
                    }
                ],
                "computed_at": "2026-11-22T02:00:00Z",
            },
        )
    ]
)
class EngagementScoreSerializer(serializers.ModelSerializer):
    by_channel = serializers.DictField(
        child=serializers.FloatField(), help_text="Decayed points per channel; they sum to score."
    )
    top_activities = serializers.ListField(
        child=serializers.DictField(),
        help_text='The touches that count most ("why hot"): activity_id, kind, channel, points.',
    )

    class Meta:
        model = EngagementScore
        fields = [
            "account",
            "score",
            "by_channel",
            "engaged_contacts",
            "spike",
            "top_activities",
            "computed_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A full recompute, queued",
            value={
                "id": 311,
                "kind": "full",
                "status": "queued",
                "phase": "",
                "percent": 0,
                "error": "",
                "params": {},
                "result": {},
                "requested_by": 5,
                "created_at": "2026-11-22T09:00:00Z",
                "started_at": None,
                "finished_at": None,
            },
        )
    ]
)
class MetricRunSerializer(serializers.ModelSerializer):
    error = serializers.SerializerMethodField(
        help_text="Why the run failed, in words for the reader; admins read the stored error."
    )
    params = serializers.SerializerMethodField(
        help_text="What the run was asked to do, without what names objects you may not see."
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "phase",
            "percent",
            "error",
            "params",
            "result",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _reader(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_error(self, run: Job) -> str:
        return error_for(run, self._reader())

    def get_params(self, run: Job) -> dict:
        return params_for(run, self._reader())
