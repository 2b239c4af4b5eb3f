from django.urls import path

from ingestion import api

app_name = "ingestion_api"
urlpatterns = [
    path("activities/batch/", api.ActivityBatchApi.as_view(), name="activity_batch"),
]
