from django.contrib import admin

from ingestion.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "kind",
        "uploaded_by",
        "uploaded_at",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "finished_at",
    )
    list_filter = ("kind",)
    search_fields = ("original_name",)
    raw_id_fields = ("run",)
    list_select_related = ("uploaded_by",)
    readonly_fields = ("uploaded_at", "finished_at")
