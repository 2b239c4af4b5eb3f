from django.contrib import admin

from accounts.models import (
    ICP,
    Account,
    Contact,
    ExchangeRate,
    Lead,
    Opportunity,
    OpportunityStageChange,
    OwnershipChange,
)


@admin.register(ICP)
class ICPAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "is_active",
        "industries_weight",
        "employees_weight",
        "revenue_weight",
        "countries_weight",
        "updated_at",
        "updated_by",
    )
    list_filter = ("is_active",)
    search_fields = ("name",)
    list_select_related = ("updated_by",)
    readonly_fields = ("updated_at", "updated_by")


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("first_name", "last_name", "email", "title", "seniority", "buying_role")
    show_change_link = True


class OpportunityInline(admin.TabularInline):
    model = Opportunity
    extra = 0
    fields = ("name", "amount", "stage", "source", "created_at", "close_date", "closed_at")
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "domain",
        "industry",
        "country",
        "tier",
        "owner",
        "stage",
        "fit_score",
        "engagement_score",
        "spike",
    )
    list_filter = ("tier", "stage", "spike", "owner", "country")
    search_fields = ("name", "domain", "=external_id")
    list_select_related = ("owner",)
    readonly_fields = ("fit_breakdown", "created_at", "updated_at")
    inlines = (ContactInline, OpportunityInline)


@admin.register(OwnershipChange)
class OwnershipChangeAdmin(admin.ModelAdmin):
    list_display = ("account", "previous_owner", "new_owner", "changed_by", "changed_at")
    list_filter = ("new_owner",)
    search_fields = ("account__name", "account__domain")
    autocomplete_fields = ("account",)
    list_select_related = ("account", "previous_owner", "new_owner", "changed_by")
    date_hierarchy = "changed_at"


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "account", "title", "seniority", "buying_role")
    list_filter = ("seniority", "buying_role")
    search_fields = ("first_name", "last_name", "email", "account__name", "=external_id")
    autocomplete_fields = ("account",)
    list_select_related = ("account",)


class OpportunityStageChangeInline(admin.TabularInline):
    model = OpportunityStageChange
    extra = 0
    fields = ("from_stage", "to_stage", "changed_at")


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "account",
        "amount",
        "stage",
        "source",
        "created_at",
        "close_date",
        "closed_at",
    )
    list_filter = ("stage", "source")
    search_fields = ("name", "account__name", "account__domain", "=external_id")
    autocomplete_fields = ("account",)
    list_select_related = ("account",)
    date_hierarchy = "created_at"
    readonly_fields = ("updated_at",)
    inlines = (OpportunityStageChangeInline,)


@admin.register(OpportunityStageChange)
class OpportunityStageChangeAdmin(admin.ModelAdmin):
    list_display = ("opportunity", "from_stage", "to_stage", "changed_at")
    list_filter = ("to_stage",)
    search_fields = ("opportunity__name", "opportunity__account__name")
    autocomplete_fields = ("opportunity",)
    list_select_related = ("opportunity",)
    date_hierarchy = "changed_at"


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "contact",
        "source_channel",
        "status",
        "handed_off_at",
        "first_follow_up_at",
    )
    list_filter = ("status", "source_channel")
    search_fields = ("account__name", "account__domain", "contact__email", "=external_id")
    autocomplete_fields = ("account", "contact")
    list_select_related = ("account", "contact")
    date_hierarchy = "handed_off_at"


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Rates the imports convert by; a new rate applies to amounts dated on or after it."""

    list_display = ("currency", "date", "usd_per_unit")
    list_filter = ("currency",)
    date_hierarchy = "date"
    search_fields = ("currency",)
    ordering = ("currency", "-date")
