from django.urls import path

from goals import plan_views

# Under /metrics/plans/ (abm/urls.py), beside the goals a plan turns into.
app_name = "plans"
urlpatterns = [
    path("", plan_views.planner, name="plans"),
    path("save/", plan_views.planner_save, name="plan_save"),
    path("export/", plan_views.planner_export, name="plan_export"),
    path("<int:pk>/", plan_views.plan_detail, name="plan_detail"),
    path("<int:pk>/export/", plan_views.plan_export, name="saved_plan_export"),
    path("<int:pk>/goals/", plan_views.plan_goals, name="plan_goals"),
    path("<int:pk>/budgets/", plan_views.plan_budgets, name="plan_budgets"),
]
