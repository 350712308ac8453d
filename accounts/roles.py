"""Roles are Django groups; this module is the one place that names them and asks about them.

A user has at most one role in practice. Evaluation staff and oversight readers see every unit;
unit staff and unit heads see their own unit only (the scoping itself lives in
``rectification.selectors.items_visible_to``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import Group

    from accounts.models import User


class Role(models.TextChoices):
    # The value is the group name that staff see in the back-office (stored in the database:
    # never translated, never renamed); the label follows the interface language.
    EVALUATION_STAFF = "评价管理员", _("Evaluation administrator")
    UNIT_STAFF = "经办人", _("Unit staff")
    UNIT_HEAD = "负责人", _("Unit head")
    OVERSIGHT = "监督查看", _("Oversight reader")


UNIT_ROLES = frozenset({Role.UNIT_STAFF, Role.UNIT_HEAD})


def ensure_role_groups() -> dict[Role, Group]:
    """The group of every role, created where missing (idempotent). The one place role groups
    are made: after migrate (``accounts.permissions``), by the demo and benchmark seeders."""
    from django.contrib.auth.models import Group

    with transaction.atomic():
        return {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}


def role_group(role: Role) -> Group:
    """The group of ``role`` (created if missing), for putting a user into it."""
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=role.value)[0]


def roles_of(user: User) -> frozenset[str]:
    """Names of the role groups of ``user``, cached on the instance for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_liwan_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._liwan_roles = cached
    return cached


def is_evaluation_staff(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or Role.EVALUATION_STAFF in roles_of(user))


def is_oversight(user: User) -> bool:
    return Role.OVERSIGHT in roles_of(user)


def sees_all_units(user: User) -> bool:
    return is_evaluation_staff(user) or is_oversight(user)


def is_unit_member(user: User) -> bool:
    return user.is_authenticated and user.unit_id is not None and bool(roles_of(user) & UNIT_ROLES)


def is_unit_head(user: User) -> bool:
    return is_unit_member(user) and Role.UNIT_HEAD in roles_of(user)
