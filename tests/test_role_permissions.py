"""The permission table of the roles (accounts.permissions): applied after migrate, whatever
the order of the installed apps."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import override_settings

from accounts.permissions import ROLE_PERMISSIONS
from accounts.roles import Role


def _granted(role: Role) -> set[tuple[str, str]]:
    group = Group.objects.get(name=role.value)
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def _expected(role: Role) -> set[tuple[str, str]]:
    return {
        (app_label, f"{action}_{model}")
        for (app_label, model), actions in ROLE_PERMISSIONS[role].items()
        for action in actions
    }


@pytest.mark.django_db(transaction=True)
def test_it_gives_every_role_its_table_after_migrate_with_an_app_after_ours():
    # A database as fresh as the first migrate leaves it: no role groups, no permissions.
    Group.objects.all().delete()
    Permission.objects.all().delete()
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "tests.late_app"]):
        call_command("migrate", verbosity=0, interactive=False)
        assert Permission.objects.filter(content_type__app_label="late_app").exists()
        for role in Role:
            assert _granted(role) == _expected(role), role
    # Evaluation staff can resend reminders and edit the calendar and the categories: the
    # grants that once depended on where their apps stood in INSTALLED_APPS.
    staff = _granted(Role.EVALUATION_STAFF)
    assert {
        ("reminders", "change_reminder"),
        ("calendars", "add_calendaryear"),
        ("evaluations", "change_findingcategory"),
    } <= staff
    assert _granted(Role.UNIT_STAFF) == _granted(Role.OVERSIGHT) == set()


@pytest.mark.django_db
def test_it_revokes_a_permission_granted_by_hand_on_the_next_migrate():
    group = Group.objects.get(name=Role.UNIT_STAFF.value)
    group.permissions.add(Permission.objects.get(codename="change_rectificationitem"))
    call_command("migrate", verbosity=0, interactive=False)
    assert _granted(Role.UNIT_STAFF) == set()
    assert _granted(Role.EVALUATION_STAFF) == _expected(Role.EVALUATION_STAFF)
