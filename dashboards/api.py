"""Read-only metric reports over the API: attribution, ROI, lift and holdout lift.

They read what the dashboards read (the stored rollups through ``rollup_sums`` and the pure
figures of dashboards/figures.py) with the dashboards' filters, so an API figure and the
dashboard's agree. Where a page drops a bad filter and says so, the API answers 400 naming it.
"""

from __future__ import annotations

import math
from collections import defaultdict

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from abm.api import TokenRateThrottle
from abm.api_errors import ApiError
from abm.api_resources import MAX_ID
from abm.api_schema import ErrorSerializer
from accounts.visibility import opportunities_visible_to
from dashboards import figures as fig
from dashboards.filters import (
    MAX_CUSTOM_MONTHS,
    MONTH_PATTERN,
    PRESETS,
    TIER_CHOICES,
    DashboardFilterForm,
    DashboardFilters,
    parse_filters,
)
from dashboards.panels import NO_PLAYBOOK, channel_label, unallocated_spend
from dashboards.rollup_reading import rollup_sums, snapshot_rows
from metrics import lift
from metrics.models import AttributionModel, ConversionKind
from metrics.visibility import attribution_credits_visible_to, markov_credits_visible_to
from playbooks.visibility import playbooks_visible_to

ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
GROUPS = {"channel": "channel", "playbook": "playbook_id"}
RATIOS = ("roi", "pipeline_ratio", "cost_per_opportunity", "cost_per_mqa")
FILTER_PARAMETERS = [
    OpenApiParameter(
        "preset",
        str,
        enum=list(PRESETS),
        description="Period, in whole UTC months (default last_12_months); custom takes start "
        "and end.",
    ),
    OpenApiParameter(
        "start",
        str,
        pattern=MONTH_PATTERN,
        description="First month of a custom period, YYYY-MM, at most "
        f"{MAX_CUSTOM_MONTHS // 12} years before end.",
    ),
    OpenApiParameter(
        "end", str, pattern=MONTH_PATTERN, description="Last month of a custom period, YYYY-MM."
    ),
    OpenApiParameter(
        "tier",
        str,
        enum=[value for value, _ in TIER_CHOICES if value],
        description="targets, a tier 1-3, or 0 for non-target accounts.",
    ),
    OpenApiParameter(
        "owner", ID_SCHEMA, description="Account owner's user id (ignored for sales reps)."
    ),
    OpenApiParameter("playbook", ID_SCHEMA, description="A playbook's id."),
    OpenApiParameter(
        "model",
        str,
        enum=AttributionModel.values,
        description="Attribution model (default w_shaped).",
    ),
]
GROUP_PARAMETER = OpenApiParameter(
    "group_by", str, enum=list(GROUPS), description="Rows per channel (default) or per playbook."
)
KIND_PARAMETER = OpenApiParameter(
    "kind",
    str,
    enum=ConversionKind.values,
    description="pipeline (opportunity created, default) or revenue (closed won).",
)
_LABELS = {
    field.label: name for name, field in DashboardFilterForm.base_fields.items() if field.label
}


class _GroupParams(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=list(GROUPS), default="channel")


class _AttributionParams(_GroupParams):
    kind = serializers.ChoiceField(choices=ConversionKind.values, default=ConversionKind.PIPELINE)


class _ReportView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "api"

    def filters(self, request) -> DashboardFilters:
        _refuse_what_pages_forgive(request.query_params)
        filters = parse_filters(request.query_params, user=request.user)
        if filters.problems:
            raise ApiError(
                code="invalid_parameter",
                message="Some query parameters are not valid: " + " ".join(filters.problems),
                fields=_problem_fields(filters.problems),
            )
        return filters

    params_class: type[serializers.Serializer] | None = None

    def own_params(self, request) -> dict:
        params = self.params_class(data=request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data


def _refuse_what_pages_forgive(params) -> None:
    """A page reads an empty choice as "any" and ignores a rep's owner filter; the API states
    its parameters' types, so it refuses both as a 400 naming the parameter."""
    fields: dict[str, list[str]] = {}
    for name in _TYPED_PARAMETERS:
        for value in params.getlist(name):
            if value == "":
                fields[name] = ["Give a value, or leave the parameter out."]
            elif name in _ID_PARAMETERS and not (
                value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID
            ):
                fields[name] = [f"Expected an id (a whole number from 1), got “{value[:30]}”."]
    if fields:
        raise ApiError(
            code="invalid_parameter",
            message="Some query parameters are not valid: "
            + " ".join(f"{name}: {problems[0]}" for name, problems in fields.items()),
            fields=fields,
        )


_ID_PARAMETERS = ("owner", "playbook")
# Start and end are YYYY-MM in the schema (dashboards.filters.MONTH_PATTERN): empty is no month.
_TYPED_PARAMETERS = ("preset", "tier", "model", "group_by", "kind", "start", "end", *_ID_PARAMETERS)


def _problem_fields(problems) -> dict[str, list[str]]:
    """The dashboard's problems by query parameter: each names its field by label."""
    fields: dict[str, list[str]] = {}
    for problem in problems:
        names = [name for label, name in _LABELS.items() if f"“{label}”" in problem]
        for name in names or ["non_field_errors"]:
            fields.setdefault(name, []).append(problem)
    return fields


def _period(filters: DashboardFilters) -> dict:
    return {"start": filters.first_day, "end": filters.last_day, "model": filters.model}


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _playbook_names(user, keys) -> dict[int, str]:
    ids = [int(k) for k in keys if k is not None and not _nan(k)]
    return dict(playbooks_visible_to(user).filter(pk__in=ids).values_list("pk", "name"))


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _key_label(group_by: str, key, names: dict) -> tuple[str | None, str]:
    if group_by == "channel":
        return str(key), channel_label(str(key))
    if key is None or _nan(key):
        return None, NO_PLAYBOOK
    pk = int(key)
    return str(pk), names.get(pk, f"Playbook {pk}")


class _PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day of the period.")
    end = serializers.DateField(help_text="Last day of the period.")
    model = serializers.ChoiceField(choices=AttributionModel.choices)


# --- Attribution --------------------------------------------------------------------------------


class AttributionRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True, help_text="The channel, or the playbook's id (null: no playbook)."
    )
    label = serializers.CharField()
    credit = serializers.FloatField(help_text="Attributed value (pipeline or revenue).")
    conversions = serializers.FloatField(help_text="Conversions credited (sum of weights).")


class AttributionSerializer(_PeriodSerializer):
    kind = serializers.ChoiceField(choices=ConversionKind.choices)
    group_by = serializers.ChoiceField(choices=list(GROUPS))
    rows = AttributionRowSerializer(many=True)


@extend_schema(
    parameters=[GROUP_PARAMETER, KIND_PARAMETER, *FILTER_PARAMETERS],
    responses={200: AttributionSerializer, 400: ErrorSerializer},
    description="Attributed pipeline or revenue per channel or playbook for one model, from the "
    "rollups of the last recompute (as the director's dashboard). A sales rep's figures count "
    "only their own accounts.",
    examples=[
        OpenApiExample(
            "Pipeline by channel",
            value={
                "start": "2025-12-01",
                "end": "2026-11-30",
                "model": "w_shaped",
                "kind": "pipeline",
                "group_by": "channel",
                "rows": [
                    {"key": "webinar", "label": "Webinar", "credit": 812000.0, "conversions": 9.3},
                    {"key": "email", "label": "Email", "credit": 455000.0, "conversions": 6.1},
                ],
            },
            response_only=True,
        )
    ],
)
class AttributionApi(_ReportView):
    params_class = _AttributionParams

    def get(self, request):
        params, filters = self.own_params(request), self.filters(request)
        group_by, kind = params["group_by"], params["kind"]
        key = GROUPS[group_by]
        sums = rollup_sums(
            request.user, filters, metrics=["credit"], by=[key], model=filters.model, kind=kind
        )
        sums = sums.sort_values(["value", key], ascending=[False, True], na_position="last")
        names = _playbook_names(request.user, sums[key]) if group_by == "playbook" else {}
        rows = []
        for row in sums.to_dict("records"):
            row_key, label = _key_label(group_by, row[key], names)
            rows.append(
                {
                    "key": row_key,
                    "label": label,
                    "credit": row["value"],
                    "conversions": row["count"],
                }
            )
        body = {**_period(filters), "kind": kind, "group_by": group_by, "rows": rows}
        return Response(AttributionSerializer(body).data)


class CreditPartSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    credit = serializers.FloatField()
    weight = serializers.FloatField(help_text="Share of the conversion's value.")
    touches = serializers.IntegerField()


class ModelCreditSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=AttributionModel.choices)
    kind = serializers.ChoiceField(choices=ConversionKind.choices)
    total = serializers.FloatField(help_text="The conversion's value the model shared out.")
    by_channel = CreditPartSerializer(many=True)
    by_playbook = CreditPartSerializer(many=True)


class OpportunityAttributionSerializer(serializers.Serializer):
    opportunity = serializers.IntegerField()
    account = serializers.IntegerField()
    credits = ModelCreditSerializer(many=True)


@extend_schema(
    responses={200: OpportunityAttributionSerializer, 404: ErrorSerializer},
    description="How each model shares one opportunity's pipeline and (once won) revenue over "
    "channels and playbooks, as of the last recompute; 404 for an opportunity you may not see.",
    examples=[
        OpenApiExample(
            "One deal, linear",
            value={
                "opportunity": 901,
                "account": 42,
                "credits": [
                    {
                        "model": "linear",
                        "kind": "pipeline",
                        "total": 120000.0,
                        "by_channel": [
                            {
                                "key": "email",
                                "label": "Email",
                                "credit": 80000.0,
                                "weight": 0.6667,
                                "touches": 2,
                            },
                            {
                                "key": "webinar",
                                "label": "Webinar",
                                "credit": 40000.0,
                                "weight": 0.3333,
                                "touches": 1,
                            },
                        ],
                        "by_playbook": [
                            {
                                "key": "12",
                                "label": "Tier 1 software land",
                                "credit": 120000.0,
                                "weight": 1.0,
                                "touches": 3,
                            }
                        ],
                    }
                ],
            },
            response_only=True,
        )
    ],
)
class OpportunityAttributionApi(_ReportView):
    def get(self, request, pk: int):
        user = request.user
        opportunity = get_object_or_404(opportunities_visible_to(user), pk=pk)
        # By account too: the credits' only index is (account, opportunity). Markov's are
        # derived from the linear rows where read (metrics.models.MarkovCredit).
        columns = ("model", "kind", "channel", "playbook_id", "credit", "weight", "touches")
        credits = sorted(
            (
                row
                for rows in (attribution_credits_visible_to(user), markov_credits_visible_to(user))
                for row in rows.filter(
                    account_id=opportunity.account_id, opportunity_id=opportunity.pk
                ).values_list(*columns)
            ),
            # No playbook last, as PostgreSQL orders NULLs.
            key=lambda r: (r[0], r[1], r[2], r[3] is None, r[3] or 0),
        )
        names = _playbook_names(user, {row[3] for row in credits})
        parts: dict = defaultdict(
            lambda: {"channel": defaultdict(list), "playbook": defaultdict(list)}
        )
        for model, kind, channel, playbook_id, credit, weight, touches in credits:
            part = (float(credit), weight, touches)
            parts[(model, kind)]["channel"][channel].append(part)
            parts[(model, kind)]["playbook"][playbook_id].append(part)
        body = {
            "opportunity": opportunity.pk,
            "account": opportunity.account_id,
            "credits": [
                {
                    "model": model,
                    "kind": kind,
                    "total": sum(sum(p[0] for p in ps) for ps in groups["channel"].values()),
                    "by_channel": _credit_parts("channel", groups["channel"], names),
                    "by_playbook": _credit_parts("playbook", groups["playbook"], names),
                }
                for (model, kind), groups in parts.items()
            ],
        }
        return Response(OpportunityAttributionSerializer(body).data)


def _credit_parts(group_by: str, grouped: dict, names: dict) -> list[dict]:
    rows = []
    for key, parts in grouped.items():
        row_key, label = _key_label(group_by, key, names)
        rows.append(
            {
                "key": row_key,
                "label": label,
                "credit": sum(p[0] for p in parts),
                "weight": sum(p[1] for p in parts),
                "touches": sum(p[2] for p in parts),
            }
        )
    return sorted(rows, key=lambda r: (-r["credit"], r["label"]))


# --- ROI ----------------------------------------------------------------------------------------


class RoiRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True,
        help_text="The channel (unallocated: budget on no channel), or the playbook's id "
        "(null: no playbook).",
    )
    label = serializers.CharField()
    pipeline = serializers.FloatField(help_text="Attributed pipeline.")
    revenue = serializers.FloatField(help_text="Attributed closed-won revenue.")
    spend = serializers.FloatField(help_text="Activity costs plus budget lines.")
    roi = serializers.FloatField(
        allow_null=True, help_text="(revenue - spend) / spend; null without spend."
    )
    pipeline_ratio = serializers.FloatField(
        allow_null=True, help_text="pipeline / spend; null without spend."
    )
    cost_per_opportunity = serializers.FloatField(
        allow_null=True,
        help_text="spend / opportunities credited (sum of pipeline weights); null without any.",
    )
    cost_per_mqa = serializers.FloatField(
        allow_null=True,
        help_text="spend / accounts that became mqa, credited over their touches; null without.",
    )


class RoiSerializer(_PeriodSerializer):
    group_by = serializers.ChoiceField(choices=list(GROUPS))
    rows = RoiRowSerializer(many=True)
    spend_on_no_account = serializers.FloatField(
        help_text="Budget in the period on no account (no activity cost on its playbook or "
        "channel that month). Rows include it without a tier or owner filter and leave it out "
        "under one, where each account's share of the other budget lines is in."
    )


@extend_schema(
    parameters=[GROUP_PARAMETER, *FILTER_PARAMETERS],
    responses={200: RoiSerializer, 400: ErrorSerializer},
    description="Pipeline, revenue, spend, ROI and pipeline ratio per channel or playbook for "
    'one attribution model (DOMAIN.md "Money"), biggest pipeline first.',
    examples=[
        OpenApiExample(
            "By channel",
            value={
                "start": "2025-12-01",
                "end": "2026-11-30",
                "model": "w_shaped",
                "group_by": "channel",
                "rows": [
                    {
                        "key": "event",
                        "label": "Event",
                        "pipeline": 900000.0,
                        "revenue": 300000.0,
                        "spend": 60000.0,
                        "roi": 4.0,
                        "pipeline_ratio": 15.0,
                        "cost_per_opportunity": 6000.0,
                        "cost_per_mqa": 2500.0,
                    }
                ],
                "spend_on_no_account": 0.0,
            },
            response_only=True,
        )
    ],
)
class RoiApi(_ReportView):
    params_class = _GroupParams

    def get(self, request):
        params, filters = self.own_params(request), self.filters(request)
        group_by, user = params["group_by"], request.user
        key = GROUPS[group_by]
        credit = rollup_sums(
            user, filters, metrics=["credit"], by=["kind", key], model=filters.model
        )
        # With the mqa sums by channel (an mqa account without touches is in no row), by tier
        # and playbook for the budget on no account.
        dims = sorted({key, "channel", "tier", "playbook_id"})
        spend = rollup_sums(user, filters, metrics=["spend", "mqa"], by=dims)
        by = fig.by_channel if group_by == "channel" else fig.by_playbook
        frame = by(credit, spend)
        names = _playbook_names(user, frame[key]) if group_by == "playbook" else {}
        rows = []
        for row in fig.records(frame):
            row_key, label = _key_label(group_by, row[key], names)
            rows.append(
                {
                    "key": row_key,
                    "label": label,
                    **{name: row[name] for name in ("pipeline", "revenue", "spend")},
                    **{name: _number(row[name]) for name in RATIOS},
                }
            )
        body = {
            **_period(filters),
            "group_by": group_by,
            "rows": rows,
            "spend_on_no_account": unallocated_spend(user, filters, spend),
        }
        return Response(RoiSerializer(body).data)


# --- Lift ---------------------------------------------------------------------------------------

MEASURES = ("accounts", *lift.SUMS, *lift.RATIOS)
SEGMENT_LABELS = {segment: label for segment, label, _ in fig.SEGMENT_ROWS}


def _serializer(name: str, fields: dict) -> type[serializers.Serializer]:
    # Built from the measure names of metrics/lift.py, so the schema lists what the figures hold.
    return type(name, (serializers.Serializer,), fields)


def _measures(names) -> dict:
    return {name: serializers.FloatField(allow_null=True) for name in names}


SegmentSerializer = _serializer(
    "LiftSegmentSerializer",
    {
        "segment": serializers.ChoiceField(choices=list(lift.SEGMENTS)),
        "label": serializers.CharField(),
        **_measures(MEASURES),
    },
)
ComparisonSerializer = _serializer(
    "LiftComparisonSerializer",
    {
        "comparison": serializers.ChoiceField(choices=list(lift.COMPARISONS)),
        "treatment": serializers.CharField(),
        "control": serializers.CharField(),
        **_measures(MEASURES),
    },
)


class LiftSerializer(_PeriodSerializer):
    segments = SegmentSerializer(many=True, help_text="Sums and ratios per segment.")
    lifts = ComparisonSerializer(
        many=True, help_text="treatment / control - 1 per measure; null from a zero control."
    )


@extend_schema(
    parameters=FILTER_PARAMETERS,
    responses={200: LiftSerializer, 400: ErrorSerializer},
    description="Target vs non-target accounts (and each tier, and engaged vs not engaged "
    "targets) for the opportunities created in the period: win rate, average deal, sales "
    "cycle, velocity, revenue per account, with the lift of each comparison. The tier filter "
    "does not apply: the report compares tiers.",
    examples=[
        OpenApiExample(
            "Targets win more often",
            value={
                "start": "2025-12-01",
                "end": "2026-11-30",
                "model": "w_shaped",
                "segments": [
                    {
                        "segment": "target",
                        "label": "Target accounts",
                        **dict.fromkeys(MEASURES, 1.0),
                        "win_rate": 0.32,
                    }
                ],
                "lifts": [
                    {
                        "comparison": "target_vs_non_target",
                        "treatment": "target",
                        "control": "non_target",
                        **dict.fromkeys(MEASURES, None),
                        "win_rate": 0.6,
                    }
                ],
            },
            response_only=True,
        )
    ],
)
class LiftApi(_ReportView):
    def get(self, request):
        filters, user = self.filters(request), request.user
        deals = rollup_sums(
            user, filters, metrics=fig.DEAL_METRICS, by=["tier", "segment"], tiers=False
        )
        accounts = rollup_sums(
            user, filters, metrics=["accounts"], by=["tier", "segment"], snapshot=True, tiers=False
        )
        sums = fig.segment_sums(deals, accounts)
        lifts = lift.lifts(sums)
        body = {
            **_period(filters),
            "segments": [
                {
                    "segment": segment,
                    "label": SEGMENT_LABELS[segment],
                    **{name: _number(sums.loc[segment, name]) for name in MEASURES},
                }
                for segment in lift.SEGMENTS
            ],
            "lifts": [
                {
                    "comparison": name,
                    "treatment": treatment,
                    "control": control,
                    **{measure: _number(lifts.loc[name, measure]) for measure in MEASURES},
                }
                for name, (treatment, control) in lift.COMPARISONS.items()
            ],
        }
        return Response(LiftSerializer(body).data)


# --- Holdout lift -------------------------------------------------------------------------------

HOLDOUT_MEASURES = tuple(
    f"{name}_{part}"
    for name in ("rate", "pipeline")
    for part in ("enrolled", "holdout", "diff", "ci_low", "ci_high", "p")
)


HoldoutRowSerializer = _serializer(
    "HoldoutRowSerializer",
    {
        "playbook": serializers.IntegerField(source="playbook_id"),
        "label": serializers.CharField(),
        "enrolled_accounts": serializers.IntegerField(),
        "holdout_accounts": serializers.IntegerField(),
        "enough_data": serializers.BooleanField(
            help_text="false below 30 accounts in a group: then no difference, no interval and "
            "no p-value (null), only each group's own rate and pipeline per account."
        ),
        "note": serializers.CharField(
            allow_null=True,
            help_text='"not enough data (n enrolled / m holdout)" when enough_data is false.',
        ),
        **_measures(HOLDOUT_MEASURES),
    },
)


class HoldoutSerializer(serializers.Serializer):
    rows = HoldoutRowSerializer(many=True)


@extend_schema(
    parameters=FILTER_PARAMETERS,
    responses={200: HoldoutSerializer, 400: ErrorSerializer},
    description="Per playbook, enrolled vs holdout accounts as of the last recompute: the rate "
    "of accounts with an opportunity after enrolment (rate_*) and pipeline per account "
    "(pipeline_*), with the difference, its 95 % interval and p-value. Only the playbook "
    "filter narrows it; sales reps see no rows (the groups span every rep's accounts).",
    examples=[
        OpenApiExample(
            "One playbook",
            value={
                "rows": [
                    {
                        "playbook": 12,
                        "label": "Tier 1 software land",
                        "enrolled_accounts": 180,
                        "holdout_accounts": 20,
                        "enough_data": False,
                        "note": "not enough data (180 enrolled / 20 holdout)",
                        **dict.fromkeys(HOLDOUT_MEASURES, None),
                        "rate_enrolled": 0.21,
                        "rate_holdout": 0.1,
                    }
                ]
            },
            response_only=True,
        )
    ],
)
class HoldoutLiftApi(_ReportView):
    def get(self, request):
        filters, user = self.filters(request), request.user
        rows = [
            lift.without_bare_estimates(row, settings.ABM_LIFT_MIN_GROUP)
            for row in snapshot_rows(user, metric="holdout", filters=filters)
        ]
        names = _playbook_names(user, [row["playbook_id"] for row in rows])
        body = {
            "rows": [
                {
                    **row,
                    "label": _key_label("playbook", row["playbook_id"], names)[1],
                    **{name: _number(row.get(name)) for name in HOLDOUT_MEASURES},
                }
                for row in rows
            ]
        }
        return Response(HoldoutSerializer(body).data)
