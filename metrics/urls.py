from django.urls import path

from metrics import views

app_name = "metrics"
urlpatterns = [
    path("", views.dashboard, name="dashboards"),
    path("goals/", views.goal_list, name="goals"),
    path("recompute/", views.recompute, name="recompute"),
]
