from django.urls import path

from metrics import planning_api

app_name = "metrics_api"
urlpatterns = [
    path("plans/preview/", planning_api.PlanPreviewApi.as_view(), name="plan_preview"),
    path("plans/export/", planning_api.PlanExportApi.as_view(), name="plan_export"),
]
