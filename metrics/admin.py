from django.contrib import admin

from metrics.models import (
    AttributionCredit,
    BudgetLine,
    EngagementHistory,
    EngagementScore,
    EngineSlot,
    JourneyStageChange,
    MarkovCredit,
    MetricRollup,
    RemovalEffect,
    SlotMarkovCount,
    SlotRollupPack,
    SlotRollupSum,
    TouchRule,
)


@admin.register(BudgetLine)
class BudgetLineAdmin(admin.ModelAdmin):
    list_display = ("date", "playbook", "channel", "amount", "description")
    list_filter = ("channel", "playbook")
    search_fields = ("description", "playbook__name")
    autocomplete_fields = ("playbook",)
    list_select_related = ("playbook",)
    date_hierarchy = "date"


@admin.register(EngagementScore)
class EngagementScoreAdmin(admin.ModelAdmin):
    list_display = ("account", "score", "engaged_contacts", "spike", "computed_at")
    list_filter = ("spike",)
    search_fields = ("account__name", "account__domain")
    autocomplete_fields = ("account",)
    list_select_related = ("account",)
    ordering = ("-score",)


@admin.register(EngagementHistory)
class EngagementHistoryAdmin(admin.ModelAdmin):
    list_display = ("account", "date", "score")
    search_fields = ("account__name", "account__domain")
    autocomplete_fields = ("account",)
    list_select_related = ("account",)
    show_full_result_count = False


@admin.register(JourneyStageChange)
class JourneyStageChangeAdmin(admin.ModelAdmin):
    list_display = ("account", "from_stage", "to_stage", "changed_at")
    list_filter = ("to_stage",)
    search_fields = ("account__name", "account__domain")
    autocomplete_fields = ("account",)
    list_select_related = ("account",)
    date_hierarchy = "changed_at"


@admin.register(AttributionCredit)
class AttributionCreditAdmin(admin.ModelAdmin):
    list_display = (
        "opportunity",
        "account",
        "model",
        "kind",
        "channel",
        "playbook",
        "weight",
        "credit",
        "converted_at",
    )
    list_filter = ("model", "kind", "channel")
    search_fields = ("opportunity__name", "account__name", "account__domain")
    autocomplete_fields = ("opportunity", "account", "playbook")
    list_select_related = ("opportunity", "account", "playbook")
    show_full_result_count = False


@admin.register(MetricRollup)
class MetricRollupAdmin(admin.ModelAdmin):
    list_display = ("metric", "period", "model", "kind", "channel", "playbook", "tier", "value")
    list_filter = ("metric", "model", "kind", "channel")
    raw_id_fields = ("playbook", "owner")
    list_select_related = ("playbook",)


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Rows a page or the engine writes, each through its own service: here only to read."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TouchRule)
class TouchRuleAdmin(_ReadOnlyAdmin):
    """Read-only: the touch rules page saves them with an audit event and a recompute."""

    list_display = (
        "kind",
        "counts_as_touch",
        "counts_as_step_with_cost",
        "updated_at",
        "updated_by",
    )
    list_select_related = ("updated_by",)


# The engine's own bookkeeping, rewritten by every run (metrics/engine/slots.py): an edit would
# only be overwritten, or make the rollups disagree with the slots.
@admin.register(EngineSlot)
class EngineSlotAdmin(_ReadOnlyAdmin):
    list_display = ("slot", "slots", "computed_at")


@admin.register(SlotRollupPack)
class SlotRollupPackAdmin(_ReadOnlyAdmin):
    list_display = ("slot", "rows")
    exclude = ("data",)  # packed numbers: their sums are SlotRollupSum's rows


@admin.register(SlotRollupSum)
class SlotRollupSumAdmin(_ReadOnlyAdmin):
    list_display = ("metric", "period", "model", "kind", "channel", "tier", "value", "rows")
    list_filter = ("metric",)


@admin.register(SlotMarkovCount)
class SlotMarkovCountAdmin(_ReadOnlyAdmin):
    list_display = ("slot", "kind", "from_state", "to_state", "count")
    list_filter = ("kind", "slot")


@admin.register(RemovalEffect)
class RemovalEffectAdmin(_ReadOnlyAdmin):
    list_display = ("kind", "channel", "effect")
    list_filter = ("kind",)


# A database view (migration 0011): rows derive from the linear credits and the removal effects.
@admin.register(MarkovCredit)
class MarkovCreditAdmin(_ReadOnlyAdmin):
    list_display = ("opportunity", "account", "kind", "channel", "playbook", "weight", "credit")
    list_filter = ("kind", "channel")
    search_fields = ("opportunity__name", "account__name", "account__domain")
    list_select_related = ("opportunity", "account", "playbook")
    show_full_result_count = False
