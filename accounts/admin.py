from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "unit", "email", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "groups", "unit")
    search_fields = ("username", "full_name", "email", "unit__name")
    list_select_related = ("unit",)
    autocomplete_fields = ("unit",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("单位与联系方式", {"fields": ("full_name", "phone", "unit")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("单位与联系方式", {"fields": ("full_name", "email", "unit")}),
    )
