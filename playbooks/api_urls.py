from django.urls import path

from playbooks import api

app_name = "playbooks_api"
urlpatterns = [
    path("activities/batch/", api.ActivityBatchApi.as_view(), name="activity_batch"),
]
