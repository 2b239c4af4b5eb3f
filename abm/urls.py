from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from abm import audit_views, job_urls, views
from abm.api_errors import api_not_found
from accounts import urls as accounts_urls
from dashboards import account_urls

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", views.health, name="health"),
    # Pages without our <link rel="icon"> (Django admin, the API docs) make browsers ask here.
    path("favicon.ico", views.favicon),
    path("settings/tokens/", views.tokens, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("settings/audit/", audit_views.audit_log, name="audit"),
    path("api/", include("abm.api_urls")),
    re_path(r"^api/", api_not_found),
    path("accounts/", include("ingestion.urls")),
    # One namespace for the account pages, whichever layer serves them.
    path(
        "accounts/",
        include(
            (
                account_urls.urlpatterns + accounts_urls.urlpatterns + job_urls.urlpatterns,
                "accounts",
            )
        ),
    ),
    path("playbooks/", include("playbooks.urls")),
    path("metrics/goals/", include("goals.urls")),
    path("metrics/plans/", include("goals.plan_urls")),
    path("metrics/", include("dashboards.urls")),
    path("metrics/", include("metrics.urls")),
    path("admin/", admin.site.urls),
]
