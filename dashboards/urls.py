from django.urls import path

from dashboards import spend_views, views

# Under /metrics/ (root urls), where the dashboards have always been.
app_name = "dashboards"
urlpatterns = [
    path("", views.dashboard_home, name="dashboards"),
    path("director/", views.director, name="director"),
    path("marketer/", views.marketer, name="marketer"),
    path("sales/", views.sales, name="sales"),
    path("spend/", spend_views.spend_list, name="spend"),
]
