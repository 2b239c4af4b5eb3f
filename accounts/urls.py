from django.urls import path

from accounts import (
    export_views,
    lead_views,
    opportunity_views,
    views,
)

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("bulk/", views.account_bulk, name="bulk"),
    path("export.csv", views.account_export, name="export"),
    path("export/contacts.csv", views.contacts_export, name="export_contacts"),
    path("export/opportunities.csv", views.opportunities_export, name="export_opportunities"),
    path("exports/<int:pk>/", export_views.export_job, name="export_job"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("opportunities/", opportunity_views.opportunity_list, name="opportunities"),
    path("opportunities.csv", opportunity_views.opportunity_list_csv, name="opportunities_csv"),
    path("leads/", lead_views.lead_list, name="leads"),
    path("leads.csv", lead_views.lead_list_csv, name="leads_csv"),
    path("icp/", views.icp_edit, name="icp"),
    path("tiering/", views.tiering, name="tiering"),
    path("runs/<int:pk>/", views.run_status, name="run_status"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/timeline.json", views.account_timeline_json, name="timeline_json"),
    path("<int:pk>/log/", views.account_log, name="log"),
    path("<int:pk>/assign/", views.account_assign_owner, name="assign"),
    path("<int:pk>/contacts.csv", views.account_contacts_export, name="contacts_csv"),
    path(
        "<int:pk>/opportunities.csv",
        views.account_opportunities_export,
        name="opportunities_csv",
    ),
]
