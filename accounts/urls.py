from django.urls import path

from accounts import lead_views, views

# The "accounts" URL namespace is assembled in abm/urls.py from these, the job pages of
# abm/job_urls.py and the account pages of dashboards/account_urls.py (those read
# engagement, enrolments and figures from higher layers).
urlpatterns = [
    path("leads/", lead_views.lead_list, name="leads"),
    path("leads.csv", lead_views.lead_list_csv, name="leads_csv"),
    path("icp/", views.icp_edit, name="icp"),
    path("tiering/", views.tiering, name="tiering"),
]
