from django.urls import path

from ingestion import activity_views, import_views

# Under /accounts/ (root urls), beside the account pages the imports and activities feed.
app_name = "ingestion"
urlpatterns = [
    path("activities/", activity_views.activity_list, name="activities"),
    path("activities.csv", activity_views.activity_list_csv, name="activities_csv"),
    path("import/", import_views.import_upload, name="import"),
    path("import/<int:pk>/", import_views.import_job_detail, name="import_job"),
    path("import/<int:pk>/rejects.csv", import_views.import_job_rejects, name="import_rejects"),
]
