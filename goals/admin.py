from django.contrib import admin

from goals.models import Goal, GoalMilestone, Plan


class GoalMilestoneInline(admin.TabularInline):
    model = GoalMilestone
    extra = 0


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "team",
        "owner",
        "metric",
        "target",
        "current_value",
        "status",
        "start_date",
        "end_date",
    )
    list_filter = ("team", "metric", "status", "owner")
    search_fields = ("name",)
    autocomplete_fields = ("scope_playbook", "parent")
    list_select_related = ("owner",)
    readonly_fields = (
        "current_value",
        "expected_value",
        "status",
        "notified_status",
        "computed_at",
        "created_by",
        "created_at",
    )
    inlines = (GoalMilestoneInline,)


@admin.register(GoalMilestone)
class GoalMilestoneAdmin(admin.ModelAdmin):
    list_display = ("goal", "date", "value")
    search_fields = ("goal__name",)
    autocomplete_fields = ("goal",)
    list_select_related = ("goal",)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "target", "start_date", "end_date", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("created_by",)
    # A saved plan is a record of what was planned on its day: its figures are not edited here.
    readonly_fields = ("assumptions", "result", "created_by", "created_at", "goal")
