from django.urls import path

from playbooks import task_views, views

app_name = "playbooks"
urlpatterns = [
    path("", views.playbook_list, name="list"),
    path("new/", views.playbook_new, name="new"),
    path("tasks/", task_views.task_list, name="tasks"),
    path("tasks/bulk/", task_views.task_bulk, name="task_bulk"),
    path("tasks/<int:pk>/complete/", task_views.task_complete_view, name="task_complete"),
    path("tasks/<int:pk>/skip/", task_views.task_skip_view, name="task_skip"),
    path("<int:pk>/", views.playbook_detail, name="detail"),
    path("<int:pk>/details/", views.playbook_details, name="details"),
    path("<int:pk>/audience/", views.playbook_audience, name="audience"),
    path("<int:pk>/status/", views.playbook_status, name="status"),
    path("<int:pk>/readiness/", views.playbook_readiness, name="readiness"),
    path("<int:pk>/clone/", views.playbook_clone, name="clone"),
    path("<int:pk>/cadence/", views.playbook_cadence, name="cadence"),
    path("<int:pk>/enrolments/", views.playbook_enrolments, name="enrolments"),
    path("<int:pk>/enrol/", views.playbook_enrol, name="enrol"),
    path(
        "<int:pk>/enrolments/<int:enrolment_pk>/unenrol/",
        views.enrolment_unenrol,
        name="unenrol",
    ),
    path("<int:pk>/stages/add/", views.stage_add, name="stage_add"),
    path("<int:pk>/stages/<int:stage_pk>/", views.stage_update, name="stage_update"),
    path("<int:pk>/stages/<int:stage_pk>/move/", views.stage_move, name="stage_move"),
    path("<int:pk>/stages/<int:stage_pk>/delete/", views.stage_delete, name="stage_delete"),
    path("<int:pk>/stages/<int:stage_pk>/steps/add/", views.step_add, name="step_add"),
    path("<int:pk>/steps/<int:step_pk>/", views.step_row, name="step_row"),
    path("<int:pk>/steps/<int:step_pk>/edit/", views.step_edit, name="step_edit"),
    path("<int:pk>/steps/<int:step_pk>/save/", views.step_save, name="step_save"),
    path("<int:pk>/steps/<int:step_pk>/move/", views.step_move, name="step_move"),
    path("<int:pk>/steps/<int:step_pk>/delete/", views.step_delete, name="step_delete"),
    path("<int:pk>/steps/<int:step_pk>/preview/", views.step_preview, name="step_preview"),
]
