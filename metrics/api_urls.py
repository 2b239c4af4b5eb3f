from django.urls import path

from metrics import api_reports

app_name = "metrics_api"
urlpatterns = [
    path("metrics/attribution/", api_reports.AttributionApi.as_view(), name="attribution"),
    path(
        "metrics/attribution/opportunities/<int:pk>/",
        api_reports.OpportunityAttributionApi.as_view(),
        name="opportunity_attribution",
    ),
    path("metrics/roi/", api_reports.RoiApi.as_view(), name="roi"),
    path("metrics/lift/", api_reports.LiftApi.as_view(), name="lift"),
    path("metrics/holdout-lift/", api_reports.HoldoutLiftApi.as_view(), name="holdout_lift"),
]
