from django.urls import path

from dashboards import api as reports

app_name = "dashboards_api"
urlpatterns = [
    path("metrics/attribution/", reports.AttributionApi.as_view(), name="attribution"),
    path(
        "metrics/attribution/opportunities/<int:pk>/",
        reports.OpportunityAttributionApi.as_view(),
        name="opportunity_attribution",
    ),
    path("metrics/roi/", reports.RoiApi.as_view(), name="roi"),
    path("metrics/lift/", reports.LiftApi.as_view(), name="lift"),
    path("metrics/holdout-lift/", reports.HoldoutLiftApi.as_view(), name="holdout_lift"),
]
