"""Every API endpoint under /api/, the OpenAPI schema and its documentation pages."""

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from accounts import api as accounts_api
from goals import api as goals_api
from goals import plan_api
from ingestion import api as ingestion_api
from metrics import api as metrics_api
from playbooks import api as playbooks_api

router = SimpleRouter()
router.register("accounts", accounts_api.AccountViewSet, basename="account")
router.register("contacts", accounts_api.ContactViewSet, basename="contact")
router.register("opportunities", accounts_api.OpportunityViewSet, basename="opportunity")
router.register("leads", accounts_api.LeadViewSet, basename="lead")
router.register("playbooks", playbooks_api.PlaybookViewSet, basename="playbook")
router.register("stages", playbooks_api.StageViewSet, basename="stage")
router.register("steps", playbooks_api.StepViewSet, basename="step")
router.register("enrolments", playbooks_api.EnrolmentViewSet, basename="enrolment")
router.register("tasks", playbooks_api.TaskViewSet, basename="task")
router.register("activities", ingestion_api.ActivityViewSet, basename="activity")
router.register("goals", goals_api.GoalViewSet, basename="goal")
router.register("plans", plan_api.PlanViewSet, basename="plan")
router.register("spend", metrics_api.BudgetLineViewSet, basename="budget-line")
router.register(
    "metrics/engagement-scores", metrics_api.EngagementScoreViewSet, basename="engagement-score"
)
router.register("metric-runs", metrics_api.MetricRunViewSet, basename="metric-run")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as its own URL (?script), so the page
    # runs under our Content-Security-Policy without inline scripts.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
    # Before the router: its activities/<pk>/ must not read "batch" as an id.
    path("", include("ingestion.api_urls")),
    path("", include("dashboards.api_urls")),
    # Before the router too, should plans/ ever be a resource of it.
    path("", include("metrics.api_urls")),
    path("", include(router.urls)),
]
