from django.urls import path

from playbooks import builder_views, enrolment_views, task_views, views

app_name = "playbooks"
urlpatterns = [
    path("", views.playbook_list, name="list"),
    path("new/", views.playbook_new, name="new"),
    path("tasks/", task_views.task_list, name="tasks"),
    path("tasks/bulk/", task_views.task_bulk, name="task_bulk"),
    path("tasks/<int:pk>/complete/", task_views.task_complete_view, name="task_complete"),
    path("tasks/<int:pk>/skip/", task_views.task_skip_view, name="task_skip"),
    path("<int:pk>/", builder_views.playbook_detail, name="detail"),
    path("<int:pk>/details/", builder_views.playbook_details, name="details"),
    path("<int:pk>/audience/", builder_views.playbook_audience, name="audience"),
    path("<int:pk>/status/", builder_views.playbook_status, name="status"),
    path("<int:pk>/readiness/", builder_views.playbook_readiness, name="readiness"),
    path("<int:pk>/clone/", builder_views.playbook_clone, name="clone"),
    path("<int:pk>/cadence/", views.playbook_cadence, name="cadence"),
    path("<int:pk>/enrolments/", enrolment_views.playbook_enrolments, name="enrolments"),
    path("<int:pk>/enrol/", enrolment_views.playbook_enrol, name="enrol"),
    path(
        "<int:pk>/enrolments/<int:enrolment_pk>/unenrol/",
        enrolment_views.enrolment_unenrol,
        name="unenrol",
    ),
    path("<int:pk>/stages/add/", builder_views.stage_add, name="stage_add"),
    path("<int:pk>/stages/<int:stage_pk>/", builder_views.stage_update, name="stage_update"),
    path("<int:pk>/stages/<int:stage_pk>/move/", builder_views.stage_move, name="stage_move"),
    path("<int:pk>/stages/<int:stage_pk>/delete/", builder_views.stage_delete, name="stage_delete"),
    path("<int:pk>/stages/<int:stage_pk>/steps/new/", builder_views.step_new, name="step_new"),
    path(
        "<int:pk>/stages/<int:stage_pk>/steps/add/", builder_views.step_create, name="step_create"
    ),
    path(
        "<int:pk>/stages/<int:stage_pk>/steps/preview/",
        builder_views.step_new_preview,
        name="step_new_preview",
    ),
    path("<int:pk>/steps/<int:step_pk>/", builder_views.step_row, name="step_row"),
    path("<int:pk>/steps/<int:step_pk>/edit/", builder_views.step_edit, name="step_edit"),
    path("<int:pk>/steps/<int:step_pk>/save/", builder_views.step_save, name="step_save"),
    path("<int:pk>/steps/<int:step_pk>/move/", builder_views.step_move, name="step_move"),
    path("<int:pk>/steps/<int:step_pk>/delete/", builder_views.step_delete, name="step_delete"),
    path("<int:pk>/steps/<int:step_pk>/preview/", builder_views.step_preview, name="step_preview"),
]
