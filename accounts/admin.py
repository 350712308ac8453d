"""Accounts in the back-office, where evaluation staff create users and give them roles.

Staff hold add/change on users (``accounts.permissions``) but must not be able to raise anyone,
themselves included, above their own rights: only a superuser sets superuser status or
individual permissions, and only a superuser changes a superuser's account.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import SignIn, SignInFailure, SignInLock, User
from liwan import clock
from liwan.logs import security_event

SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")


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

    def get_readonly_fields(self, request: HttpRequest, obj=None):  # type: ignore[no-untyped-def]
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + SUPERUSER_ONLY_FIELDS

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)


class SignInRecordAdmin(admin.ModelAdmin):
    """Sign-in records are written by django-axes only; the back-office reads them."""

    list_display = ("attempt_time", "username", "ip_address", "path_info", "user_agent")
    list_filter = ("attempt_time",)
    search_fields = ("username", "ip_address")
    date_hierarchy = "attempt_time"
    # The counters carry the raw request (axes masks the password); not worth showing.
    exclude = ("get_data", "post_data")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(SignIn)
class SignInAdmin(SignInRecordAdmin):
    list_display = ("attempt_time", "username", "ip_address", "logout_time", "user_agent")


@admin.register(SignInFailure)
class SignInFailureAdmin(SignInRecordAdmin):
    list_display = ("attempt_time", "username", "ip_address", "locked_out", "path_info")
    list_filter = ("locked_out", "attempt_time")


@admin.register(SignInLock)
class SignInLockAdmin(SignInRecordAdmin):
    list_display = ("username", "ip_address", "failures_since_start", "attempt_time", "locked")
    actions = ["unlock"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        # Deleting a counter is how a lock is lifted; the permission decides who may.
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def get_actions(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "解除锁定" says what deleting means here
        return actions

    @admin.display(description="当前是否锁定", boolean=True)
    def locked(self, obj: SignInLock) -> bool:
        cooloff: datetime.timedelta = settings.AXES_COOLOFF_TIME
        return (
            obj.failures_since_start >= settings.AXES_FAILURE_LIMIT
            and obj.attempt_time >= clock.now() - cooloff
        )

    @admin.action(description="解除锁定（清除失败计数）", permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[SignInLock]) -> None:
        pairs = list(queryset.values_list("username", "ip_address"))
        queryset.delete()
        for username, ip_address in pairs:
            security_event("login_unlocked", username=username or "", address=ip_address or "")
        self.message_user(request, f"已解除 {len(pairs)} 个账号的登录锁定。", messages.SUCCESS)


# django-otp registers its device models in the back-office. Their pages show and edit a
# colleague's authenticator key and recovery codes; the staff group's permissions do not cover
# them, and resetting a lost second factor is an operator's act, logged:
# `manage.py reset_two_factor USERNAME` (accounts.twofactor). Not offered in the back-office.
def _unregister_otp_devices() -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_otp_devices()
