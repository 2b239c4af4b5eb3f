from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from abm.models import ApiToken, AuditEvent, Change, Job, User
from abm.tokens import token_create, token_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        DjangoUserAdmin.fieldsets[0],
        ("Role", {"fields": ("role",)}),
        *DjangoUserAdmin.fieldsets[1:],
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Role", {"fields": ("role", "first_name", "last_name", "email")}),
    )
    list_display = ("username", "first_name", "last_name", "email", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active")


class ApiTokenAddForm(forms.ModelForm):
    days = forms.TypedChoiceField(label="Expires after", coerce=int)

    class Meta:
        model = ApiToken
        fields = ("user", "name")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].choices = [
            (days, f"{days} days") for days in settings.ABM_API_TOKEN_EXPIRY_DAYS
        ]
        self.fields["days"].initial = settings.ABM_API_TOKEN_DEFAULT_EXPIRY_DAYS


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by abm.tokens.token_create, here too, so the secret is shown once and
    only its digest is stored; afterwards a token can only be renamed or revoked."""

    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("user__role",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name", "days")
        return ("name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = token_create(user=obj.user, name=obj.name, days=form.cleaned_data["days"])
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        messages.warning(request, f"Copy the token now; it is not shown again: {raw}")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(token=token)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: a trail anyone could edit would prove nothing."""

    list_display = ("at", "actor_label", "action", "object_type", "object_id", "object_label")
    list_filter = ("action", "object_type")
    search_fields = ("object_label", "actor_label", "object_id")
    date_hierarchy = "at"
    list_select_related = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "status", "phase", "percent", "requested_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("phase", "error")
    list_select_related = ("requested_by",)
    readonly_fields = ("created_at", "started_at", "finished_at")


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    list_display = ("id", "account_id", "reason", "created_at")
    search_fields = ("reason",)
