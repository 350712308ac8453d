"""Reads for reminders: the items the rules look at, the people they address, and the item
page's list. The rules themselves (``reminders.rules``) never query."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import DateTimeField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from accounts.models import User
from accounts.roles import Role
from rectification.choices import EventAction, ItemStatus
from rectification.models import Event, ProgressUpdate, RectificationItem
from rectification.querysets import RectificationItemQuerySet, overdue_q
from reminders.models import Reminder
from reminders.people import Person, UnitPeople
from reminders.rules import Schedule, local_midnight

_DAY = datetime.timedelta(days=1)


def annotate_for_rules(
    items: RectificationItemQuerySet, *, today: datetime.date
) -> RectificationItemQuerySet:
    """``is_overdue`` (the shared definition) and ``last_progress_at``: the latest of the item's
    last progress report, its last measures revision or return (each restarts the unit's work),
    and its creation."""
    latest_report = (
        ProgressUpdate.objects.filter(item=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    latest_restart = (
        Event.objects.filter(
            item=OuterRef("pk"), action__in=[EventAction.MEASURES, EventAction.RETURNED]
        )
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    # Coalesce each side first: Greatest() is NULL on SQLite as soon as one argument is.
    return items.with_overdue(today).annotate(
        last_progress_at=Greatest(
            Coalesce(Subquery(latest_report), F("created_at")),
            Coalesce(Subquery(latest_restart), F("created_at")),
            output_field=DateTimeField(),
        )
    )


def candidates(*, today: datetime.date, schedule: Schedule) -> RectificationItemQuerySet:
    """Items some rule may apply to today, in one query; the rules decide.

    The filters only narrow the scan (deadline within the horizon, overdue, or in progress and
    quiet for long enough); they never grant a reminder the rules would refuse.
    """
    quiet_since = local_midnight(today - _DAY * (schedule.stale_after - 1))
    items = annotate_for_rules(RectificationItem.objects.all(), today=today)
    return (
        items.filter(
            Q(deadline__gte=today, deadline__lte=today + _DAY * schedule.horizon)
            | overdue_q(today)
            | Q(status=ItemStatus.IN_PROGRESS, last_progress_at__lt=quiet_since)
        )
        .exclude(status=ItemStatus.CLOSED)
        .only("pk", "unit_id", "owner_id", "deadline", "status", "escalated_at", "created_at")
        .order_by("pk")
    )


def items_now(ids: Iterable[int], *, today: datetime.date) -> dict[int, RectificationItem]:
    """Items as they are now, with what the rules and the mail need, in one query."""
    items = annotate_for_rules(
        RectificationItem.objects.filter(pk__in=set(ids)), today=today
    ).select_related(
        "unit",
        "owner",
        "recommendation__finding__result__project",
        "recommendation__finding__result__round",
    )
    return {item.pk: item for item in items}


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
