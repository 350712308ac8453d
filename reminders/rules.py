"""The reminder rules: which reminder applies to an item on a given day, and who gets it.

This is the one place that states them (README "Reminders", docs/reminders.md). Everything
else — the planner, the send-time re-check, the dry run — asks these functions. They are pure:
dates and plain values in, decisions out; the queries that feed them are in
``reminders.selectors``.

An *occurrence* is one firing of a rule, named by the day it began (its *period*). A rule's
current occurrence stays current until the next one begins, so a sweep that did not run on the
exact day (machine off, worker down) still sends it late rather than never; the unique
constraint on ``Reminder`` makes sure it is planned once.

    days to deadline   7  6  5  4  3  2  1  0   -1 … -7  -8 … -14  -15 …
    occurrence         7  7  7  7  3  3  1  D   O1 … O1  O8 … O8   O15 + escalation …

"Overdue" itself is never decided here: callers pass ``is_overdue`` computed by
``rectification.querysets.overdue_q`` (via ``with_overdue``), the one shared definition.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from rectification.choices import AT_THE_BUREAU, EventAction, ItemStatus
from reminders.choices import (
    DEADLINE_RULES,
    NOTIFICATION_RULES,
    OWNER_ONLY_RULES,
    STAFF_RULES,
    RecipientRole,
    Rule,
    SkipReason,
)
from reminders.people import Person, UnitPeople

if TYPE_CHECKING:
    from rectification.models import RectificationItem

_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Schedule:
    """The rule parameters (settings ``LIWAN_REMINDER_*``), passed explicitly to pure functions."""

    days_before: tuple[int, ...] = (7, 3, 1)
    overdue_every: int = 7
    escalate_after: int = 15
    stale_after: int = 30
    # Working days a submission may wait for the bureau before its reviewers are reminded.
    review_after: int = 5

    @classmethod
    def from_settings(cls) -> Schedule:
        return cls(
            days_before=tuple(sorted({d for d in settings.LIWAN_REMINDER_DAYS_BEFORE if d > 0})),
            overdue_every=max(1, settings.LIWAN_REMINDER_OVERDUE_EVERY_DAYS),
            escalate_after=max(1, settings.LIWAN_REMINDER_ESCALATE_AFTER_DAYS),
            stale_after=max(1, settings.LIWAN_REMINDER_STALE_PROGRESS_DAYS),
            review_after=max(1, settings.LIWAN_REVIEW_REMIND_AFTER_WORKING_DAYS),
        )

    @property
    def horizon(self) -> int:
        """How many days ahead of a deadline the first reminder can fall."""
        return max(self.days_before, default=0)


@dataclass(frozen=True)
class Occurrence:
    rule: Rule
    period: datetime.date


# --- pure rules over dates -----------------------------------------------------------------------


def deadline_occurrence(
    *,
    status: str,
    deadline: datetime.date | None,
    is_overdue: bool,
    today: datetime.date,
    schedule: Schedule,
) -> Occurrence | None:
    """Before the deadline (each of ``days_before``), on the day, and overdue on day 1 then every
    ``overdue_every`` days until closed. Closed items and items without a deadline get nothing,
    nor do submitted ones: the unit has done its part and waits for the bureau (which gets
    ``review_occurrence`` instead). Returned items are in progress again and chased."""
    if deadline is None or status == ItemStatus.CLOSED or status in AT_THE_BUREAU:
        return None
    if is_overdue:
        days_late = (today - deadline).days
        weeks = (days_late - 1) // schedule.overdue_every
        return Occurrence(Rule.OVERDUE, deadline + _DAY * (1 + weeks * schedule.overdue_every))
    days_left = (deadline - today).days
    if days_left == 0:
        return Occurrence(Rule.DUE_TODAY, deadline)
    if days_left < 0:
        return None  # past the deadline yet not overdue: closed by the shared definition
    # The latest offset that has been reached: 5 days left is still the "7 days before" one.
    reached = [d for d in schedule.days_before if d >= days_left]
    if not reached:
        return None
    return Occurrence(Rule.DUE_SOON, deadline - _DAY * min(reached))


def escalation_occurrence(
    *,
    deadline: datetime.date | None,
    is_overdue: bool,
    today: datetime.date,
    schedule: Schedule,
    status: str = "",
) -> Occurrence | None:
    """Escalation (督办) to evaluation staff once an item has been overdue ``escalate_after``
    days (overdue day 1 is the day after the deadline); not while it waits for the bureau's
    review (submitted)."""
    if deadline is None or not is_overdue or status in AT_THE_BUREAU:
        return None
    if (today - deadline).days < schedule.escalate_after:
        return None
    return Occurrence(Rule.ESCALATED, deadline + _DAY * schedule.escalate_after)


def stale_occurrence(
    *,
    status: str,
    last_progress_on: datetime.date | None,
    today: datetime.date,
    schedule: Schedule,
) -> Occurrence | None:
    """A nudge when an item in progress (整改中, including returned ones) has had no progress for
    ``stale_after`` days, repeated every ``stale_after`` days while that lasts."""
    if status != ItemStatus.IN_PROGRESS or last_progress_on is None:
        return None
    quiet = (today - last_progress_on).days
    if quiet < schedule.stale_after:
        return None
    stretches = quiet // schedule.stale_after
    return Occurrence(Rule.STALE, last_progress_on + _DAY * (stretches * schedule.stale_after))


def review_occurrence(
    *,
    status: str,
    review_due: datetime.date | None,
    today: datetime.date,
    schedule: Schedule,
) -> Occurrence | None:
    """A submission (待销号) the bureau has not ruled on by ``review_due`` — the submission day
    plus ``Schedule.review_after`` working days, counted by the caller with the calendar —
    reminds its reviewers, then again every ``overdue_every`` days while it waits."""
    if status not in AT_THE_BUREAU or review_due is None or today < review_due:
        return None
    return _weekly(Rule.REVIEW_WAITING, review_due, today, schedule)


def _weekly(
    rule: Rule, start: datetime.date, today: datetime.date, schedule: Schedule
) -> Occurrence:
    """The current occurrence of a rule repeated every ``overdue_every`` days from ``start``."""
    laps = (today - start).days // schedule.overdue_every
    return Occurrence(rule, start + _DAY * (laps * schedule.overdue_every))


def _approaching(
    due: datetime.date,
    today: datetime.date,
    schedule: Schedule,
    *,
    soon: Rule,
    late: Rule,
) -> Occurrence | None:
    """Before a date (the reminder days before it, and on it) and after it (the day after,
    then every ``overdue_every`` days): the shape of the plan's and the milestones' rules."""
    days_left = (due - today).days
    if days_left < 0:
        return _weekly(late, due + _DAY, today, schedule)
    reached = [d for d in (*schedule.days_before, 0) if d >= days_left]
    if not reached:
        return None
    return Occurrence(soon, due - _DAY * min(reached))


def plan_occurrence(
    *,
    status: str,
    plan_due: datetime.date | None,
    has_plan: bool,
    today: datetime.date,
    schedule: Schedule,
) -> Occurrence | None:
    """The plan (整改方案) is due: reminded before and on the day, chased weekly after, until
    the unit has submitted one (or the item is closed)."""
    if plan_due is None or has_plan or status == ItemStatus.CLOSED:
        return None
    return _approaching(plan_due, today, schedule, soon=Rule.PLAN_DUE, late=Rule.PLAN_OVERDUE)


def milestone_occurrence(
    *,
    status: str,
    next_milestone: datetime.date | None,
    today: datetime.date,
    schedule: Schedule,
) -> Occurrence | None:
    """The earliest milestone not yet reported done: reminded before and on its deadline,
    chased weekly after it — each milestone in turn."""
    if next_milestone is None or status == ItemStatus.CLOSED or status in AT_THE_BUREAU:
        return None
    return _approaching(
        next_milestone, today, schedule, soon=Rule.MILESTONE_DUE, late=Rule.MILESTONE_OVERDUE
    )


def follow_up_occurrence(
    *, follow_up_due: datetime.date | None, today: datetime.date, schedule: Schedule
) -> Occurrence | None:
    """A follow-up check (回头看) that has come due reminds the item's reviewers, weekly until
    it is recorded."""
    if follow_up_due is None or today < follow_up_due:
        return None
    return _weekly(Rule.FOLLOW_UP_DUE, follow_up_due, today, schedule)


def occurrences_for(
    item: RectificationItem, *, today: datetime.date, schedule: Schedule
) -> list[Occurrence]:
    """The deadline and progress occurrences current for an item annotated by
    ``selectors.annotate_for_rules``. Escalation is separate: it also flags the item, once."""
    found = [
        deadline_occurrence(
            status=item.status,
            deadline=item.deadline,
            is_overdue=item.is_overdue,
            today=today,
            schedule=schedule,
        ),
        stale_occurrence(
            status=item.status,
            last_progress_on=last_progress_on(item),
            today=today,
            schedule=schedule,
        ),
        review_occurrence(
            status=item.status,
            review_due=getattr(item, "review_due", None),
            today=today,
            schedule=schedule,
        ),
        plan_occurrence(
            status=item.status,
            plan_due=item.plan_due,
            has_plan=bool(getattr(item, "has_plan", False)),
            today=today,
            schedule=schedule,
        ),
        milestone_occurrence(
            status=item.status,
            next_milestone=getattr(item, "next_milestone", None),
            today=today,
            schedule=schedule,
        ),
        follow_up_occurrence(
            follow_up_due=getattr(item, "follow_up_due", None), today=today, schedule=schedule
        ),
    ]
    return [o for o in found if o is not None]


def skip_reason(
    *,
    rule: str,
    period: datetime.date,
    planned_deadline: datetime.date | None,
    item: RectificationItem,
    today: datetime.date,
    schedule: Schedule,
) -> SkipReason | None:
    """Re-check a planned message when it is about to be sent (hours or a day may have passed):
    ``None`` if it still applies, else why it is dropped. A notification tells of something
    that happened, so it stays true and is always sent."""
    if rule in NOTIFICATION_RULES:
        return None
    if item.status == ItemStatus.CLOSED and rule != Rule.FOLLOW_UP_DUE:
        return SkipReason.ITEM_CLOSED
    if rule == Rule.NOBODY_TO_REMIND:
        return None
    follows_deadline = rule in DEADLINE_RULES or rule == Rule.ESCALATED
    if follows_deadline and planned_deadline != item.deadline:
        return SkipReason.DEADLINE_MOVED
    if rule == Rule.ESCALATED:
        return None if item.is_overdue else SkipReason.NO_LONGER_DUE
    current = {(o.rule, o.period) for o in occurrences_for(item, today=today, schedule=schedule)}
    if (rule, period) in current:
        return None
    if rule in DEADLINE_RULES:
        return SkipReason.SUPERSEDED
    return SkipReason.NO_LONGER_DUE


# --- who gets it ---------------------------------------------------------------------------------


def for_staff(rule: str) -> bool:
    """Whether ``rule`` addresses evaluation staff (the bureau) rather than the unit."""
    return rule in STAFF_RULES


def responsible_owner(owner: Person | None, unit_id: int) -> Person | None:
    """The item's owner if they still belong to its unit; an owner moved elsewhere is not."""
    return owner if owner is not None and owner.unit_id == unit_id else None


def notification_recipients(
    *,
    rule: Rule,
    owner: Person | None,
    unit: UnitPeople,
    reviewers: Sequence[Person] = (),
    actor_id: int | None = None,
) -> list[tuple[Person, RecipientRole]]:
    """Whose move it is after an event: the unit's owner (the head in copy) when the bureau
    returned, closed, reopened or decided an extension; the owner alone on an assignment; the
    item's reviewers when the unit submitted or asked for more time. Never the person who
    acted. Without an owner, the unit's staff (its heads in copy, or as addressees when the
    unit has no staff account)."""
    if rule in STAFF_RULES:
        pairs = [(p, RecipientRole.TO) for p in reviewers]
    elif rule == Rule.HEAD_SIGNOFF:
        pairs = [(p, RecipientRole.TO) for p in unit.heads]
    elif owner is not None:
        pairs = [(owner, RecipientRole.TO)]
        if rule not in OWNER_ONLY_RULES:
            pairs += [(p, RecipientRole.CC) for p in unit.heads]
    else:
        head_role = RecipientRole.CC if unit.staff else RecipientRole.TO
        pairs = [(p, RecipientRole.TO) for p in unit.staff]
        pairs += [(p, head_role) for p in unit.heads]
    return _unique([(p, r) for p, r in pairs if p.id != actor_id])


# The audit records that hand an item to someone, and the notification each one sends.
_NOTIFYING: dict[str, Rule] = {
    EventAction.ASSIGNED: Rule.ASSIGNED,
    EventAction.RETURNED: Rule.RETURNED,
    EventAction.CLOSED: Rule.CLOSED,
    EventAction.REOPENED: Rule.REOPENED,
    EventAction.EXTENSION_APPROVED: Rule.EXTENSION_APPROVED,
    EventAction.EXTENSION_REJECTED: Rule.EXTENSION_REJECTED,
    EventAction.EXTENSION_REQUESTED: Rule.EXTENSION_REQUESTED,
    EventAction.HEAD_CONFIRMED: Rule.SUBMITTED,
    EventAction.PLAN_SUBMITTED: Rule.PLAN_SUBMITTED,
    EventAction.PLAN_ACCEPTED: Rule.PLAN_DECIDED,
    EventAction.PLAN_RETURNED: Rule.PLAN_DECIDED,
    EventAction.MILESTONE_REPORTED: Rule.MILESTONE_REPORTED,
    EventAction.MILESTONE_ACCEPTED: Rule.MILESTONE_DECIDED,
    EventAction.MILESTONE_RETURNED: Rule.MILESTONE_DECIDED,
    EventAction.HEAD_RETURNED: Rule.HEAD_RETURNED,
    EventAction.FIRST_REVIEWED: Rule.SECOND_REVIEW,
    EventAction.SECOND_REVIEW_DECLINED: Rule.REVIEW_DECLINED,
    EventAction.FOLLOW_UP_FAILED: Rule.RELAPSED,
}
NOTIFYING_ACTIONS = frozenset({*_NOTIFYING, EventAction.SUBMITTED})


def notification_for(action: str, after: dict[str, object]) -> Rule | None:
    """The notification an audit record sends, if any. A submission goes to the unit head when
    it stopped there (负责人确认), else straight to the bureau."""
    if action == EventAction.SUBMITTED:
        return (
            Rule.HEAD_SIGNOFF if after.get("status") == ItemStatus.HEAD_REVIEW else Rule.SUBMITTED
        )
    return _NOTIFYING.get(action)


def _unique(pairs: list[tuple[Person, RecipientRole]]) -> list[tuple[Person, RecipientRole]]:
    seen: set[int] = set()
    unique = []
    for person, role in pairs:
        if person.id not in seen:
            seen.add(person.id)
            unique.append((person, role))
    return unique


def recipients_for(
    *,
    rule: Rule,
    owner: Person | None,
    unit: UnitPeople,
    evaluation_staff: Sequence[Person] = (),
) -> list[tuple[Person, RecipientRole]]:
    """Owner first; the unit head in copy when overdue; the unit's staff and head when the item
    has no owner; evaluation staff (the item's reviewers) for the bureau's rules. One role per
    person (``to`` wins)."""
    if rule in STAFF_RULES:
        pairs = [(p, RecipientRole.TO) for p in evaluation_staff]
    elif owner is not None:
        pairs = [(owner, RecipientRole.TO)]
        if rule == Rule.OVERDUE:
            pairs += [(p, RecipientRole.CC) for p in unit.heads]
    else:
        head_role = RecipientRole.CC if unit.staff else RecipientRole.TO
        pairs = [(p, RecipientRole.TO) for p in unit.staff]
        pairs += [(p, head_role) for p in unit.heads]
    return _unique(pairs)


# --- dates ---------------------------------------------------------------------------------------


def last_progress_on(item: RectificationItem) -> datetime.date | None:
    """The day of the item's ``last_progress_at`` (``selectors.annotate_for_rules``)."""
    value = getattr(item, "last_progress_at", None)
    return timezone.localdate(value) if value else None


def local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Start and end of a calendar day in TIME_ZONE (for "one e-mail per person per day")."""
    return local_midnight(day), local_midnight(day + _DAY)
