"""Reads for reminders: the item page's list, and the people the rules address."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from accounts.models import User
from accounts.roles import Role
from reminders.models import Reminder
from reminders.rules import Person, UnitPeople

if TYPE_CHECKING:
    from rectification.models import RectificationItem


def reminders_for_item(item: RectificationItem) -> QuerySet[Reminder]:
    """The reminders planned for one item, newest first, for its page (each shown by its str()).
    Access to the item is the caller's check (``items_visible_to``)."""
    return (
        Reminder.objects.filter(item=item)
        .select_related("recipient")
        .order_by("-created_at", "-id")
    )


def people(user_ids: Iterable[int]) -> dict[int, Person]:
    """Owners by id, in one query. Inactive accounts are included: the sender records why it
    skips them, so a gap in the chase is visible in the back-office."""
    rows = User.objects.filter(pk__in=set(user_ids)).values_list("pk", "email")
    return {pk: Person(id=pk, email=email) for pk, email in rows}


def unit_people(unit_ids: Iterable[int]) -> dict[int, UnitPeople]:
    """The staff (经办人) and heads (负责人) of each unit, in one query."""
    staff: dict[int, list[Person]] = defaultdict(list)
    heads: dict[int, list[Person]] = defaultdict(list)
    rows = (
        User.objects.filter(
            unit_id__in=set(unit_ids), groups__name__in=[Role.UNIT_STAFF, Role.UNIT_HEAD]
        )
        .values_list("pk", "unit_id", "email", "groups__name")
        .order_by("pk")
    )
    for pk, unit_id, email, group in rows:
        (heads if group == Role.UNIT_HEAD else staff)[unit_id].append(Person(id=pk, email=email))
    return {
        unit_id: UnitPeople(staff=tuple(staff[unit_id]), heads=tuple(heads[unit_id]))
        for unit_id in set(staff) | set(heads)
    }


def evaluation_staff() -> list[Person]:
    """Who receives escalations (督办): members of the evaluation staff group."""
    rows = (
        User.objects.filter(groups__name=Role.EVALUATION_STAFF)
        .values_list("pk", "email")
        .order_by("pk")
    )
    return [Person(id=pk, email=email) for pk, email in rows]
