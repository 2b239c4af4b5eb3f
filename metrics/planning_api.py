"""The planner over the API (issue #18): ``POST /api/plans/preview/`` computes a plan without
saving it; ``POST /api/plans/export/`` returns the same plan as CSV. Both read the history the
caller may see (a rep: their own accounts) through metrics/planning.py, as the plan page does."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from abm.api import TokenRateThrottle
from abm.api_errors import ApiError
from abm.api_fields import StrictFloatField
from abm.api_resources import MAX_ID, ScopedRelatedField
from abm.api_schema import ErrorSerializer
from abm.lib.channels import Channel
from metrics.engine.compute.planning import PLAN_STAGES, STEPS, PlanInputError
from metrics.models import AttributionModel, ConversionKind
from metrics.planning import preview_plan
from metrics.planning_output import STEP_FIELDS, STEP_OF_FIELD, plan_csv_response, plan_json
from playbooks.visibility import playbooks_visible_to

MAX_MONTHS = 36
MAX_MONEY = 1e12


def _rate_fields() -> dict:
    return {
        STEP_FIELDS[s]: StrictFloatField(
            required=False,
            min_value=0.0001,
            max_value=1.0,
            help_text=f"{s}, a fraction (0.25 = 25 %).",
        )
        for s in STEPS
    }


def _lag_fields() -> dict:
    return {
        STEP_FIELDS[s]: StrictFloatField(
            required=False, min_value=0.0, max_value=3650.0, help_text=f"{s}, median days."
        )
        for s in STEPS
    }


ConversionOverrides = type("PlanConversionOverrides", (serializers.Serializer,), _rate_fields())
LagOverrides = type("PlanLagOverrides", (serializers.Serializer,), _lag_fields())
ChannelMix = type(
    "PlanChannelMix",
    (serializers.Serializer,),
    {c: StrictFloatField(required=False, min_value=0.0, max_value=1.0) for c in Channel.values},
)


class PlanOverridesSerializer(serializers.Serializer):
    conversion = ConversionOverrides(
        required=False, help_text="Conversion rates to use instead of the measured ones."
    )
    lag_days = LagOverrides(required=False, help_text="Lags to use instead of the measured ones.")
    deal_size = StrictFloatField(required=False, min_value=0.01, max_value=MAX_MONEY)
    channel_mix = ChannelMix(
        required=False,
        help_text="Each channel's share of the opportunities needed (adding up to 1); replaces "
        "the measured mix whole.",
    )


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID, "nullable": True})
class _PlaybookField(ScopedRelatedField):
    """A playbook's id (optional): the plan rests on its enrolled accounts."""


class PlanRequestSerializer(serializers.Serializer):
    target = StrictFloatField(
        min_value=0.01, max_value=MAX_MONEY, help_text="Revenue won or pipeline to reach, in money."
    )
    kind = serializers.ChoiceField(
        choices=ConversionKind.choices, help_text="revenue (won) or pipeline."
    )
    start = serializers.DateField(help_text="First day of the period.")
    end = serializers.DateField(
        help_text=f"Last day of the period (after start, at most {MAX_MONTHS} months on)."
    )
    tiers = serializers.ListField(
        child=serializers.ChoiceField(choices=[1, 2, 3]),
        min_length=1,
        max_length=3,
        help_text="The tiers in scope (1 to 3).",
    )
    playbook = _PlaybookField(
        scope=playbooks_visible_to, noun="playbook", required=False, allow_null=True
    )
    model = serializers.ChoiceField(
        choices=AttributionModel.choices,
        default=AttributionModel.W_SHAPED,
        help_text="Attribution model for the cost per outcome by channel.",
    )
    overrides = PlanOverridesSerializer(required=False)

    def validate(self, data):
        start, end = data["start"], data["end"]
        if start >= end:
            raise serializers.ValidationError(
                {"end": ["A plan's period must end after it starts."]}
            )
        if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            raise serializers.ValidationError(
                {"end": [f"A plan's period spans at most {MAX_MONTHS} months."]}
            )
        return data


def overrides_from(data: dict | None) -> dict | None:
    """The API's overrides in the service's terms (step names as the compute package has them)."""
    if not data:
        return None
    out: dict = {}
    for key in ("conversion", "lag_days"):
        if data.get(key):
            out[key] = {STEP_OF_FIELD[f]: v for f, v in data[key].items()}
    if data.get("deal_size") is not None:
        out["deal_size"] = data["deal_size"]
    if data.get("channel_mix"):
        out["channel_mix"] = {c: v for c, v in data["channel_mix"].items() if v}
    return out


# --- Output (for the schema; the body is built by metrics/planning_output.py) --------------------


class PlanEstimateSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="10th percentile (80 % interval).")
    high = serializers.FloatField(allow_null=True, help_text="90th percentile (80 % interval).")
    accounts = serializers.IntegerField(help_text="Accounts the figure rests on.")
    fallback = serializers.BooleanField(help_text="Thin data: the all-tier figure stands in.")


def _per(names, field_factory, name: str):
    return type(name, (serializers.Serializer,), {n: field_factory() for n in names})


def _maybe_float():
    return serializers.FloatField(allow_null=True)


StageEstimates = _per(PLAN_STAGES, PlanEstimateSerializer, "PlanStageEstimates")
StageCounts = _per(PLAN_STAGES, serializers.IntegerField, "PlanStageCounts")
StepEstimates = _per(STEP_FIELDS.values(), PlanEstimateSerializer, "PlanStepEstimates")
StepFloats = _per(STEP_FIELDS.values(), _maybe_float, "PlanStepFigures")


class PlanMonthSerializer(_per(PLAN_STAGES, _maybe_float, "PlanMonthCounts")):
    month = serializers.DateField()


class PlanBudgetLineSerializer(serializers.Serializer):
    channel = serializers.CharField()
    amount = PlanEstimateSerializer()
    cost_per_opportunity = serializers.FloatField(allow_null=True)
    return_per_dollar = serializers.FloatField(allow_null=True)


class PlanAssumptionsSerializer(serializers.Serializer):
    conversion = StepFloats()
    lag_days = StepFloats()
    deal_size = serializers.FloatField(allow_null=True)
    channel_mix = serializers.DictField(child=serializers.FloatField(allow_null=True))


class PlanRatesSerializer(serializers.Serializer):
    conversion = StepEstimates()
    lag_days = StepEstimates()
    deal_size = PlanEstimateSerializer()


class PlanChannelCostSerializer(serializers.Serializer):
    channel = serializers.CharField()
    spend = serializers.FloatField(allow_null=True)
    engaged = serializers.FloatField(allow_null=True)
    mqa = serializers.FloatField(allow_null=True)
    opportunities = serializers.FloatField(allow_null=True)
    won_revenue = serializers.FloatField(allow_null=True)
    cost_per_engaged = serializers.FloatField(allow_null=True)
    cost_per_mqa = serializers.FloatField(allow_null=True)
    cost_per_opportunity = serializers.FloatField(allow_null=True)
    return_per_dollar = serializers.FloatField(allow_null=True)


class PlanSerializer(serializers.Serializer):
    target = serializers.FloatField()
    kind = serializers.ChoiceField(choices=ConversionKind.choices)
    needed = StageEstimates(help_text="Accounts, deals and opportunities needed per stage.")
    by_month = PlanMonthSerializer(many=True, help_text="What must be reached in each month.")
    budget = PlanBudgetLineSerializer(many=True, help_text="Best marginal return first.")
    total_budget = PlanEstimateSerializer()
    gap = StageCounts(help_text="Accounts missing per stage: needed minus the pool.")
    pool = StageCounts(help_text="Targets in scope that have not yet passed each stage.")
    assumptions = PlanAssumptionsSerializer()
    rates = PlanRatesSerializer(help_text="The rates measured on the history in scope.")
    channels = PlanChannelCostSerializer(many=True)


def requested_preview(request, data: dict | None = None):
    """The plan for the request's body (PlanRequestSerializer, or the already validated
    ``data``), over the history the caller may see; a 400 in the user's words when it cannot be
    planned."""
    if data is None:
        params = PlanRequestSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        data = params.validated_data
    try:
        return preview_plan(
            user=request.user,
            target=data["target"],
            kind=data["kind"],
            start=data["start"],
            end=data["end"],
            tiers=tuple(data["tiers"]),
            playbook=data.get("playbook"),
            model=data["model"],
            overrides=overrides_from(data.get("overrides")),
        )
    except PlanInputError as error:
        raise ApiError(code="plan_not_possible", message=str(error)) from error


class _PlanView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "api"


PLAN_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class PlanPreviewApi(_PlanView):
    @extend_schema(
        request=PlanRequestSerializer,
        responses={200: PlanSerializer, **PLAN_ERRORS},
        description="The reverse-funnel plan for a revenue or pipeline target over a period "
        "(computed, not saved): the accounts, mqa, opportunities and won deals needed, by month "
        "shifted back by the lags, the budget by channel at today's cost per opportunity, the "
        "account gap, and the rates it rests on, every figure with its 80 % range.",
    )
    def post(self, request):
        return Response(PlanSerializer(plan_json(requested_preview(request))).data)


class PlanExportApi(_PlanView):
    @extend_schema(
        request=PlanRequestSerializer,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The plan as CSV."),
            **PLAN_ERRORS,
        },
        description="The same plan as a CSV file: one row per figure with its range.",
    )
    def post(self, request):
        return plan_csv_response(requested_preview(request))
