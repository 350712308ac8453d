"""Reads for reminders: the items the rules look at, the people they address, and the item
page's list. The rules themselves (``reminders.rules``) never query."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from calendars.services import working_days_after_each
from evaluations.models import EvaluationRound, Unit
from rectification.choices import (
    AT_THE_BUREAU,
    RESTARTING_ACTIONS,
    FollowUpStatus,
    MilestoneStatus,
    PlanStatus,
)
from rectification.models import (
    Event,
    FollowUp,
    Milestone,
    ProgressUpdate,
    RectificationItem,
    RectificationPlan,
)
from rectification.querysets import NOT_CLOSED, RectificationItemQuerySet
from reminders.models import Reminder
from reminders.people import Person, UnitPeople
from reminders.rules import NOTIFYING_ACTIONS, Schedule


def annotate_for_rules(
    items: RectificationItemQuerySet, *, today: datetime.date
) -> RectificationItemQuerySet:
    """``is_overdue`` (the shared definition); ``last_progress_at``: the latest of the item's
    last progress report, its plan's acceptance (or, before plans, its measures), its last
    return (each restarts the unit's work), and its creation; ``has_plan`` (one submitted or
    accepted), ``next_milestone`` (the earliest open milestone's deadline) and
    ``follow_up_due`` (the earliest scheduled follow-up check). The planner and the send-time
    re-check both read items through here, so they ask the rules the same question."""
    latest_report = (
        ProgressUpdate.objects.filter(item=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    latest_restart = (
        Event.objects.filter(
            item=OuterRef("pk"),
            action__in=RESTARTING_ACTIONS,
        )
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    plans = RectificationPlan.objects.filter(
        item=OuterRef("pk"), status__in=[PlanStatus.SUBMITTED, PlanStatus.ACCEPTED]
    )
    milestones = (
        Milestone.objects.filter(item=OuterRef("pk"), status=MilestoneStatus.OPEN)
        .order_by("deadline")
        .values("deadline")[:1]
    )
    follow_ups = (
        FollowUp.objects.filter(item=OuterRef("pk"), status=FollowUpStatus.SCHEDULED)
        .order_by("due_on")
        .values("due_on")[:1]
    )
    # Coalesce each side first: Greatest() is NULL on SQLite as soon as one argument is.
    return items.with_overdue(today).annotate(
        last_progress_at=Greatest(
            Coalesce(Subquery(latest_report), F("created_at")),
            Coalesce(Subquery(latest_restart), F("created_at")),
            output_field=DateTimeField(),
        ),
        has_plan=Exists(plans),
        next_milestone=Subquery(milestones),
        follow_up_due=Subquery(follow_ups),
    )


def candidates(*, today: datetime.date) -> RectificationItemQuerySet:
    """Items some rule may apply to today, in one query; the rules decide.

    Every item not closed, and the closed ones with a follow-up check due. Narrowing the open
    items further by what the annotations say (quiet for long, a milestone near) made
    PostgreSQL compute those subqueries for every item of the city, closed ones included, to
    drop a tenth of them: 3.4 s at 200,000 items. The rules refuse what is not due.
    """
    follow_ups_due = FollowUp.objects.filter(
        status=FollowUpStatus.SCHEDULED, due_on__lte=today
    ).values("item_id")
    items = annotate_for_rules(RectificationItem.objects.all(), today=today)
    return (
        items.filter(Q(status__in=NOT_CLOSED) | Q(pk__in=follow_ups_due))
        .only(
            "pk",
            "unit_id",
            "owner_id",
            "deadline",
            "status",
            "escalated_at",
            "created_at",
            "submitted_at",
            "round_year",
            "plan_due",
        )
        .order_by("pk")
    )


def with_review_due(
    items: list[RectificationItem], *, schedule: Schedule
) -> list[RectificationItem]:
    """Set ``review_due`` on the submitted ones: ``review_after`` working days after the day
    they were submitted (the calendar read once for all of them)."""
    submitted = {
        item.pk: timezone.localdate(item.submitted_at)
        for item in items
        if item.status in AT_THE_BUREAU and item.submitted_at
    }
    due = working_days_after_each(submitted.values(), days=schedule.review_after)
    for item in items:
        item.review_due = due.get(submitted.get(item.pk))  # type: ignore[attr-defined]
    return items


def unnotified_events(*, since: datetime.datetime) -> list[Event]:
    """Audit records since ``since`` that hand an item to someone and that no message has been
    planned for yet (an event with nobody to tell is looked at again until ``since`` passes
    it, cheaply: the index on the time)."""
    planned = Reminder.objects.filter(event=OuterRef("pk"))
    return list(
        Event.objects.filter(action__in=list(NOTIFYING_ACTIONS), created_at__gte=since)
        .exclude(Exists(planned))
        .select_related("item")
        .order_by("pk")
    )


def reviewers(items: Iterable[RectificationItem]) -> dict[int, list[Person]]:
    """Each item's reviewers at the bureau: its unit's reviewer, else its round's, else every
    evaluation staff member — each only while still active evaluation staff."""
    items = list(items)
    # Active accounts only: a reviewer who left (account disabled) must hand over to the next
    # in line, not receive messages the sender then drops unread.
    staff = evaluation_staff(active_only=True)
    by_id = {p.id: p for p in staff}
    unit_reviewer = dict(
        Unit.objects.filter(pk__in={i.unit_id for i in items}, reviewer__isnull=False).values_list(
            "pk", "reviewer_id"
        )
    )
    round_reviewer = dict(
        EvaluationRound.objects.filter(
            year__in={i.round_year for i in items}, reviewer__isnull=False
        ).values_list("year", "reviewer_id")
    )
    result = {}
    for item in items:
        named = by_id.get(unit_reviewer.get(item.unit_id)) or by_id.get(
            round_reviewer.get(item.round_year)
        )
        result[item.pk] = [named] if named else staff
    return result


class LazyReviewers:
    """``reviewers(items)``, read on the first lookup: item id → its reviewers."""

    def __init__(self, items: Iterable[RectificationItem]) -> None:
        self._items = list(items)
        self._ids = {item.pk for item in self._items}
        self._map: dict[int, list[Person]] | None = None

    def __getitem__(self, item_id: int) -> list[Person]:
        if self._map is None:
            self._map = reviewers(self._items)
        return self._map[item_id]

    def get(self, item_id: int, default: list[Person]) -> list[Person]:
        return self[item_id] if item_id in self._ids else default


def robot_units(unit_ids: Iterable[int]) -> set[int]:
    """The units among ``unit_ids`` whose group robot is configured."""
    return set(
        Unit.objects.filter(pk__in=set(unit_ids))
        .exclude(webhook_url="")
        .exclude(webhook_kind="")
        .values_list("pk", flat=True)
    )


def items_now(
    ids: Iterable[int], *, today: datetime.date, schedule: Schedule
) -> dict[int, RectificationItem]:
    """Items as they are now, with what the rules and the mail need, in one query (and one of
    the calendar when some are submitted). They carry ``review_due`` as the planner's do: the
    send-time re-check asks the same rules, and without it a submission's "waiting for review"
    reminder would look no longer due and be dropped."""
    items = annotate_for_rules(
        RectificationItem.objects.filter(pk__in=set(ids)), today=today
    ).select_related(
        "unit",
        "owner",
        "recommendation__finding__result__project",
        "recommendation__finding__result__round",
    )
    return {item.pk: item for item in with_review_due(list(items), schedule=schedule)}


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
    rows = User.objects.filter(pk__in=set(user_ids)).values_list("pk", "email", "unit_id")
    return {pk: Person(id=pk, email=email, unit_id=unit_id) for pk, email, unit_id in rows}


def unit_people(unit_ids: Iterable[int]) -> dict[int, UnitPeople]:
    """The active staff (经办人) and heads (负责人) of each unit, in one query. Disabled accounts
    are left out: a unit whose accounts are all disabled has nobody to remind (as the staff's
    worklist says, ``rectification.worklists.unreachable_units``), and the bureau is told."""
    staff: dict[int, list[Person]] = defaultdict(list)
    heads: dict[int, list[Person]] = defaultdict(list)
    rows = (
        User.objects.filter(
            unit_id__in=set(unit_ids),
            is_active=True,
            groups__name__in=[Role.UNIT_STAFF, Role.UNIT_HEAD],
        )
        .values_list("pk", "unit_id", "email", "groups__name")
        .order_by("pk")
    )
    for pk, unit_id, email, group in rows:
        person = Person(id=pk, email=email, unit_id=unit_id)
        (heads if group == Role.UNIT_HEAD else staff)[unit_id].append(person)
    return {
        unit_id: UnitPeople(staff=tuple(staff[unit_id]), heads=tuple(heads[unit_id]))
        for unit_id in set(staff) | set(heads)
    }


def evaluation_staff(*, active_only: bool = False) -> list[Person]:
    """Every member of the evaluation staff group (the sender skips an inactive account and
    records why); ``active_only``: those whose account is enabled (the reviewers)."""
    rows = (
        User.objects.filter(groups__name=Role.EVALUATION_STAFF)
        .filter(**({"is_active": True} if active_only else {}))
        .values_list("pk", "email")
        .order_by("pk")
    )
    return [Person(id=pk, email=email) for pk, email in rows]
