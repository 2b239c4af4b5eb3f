"""The activity API: the ingestion batch (POST /api/activities/batch/) and the activities a user
may read. Rows come from playbooks/visibility.py; writes go through ingestion/api_batches.py."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from abm.api import TokenRateThrottle
from abm.api_errors import ApiError
from abm.api_resources import ScopedReadOnlyViewSet
from abm.api_schema import ErrorSerializer
from ingestion.api_batches import activities_ingest, ingest_allowed, json_type
from playbooks.api_serializers import ActivitySerializer
from playbooks.filtersets import ActivityFilterSet
from playbooks.visibility import activities_visible_to


class CanIngestActivities(BasePermission):
    message = (
        "Directors have read-only access; activities are sent by marketers, admins and sales "
        "reps (for their own accounts)."
    )

    def has_permission(self, request, view) -> bool:
        return ingest_allowed(request.user)


class _BatchItemResult(serializers.Serializer):
    index = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(["created", "updated", "unchanged", "rejected"])
    reason = serializers.CharField(required=False)


class _BatchResult(serializers.Serializer):
    totals = serializers.DictField(child=serializers.IntegerField())
    items = _BatchItemResult(many=True)


# The body as the batch reads it (``_activities``): any field but ``activities`` is refused, so the
# schema says so (``additionalProperties``), or clients and fuzzers would take extras as allowed.
_BATCH_REQUEST = {
    "type": "object",
    "properties": {
        "activities": {
            "type": "array",
            "items": {"type": "object", "additionalProperties": {}},
            "description": "Activities: external_id, account (its external_id or domain), kind, "
            "channel, occurred_at, and optionally contact (email or external_id), direction, "
            "cost, duration_minutes, notes.",
        }
    },
    "required": ["activities"],
    "additionalProperties": False,
}


@extend_schema(
    request={"application/json": _BATCH_REQUEST},
    responses={200: _BatchResult, 400: ErrorSerializer, 413: ErrorSerializer},
    examples=[
        OpenApiExample(
            "Two web visits",
            request_only=True,
            value={
                "activities": [
                    {
                        "external_id": "web-2026-11-22-001",
                        "account": "acme.com",
                        "contact": "ada.ng@acme.com",
                        "kind": "web_visit",
                        "channel": "content",
                        "occurred_at": "2026-11-22T09:14:00Z",
                    },
                    {
                        "external_id": "web-2026-11-22-002",
                        "account": "0015g00000XyZ12",
                        "kind": "form_fill",
                        "channel": "web_personalisation",
                        "occurred_at": "2026-11-22T09:20:00Z",
                    },
                ]
            },
        ),
        OpenApiExample(
            "One created, one rejected",
            response_only=True,
            value={
                "totals": {
                    "received": 2,
                    "created": 1,
                    "updated": 0,
                    "unchanged": 0,
                    "rejected": 1,
                },
                "items": [
                    {"index": 0, "external_id": "web-2026-11-22-001", "status": "created"},
                    {
                        "index": 1,
                        "external_id": "web-2026-11-22-002",
                        "status": "rejected",
                        "reason": "account not found",
                    },
                ],
            },
        ),
    ],
)
class ActivityBatchApi(APIView):
    """POST {"activities": [...]}: each item created, updated, unchanged or rejected with a reason.

    Idempotent by (source 'api', external_id). Bad items never fail the batch; only a body that
    is not such an object, or holds too many items, is a 400 and writes nothing.
    """

    permission_classes = [IsAuthenticated, CanIngestActivities]
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "ingestion"
    max_body_setting = "ABM_API_BATCH_MAX_BYTES"

    def post(self, request):
        activities = _activities(request.data)
        result = activities_ingest(items=activities, by=request.user)
        return Response(result.as_dict(), status=status.HTTP_200_OK)


def _activities(data) -> list:
    example = 'Send a JSON object such as {"activities": [{"external_id": "...", ...}]}.'
    if not isinstance(data, dict):
        raise ApiError(
            code="invalid_body",
            message=f"The body must be a JSON object, not {json_type(data)}. {example}",
        )
    unknown = sorted(name for name in data if name != "activities")
    fields = {name: ["Unknown field; the body has only 'activities'."] for name in unknown}
    if "activities" not in data:
        fields["activities"] = ["This field is required."]
    elif not isinstance(data["activities"], list):
        fields["activities"] = [
            f"Must be a list of activities, not {json_type(data['activities'])}."
        ]
    if fields:
        message = fields["activities"][0] if list(fields) == ["activities"] else example
        raise ApiError(code="invalid_body", message=message, fields=fields)
    activities = data["activities"]
    limit = settings.ABM_API_BATCH_MAX_ITEMS
    if len(activities) > limit:
        message = (
            f"A batch holds at most {limit:,} activities; this one has {len(activities):,}. "
            "Nothing was saved: split it into smaller batches."
        )
        raise ApiError(code="too_many_items", message=message, fields={"activities": [message]})
    return activities


# --- Playbooks, stages, steps --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="The activities you may see (a rep: those of their own accounts), filtered "
        "and paginated, newest first. Send new ones to POST /api/activities/batch/."
    ),
    retrieve=extend_schema(description="One activity; 404 when you may not see it."),
)
class ActivityViewSet(ScopedReadOnlyViewSet):
    scope = staticmethod(activities_visible_to)
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    ordering_fields = ["occurred_at", "created_at", "id"]
    ordering = ["-occurred_at", "-id"]
    # Ids are numbers, so "activities/batch/" can never be read as an activity's address.
    lookup_value_regex = r"\d+"
