from django.contrib import admin

from playbooks.models import (
    Activity,
    Enrolment,
    EnrolmentStageChange,
    Playbook,
    Stage,
    Step,
    Task,
)


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ("order", "name", "exit_stage")
    show_change_link = True


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "status",
        "owner",
        "budget",
        "holdout_share",
        "is_starter",
        "updated_at",
    )
    list_filter = ("status", "is_starter", "owner")
    search_fields = ("name", "objective")
    autocomplete_fields = ("goal",)
    list_select_related = ("owner",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (StageInline,)


class StepInline(admin.StackedInline):
    model = Step
    extra = 0
    fields = (
        ("order", "channel", "day_offset", "owner_role", "unit_cost"),
        ("target_buying_role", "target_seniority"),
        "subject",
        "body",
    )


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ("name", "playbook", "order", "exit_stage")
    list_filter = ("playbook",)
    search_fields = ("name", "playbook__name")
    autocomplete_fields = ("playbook",)
    list_select_related = ("playbook",)
    inlines = (StepInline,)


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "stage",
        "playbook",
        "channel",
        "day_offset",
        "owner_role",
        "unit_cost",
    )
    list_filter = ("channel", "owner_role", "stage__playbook")
    search_fields = ("subject", "stage__name", "stage__playbook__name")
    autocomplete_fields = ("stage",)
    list_select_related = ("stage__playbook",)

    @admin.display(ordering="stage__playbook__name")
    def playbook(self, step):
        return step.stage.playbook


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "playbook",
        "current_stage",
        "status",
        "enrolled_at",
        "entered_stage_at",
    )
    list_filter = ("status", "playbook")
    search_fields = ("account__name", "account__domain", "playbook__name")
    autocomplete_fields = ("account", "playbook", "current_stage")
    list_select_related = ("account", "playbook", "current_stage")
    readonly_fields = ("holdout_seed",)


@admin.register(EnrolmentStageChange)
class EnrolmentStageChangeAdmin(admin.ModelAdmin):
    list_display = ("enrolment", "account", "playbook", "stage", "entered_at")
    search_fields = ("enrolment__account__name", "enrolment__playbook__name")
    raw_id_fields = ("enrolment",)
    autocomplete_fields = ("stage",)
    list_select_related = ("enrolment__account", "enrolment__playbook", "stage")
    show_full_result_count = False

    @admin.display(ordering="enrolment__account__name")
    def account(self, change):
        return change.enrolment.account

    @admin.display(ordering="enrolment__playbook__name")
    def playbook(self, change):
        return change.enrolment.playbook


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("__str__", "account", "assignee", "channel", "owner_role", "due_at", "status")
    list_filter = ("status", "owner_role", "channel", "assignee")
    search_fields = ("subject", "account__name", "account__domain")
    autocomplete_fields = ("account",)
    raw_id_fields = ("enrolment", "step")
    list_select_related = ("account", "assignee")
    readonly_fields = ("created_at",)
    show_full_result_count = False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "account",
        "contact",
        "channel",
        "kind",
        "direction",
        "cost",
        "source",
    )
    # Choice filters need no query; a date_hierarchy or an account filter would scan a million rows.
    list_filter = ("channel", "kind", "direction", "source")
    search_fields = ("=external_id", "account__domain")
    autocomplete_fields = ("account", "contact")
    raw_id_fields = ("step",)
    list_select_related = ("account", "contact")
    readonly_fields = ("created_at",)
    show_full_result_count = False
