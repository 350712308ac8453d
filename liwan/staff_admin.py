"""Back-office access by role for models that are not in ``accounts.permissions``.

The role group's model permissions are granted by ``accounts.permissions``, whose table is the
whole truth (it revokes what it does not list). Models added later — the working-day calendar
and the problem categories — are opened to evaluation staff here, by role, until that table
lists them; the rule is the same: evaluation staff (and superusers) may edit, nobody else sees
them.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from accounts.roles import is_evaluation_staff


class EvaluationStaffPermissions:
    """For a ModelAdmin or an inline: every permission is "is this active evaluation staff"."""

    def _staff(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_staff and is_evaluation_staff(user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return self._staff(request)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return self._staff(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return self._staff(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return self._staff(request)


class EvaluationStaffAdmin(EvaluationStaffPermissions, admin.ModelAdmin):
    pass
