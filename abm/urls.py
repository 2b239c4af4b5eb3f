from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from abm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", views.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("playbooks/", include("playbooks.urls")),
    path("metrics/", include("metrics.urls")),
    path("admin/", admin.site.urls),
]
