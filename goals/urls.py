from django.urls import path

from goals import views

# Under /metrics/goals/ (abm/urls.py), where the goal pages were before goals had an app.
app_name = "goals"
urlpatterns = [
    path("", views.goal_list, name="goals"),
    path("new/", views.goal_create, name="goal_create"),
    path("check/", views.goal_check, name="goal_check"),
    path("<int:pk>/", views.goal_detail, name="goal_detail"),
    path("<int:pk>/edit/", views.goal_edit, name="goal_edit"),
    path("<int:pk>/parts/new/", views.goal_create_part, name="goal_create_part"),
    path("<int:pk>/delete/", views.goal_delete_view, name="goal_delete"),
]
