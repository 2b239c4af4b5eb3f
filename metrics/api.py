"""Metrics API resources: spend lines, engagement scores and metric runs.

Rows come from metrics/visibility.py, as on the pages; the computed figures (attribution, ROI,
lift) are read-only reports in dashboards/api.py.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from abm.api_resources import ScopedReadOnlyViewSet, ScopedViewSet
from abm.api_schema import ErrorSerializer
from abm.models import Role
from abm.visibility import jobs_visible_to
from metrics.api_filters import (
    BudgetLineFilter,
    EngagementScoreFilter,
    MetricRunFilter,
)
from metrics.api_serializers import (
    BudgetLineSerializer,
    EngagementScoreSerializer,
    MetricRunSerializer,
)
from metrics.budget_lines import budget_line_delete
from metrics.engine.runner import recompute_enqueue
from metrics.figures_status import RECOMPUTE_ROLES
from metrics.visibility import (
    budget_lines_visible_to,
    engagement_scores_visible_to,
)

# Spend is entered by marketers, by directors (who own the budget, README "Demo logins") and admins.
SPEND_WRITERS = (Role.MARKETER, Role.DIRECTOR, Role.ADMIN)


@extend_schema_view(
    list=extend_schema(
        description="Budget lines: spend not recorded on activities (fees, sponsorships, ad "
        "budgets). Marketers, directors and admins read them; sales reps see none."
    ),
    retrieve=extend_schema(description="One budget line; 404 when you may not see it."),
    create=extend_schema(description="Add a budget line (marketers, directors and admins)."),
    update=extend_schema(description="Replace a budget line."),
    partial_update=extend_schema(description="Change some of a budget line's fields."),
    destroy=extend_schema(description="Delete a budget line."),
)
class BudgetLineViewSet(ScopedViewSet):
    scope = staticmethod(budget_lines_visible_to)
    serializer_class = BudgetLineSerializer
    filterset_class = BudgetLineFilter
    ordering_fields = ["date", "amount", "id"]
    ordering = ["-date", "id"]
    write_roles = SPEND_WRITERS

    # Writes go through metrics/budget_lines.py (the serializer's create and update call it).

    def perform_destroy(self, instance):
        budget_line_delete(instance, by=self.request.user)


@extend_schema_view(
    list=extend_schema(
        description="Engagement scores as of the last recompute (a rep: their own accounts), "
        "with the per-channel breakdown, the spike flag and the touches that count most."
    ),
    retrieve=extend_schema(description="The engagement score of one account (by account id)."),
)
class EngagementScoreViewSet(ScopedReadOnlyViewSet):
    scope = staticmethod(engagement_scores_visible_to)
    serializer_class = EngagementScoreSerializer
    filterset_class = EngagementScoreFilter
    ordering_fields = ["score", "engaged_contacts", "account"]
    ordering = ["-score", "account"]
    # A score's key is its account: /engagement-scores/<account id>/.
    lookup_field = "account"
    lookup_value_regex = r"\d+"


@extend_schema_view(
    list=extend_schema(
        description="Background jobs (recomputes, re-scores; imports for the roles that see "
        "every account), newest first, with their progress."
    ),
    retrieve=extend_schema(description="One run, for polling its progress."),
    create=extend_schema(
        request=None,
        responses={202: MetricRunSerializer, 403: ErrorSerializer},
        description="Start a full recompute of every metric (marketers, directors, admins). "
        "Answers 202 with the queued run; poll it until its status is done or failed.",
    ),
)
class MetricRunViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    scope = staticmethod(jobs_visible_to)
    serializer_class = MetricRunSerializer
    filterset_class = MetricRunFilter
    ordering_fields = ["created_at", "finished_at", "id"]
    ordering = ["-created_at", "-id"]
    write_roles = RECOMPUTE_ROLES

    def create(self, request, *args, **kwargs):
        run = recompute_enqueue(by=request.user)
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)
