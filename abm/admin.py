from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from abm.models import User


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
