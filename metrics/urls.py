from django.urls import path

from metrics import goal_views, touch_rule_views, views

app_name = "metrics"
urlpatterns = [
    path("goals/", goal_views.goal_list, name="goals"),
    path("goals/new/", goal_views.goal_create, name="goal_create"),
    path("goals/check/", goal_views.goal_check, name="goal_check"),
    path("goals/<int:pk>/", goal_views.goal_detail, name="goal_detail"),
    path("goals/<int:pk>/edit/", goal_views.goal_edit, name="goal_edit"),
    path("goals/<int:pk>/parts/new/", goal_views.goal_create_part, name="goal_create_part"),
    path("goals/<int:pk>/delete/", goal_views.goal_delete_view, name="goal_delete"),
    path("touch-rules/", touch_rule_views.touch_rules, name="touch_rules"),
    path("recompute/", views.recompute, name="recompute"),
    path("status/", views.status, name="status"),
]
