from django.urls import path

from abm import export_views, job_views

# Part of the "accounts" URL namespace (abm/urls.py), under /accounts/, where these jobs started.
urlpatterns = [
    path("runs/<int:pk>/", job_views.run_status, name="run_status"),
    path("exports/<int:pk>/", export_views.export_job, name="export_job"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
]
