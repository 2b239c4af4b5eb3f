"""JSON API for playbook data: the activity ingestion batch."""

from django.conf import settings
from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from abm.api import TokenRateThrottle
from abm.api_errors import ApiError
from playbooks.ingestion import activities_ingest, ingest_allowed, json_type


class CanIngestActivities(BasePermission):
    message = (
        "Directors have read-only access; activities are sent by marketers, admins and sales "
        "reps (for their own accounts)."
    )

    def has_permission(self, request, view) -> bool:
        return ingest_allowed(request.user)


class ActivityBatchApi(APIView):
    """POST {"activities": [...]}: each item created, updated, unchanged or rejected with a reason.

    Idempotent by (source 'api', external_id). Bad items never fail the batch; only a body that
    is not such an object, or holds too many items, is a 400 and writes nothing.
    """

    permission_classes = [IsAuthenticated, CanIngestActivities]
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "ingestion"

    def post(self, request):
        _check_size(request)
        activities = _activities(request.data)
        result = activities_ingest(items=activities, by=request.user)
        return Response(result.as_dict(), status=status.HTTP_200_OK)


def _check_size(request) -> None:
    # DRF reads JSON from the stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE: check it here.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.ABM_API_BATCH_MAX_BYTES
    if length > limit:
        raise ApiError(
            code="too_large",
            message=f"The body is {length:,} bytes; a batch may be at most {limit:,} bytes. "
            "Send smaller batches.",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )


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
