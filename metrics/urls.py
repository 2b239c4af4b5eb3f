from django.urls import path

from metrics import touch_rule_views, views

app_name = "metrics"
urlpatterns = [
    path("touch-rules/", touch_rule_views.touch_rules, name="touch_rules"),
    path("recompute/", views.recompute, name="recompute"),
    path("status/", views.status, name="status"),
]
