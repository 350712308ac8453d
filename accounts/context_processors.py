"""What every page template may ask about the signed-in user (menus, badges)."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.roles import is_evaluation_staff, is_oversight, is_unit_member, sees_all_units


def roles(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "is_evaluation_staff": is_evaluation_staff(user),
        "is_oversight": is_oversight(user),
        "is_unit_member": is_unit_member(user),
        "sees_all_units": sees_all_units(user),
    }
