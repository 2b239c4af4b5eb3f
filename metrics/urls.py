from django.urls import path

from metrics import dashboard_views, spend_views, touch_rule_views, views

app_name = "metrics"
urlpatterns = [
    path("", dashboard_views.dashboard_home, name="dashboards"),
    path("director/", dashboard_views.director, name="director"),
    path("marketer/", dashboard_views.marketer, name="marketer"),
    path("sales/", dashboard_views.sales, name="sales"),
    path("spend/", spend_views.spend_list, name="spend"),
    path("touch-rules/", touch_rule_views.touch_rules, name="touch_rules"),
    path("recompute/", views.recompute, name="recompute"),
    path("status/", views.status, name="status"),
]
