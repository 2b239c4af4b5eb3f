"""Saved plans over the API (issue #18): the plan pages' list, save, goals and budgets.

Rows come from goals/plans.py ``plans_visible_to`` (a rep sees none: 404 on one, an empty list);
saving, making goals and setting budgets are for directors and admins, through the same services
as the pages. A saved plan's ``plan`` is the JSON ``POST /api/plans/preview/`` answers, as it
stood the day it was saved; its CSV is the one the preview's export would have given.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from abm.api_errors import ApiError
from abm.api_resources import ScopedReadOnlyViewSet, service_errors
from abm.api_schema import ErrorSerializer
from goals.models import Plan
from goals.plan_budgets import plan_set_budgets
from goals.plan_goals import PlanGoalsError, plan_create_goals
from goals.plans import can_save_plans, plan_save_asked, plans_visible_to
from metrics.planning_api import PLAN_ERRORS, PlanRequestSerializer, PlanSerializer
from metrics.planning_api import requested_preview as _preview
from metrics.planning_output import plan_csv_response, plan_json, preview_from_json


class PlanPermission(BasePermission):
    message = "Directors and admins save plans and turn them into goals and budgets."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return bool(user and user.is_authenticated)
        return can_save_plans(user)


class SavedPlanSummarySerializer(serializers.ModelSerializer):
    """A saved plan in a list: what was asked, by whom and when, without its figures."""

    created_by = serializers.SerializerMethodField(help_text="Who saved it, by name.")
    target = serializers.FloatField()
    start = serializers.DateField(source="start_date")
    end = serializers.DateField(source="end_date")
    tiers = serializers.ListField(child=serializers.IntegerField())
    playbook = serializers.IntegerField(source="playbook_id", allow_null=True)
    model = serializers.CharField(source="attribution_model")
    goal = serializers.IntegerField(
        source="goal_id", allow_null=True, help_text="The parent goal made from it, once made."
    )

    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "created_by",
            "created_at",
            "target",
            "kind",
            "start",
            "end",
            "tiers",
            "playbook",
            "model",
            "goal",
        ]

    def get_created_by(self, plan) -> str:
        person = plan.created_by
        return (person.get_full_name() or person.username) if person else ""


class SavedPlanSerializer(SavedPlanSummarySerializer):
    plan = PlanSerializer(source="result", help_text="The plan as it stood when saved.")

    class Meta(SavedPlanSummarySerializer.Meta):
        fields = [*SavedPlanSummarySerializer.Meta.fields, "plan"]


class PlanSaveSerializer(PlanRequestSerializer):
    name = serializers.CharField(max_length=200, help_text="What the plan is called.")


def _people():
    return get_user_model().objects.filter(is_active=True)


class PlanGoalOwnersSerializer(serializers.Serializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=_people(), help_text="Owner of the plan's outcome goal (revenue or pipeline)."
    )
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=_people(), help_text="Owner of the opportunities goal."
    )
    mqa = serializers.PrimaryKeyRelatedField(
        queryset=_people(), help_text="Owner of the MQA accounts goal."
    )
    engaged = serializers.PrimaryKeyRelatedField(
        queryset=_people(), help_text="Owner of the engaged accounts goal."
    )


class PlanGoalsMadeSerializer(serializers.Serializer):
    goal = serializers.IntegerField(help_text="The parent goal; the others are its parts.")


class PlanBudgetsSetSerializer(serializers.Serializer):
    changed = serializers.ListField(
        child=serializers.IntegerField(), help_text="The playbooks whose budget changed."
    )


_NOT_FOUND = {404: ErrorSerializer}


@extend_schema_view(
    list=extend_schema(
        description="The saved plans, newest first, without their figures (read one for its "
        "plan). Directors, marketers and admins; a sales rep sees none.",
        responses=SavedPlanSummarySerializer(many=True),
    ),
    retrieve=extend_schema(
        description="One saved plan with the plan as it stood the day it was saved.",
        responses={200: SavedPlanSerializer, **_NOT_FOUND},
    ),
)
class PlanViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    scope = staticmethod(lambda user: plans_visible_to(user).select_related("created_by"))
    serializer_class = SavedPlanSerializer
    permission_classes = [PlanPermission]
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        # A list of plans without each plan's figures: those are read one plan at a time.
        return SavedPlanSummarySerializer if self.action == "list" else SavedPlanSerializer

    @extend_schema(
        request=PlanSaveSerializer,
        responses={201: SavedPlanSerializer, **PLAN_ERRORS},
        description="Compute the plan for the body (as `POST /api/plans/preview/` does, with "
        "its overrides) and save it with its name, assumptions and today's figures.",
    )
    def create(self, request, *args, **kwargs):
        body = PlanSaveSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        preview = _preview(request, data)
        plan = plan_save_asked(by=request.user, asked=data, result=plan_json(preview))
        return Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The plan as CSV."),
            **_NOT_FOUND,
        },
        description="The saved plan as CSV: one row per figure with its range, as when saved.",
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        plan = self.get_object()
        return plan_csv_response(preview_from_json(plan.result), filename=f"plan-{plan.pk}.csv")

    @extend_schema(
        request=PlanGoalOwnersSerializer,
        responses={201: PlanGoalsMadeSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
        description="Turn the plan into SMART goals: a parent on its outcome and children for "
        "opportunities, MQA and engaged accounts with monthly milestones, owners as given. All "
        "pass the SMART check or none is made (400 naming the goal and the rule); once per plan.",
    )
    @action(detail=True, methods=["post"])
    def goals(self, request, pk=None):
        plan = self.get_object()
        owners = PlanGoalOwnersSerializer(data=request.data)
        owners.is_valid(raise_exception=True)
        try:
            parent = plan_create_goals(plan=plan, owners=owners.validated_data, by=request.user)
        except PlanGoalsError as error:
            raise ApiError(code="goals_not_made", message=" ".join(error.messages)) from error
        return Response({"goal": parent.pk}, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: PlanBudgetsSetSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
        description="Set the budgets the plan proposes on the playbooks in its scope (its "
        "channel budget split by their share of each channel's spend). Sending it again "
        "changes nothing.",
    )
    @action(detail=True, methods=["post"])
    def budgets(self, request, pk=None):
        plan = self.get_object()
        with service_errors():
            changed = plan_set_budgets(plan=plan, by=request.user)
        return Response({"changed": [playbook.pk for playbook in changed]})
