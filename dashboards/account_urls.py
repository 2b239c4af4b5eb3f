from django.urls import path

from dashboards import account_views, opportunity_views

# Part of the "accounts" URL namespace (abm/urls.py), under /accounts/.
urlpatterns = [
    path("", account_views.account_list, name="list"),
    path("bulk/", account_views.account_bulk, name="bulk"),
    path("export.csv", account_views.account_export, name="export"),
    path("export/contacts.csv", account_views.contacts_export, name="export_contacts"),
    path(
        "export/opportunities.csv", account_views.opportunities_export, name="export_opportunities"
    ),
    path("opportunities/", opportunity_views.opportunity_list, name="opportunities"),
    path("opportunities.csv", opportunity_views.opportunity_list_csv, name="opportunities_csv"),
    path("<int:pk>/", account_views.account_detail, name="detail"),
    path("<int:pk>/timeline.json", account_views.account_timeline_json, name="timeline_json"),
    path("<int:pk>/log/", account_views.account_log, name="log"),
    path("<int:pk>/assign/", account_views.account_assign_owner, name="assign"),
    path("<int:pk>/contacts.csv", account_views.account_contacts_export, name="contacts_csv"),
    path(
        "<int:pk>/opportunities.csv",
        account_views.account_opportunities_export,
        name="opportunities_csv",
    ),
]
