"""The reminder pipeline (docs/reminders.md): plan → claim → send → record.

``sweep`` is the loop body. The beat task and ``manage.py send_reminders`` both call it; the
tests call it too. Nothing here holds a transaction open while talking to the SMTP server:
claims and outcomes are single conditional UPDATEs in autocommit, so any number of workers can
sweep at once and each reminder row is sent by the one worker whose UPDATE claimed it.
"""

from __future__ import annotations

import datetime
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import NotifyMode, User
from accounts.roles import is_evaluation_staff
from evaluations.models import Unit
from liwan import clock
from rectification import services as ledger
from rectification.choices import EventAction
from rectification.models import RectificationItem
from reminders import channels, rules, selectors
from reminders.choices import Channel, RecipientRole, ReminderStatus, Rule, SkipReason
from reminders.emails import build_digest, digest_entries, robot_text
from reminders.models import Reminder
from reminders.people import Person, UnitPeople
from reminders.rules import Occurrence, Schedule

logger = logging.getLogger(__name__)

_ERROR_MAX = 1000


# --- planning ------------------------------------------------------------------------------------


def plan_reminders(*, today: datetime.date, schedule: Schedule | None = None) -> int:
    """Insert the reminder rows due today; returns how many are new.

    Idempotent: the unique constraint (item, recipient, rule, period) is the key, so running it
    twice, late, or in two workers at once plans each reminder once. Queries do not grow with
    the number of items: one for candidates, a few for people, reviewers and robots, one for
    existing keys, bulk insert (plus a short transaction per batch of items escalated today).
    """
    schedule = schedule or Schedule.from_settings()
    now = clock.now()
    wanted: list[tuple[RectificationItem, Occurrence]] = []
    escalations: list[tuple[RectificationItem, Occurrence]] = []
    items = selectors.with_review_due(list(selectors.candidates(today=today)), schedule=schedule)
    for item in items:
        for occurrence in rules.occurrences_for(item, today=today, schedule=schedule):
            wanted.append((item, occurrence))
        if item.escalated_at is None:
            escalation = rules.escalation_occurrence(
                deadline=item.deadline,
                is_overdue=item.is_overdue,
                today=today,
                schedule=schedule,
                status=item.status,
            )
            if escalation is not None:
                escalations.append((item, escalation))

    owners = selectors.people(item.owner_id for item in items if item.owner_id)
    units = selectors.unit_people({item.unit_id for item in items})
    robots = selectors.robot_units({item.unit_id for item in items})
    # The bureau's people, read only when some message is for them (most sweeps have none).
    reviewers = selectors.LazyReviewers(items)
    rows = []
    for item, occurrence in wanted:
        if rules.for_staff(occurrence.rule):
            pairs = rules.recipients_for(
                rule=occurrence.rule,
                owner=None,
                unit=UnitPeople(),
                evaluation_staff=reviewers[item.pk],
            )
            rows += [_row(item, occurrence, person, role, now) for person, role in pairs]
            continue
        pairs = rules.recipients_for(
            rule=occurrence.rule,
            owner=rules.responsible_owner(owners.get(item.owner_id), item.unit_id),
            unit=units.get(item.unit_id, UnitPeople()),
        )
        rows += [_row(item, occurrence, person, role, now) for person, role in pairs]
        if item.unit_id in robots:
            rows.append(_robot_row(item, occurrence, now))
        elif not pairs:
            # Nobody in the unit can be told: the bureau learns of it instead, once per
            # occurrence, and the unit shows on the staff's worklist.
            if occurrence.period == today:
                logger.warning("item #%s has nobody to remind: no owner, no unit account", item.pk)
            nobody = Occurrence(Rule.NOBODY_TO_REMIND, occurrence.period)
            rows += [
                _row(item, nobody, person, role, now)
                for person, role in rules.recipients_for(
                    rule=Rule.NOBODY_TO_REMIND,
                    owner=None,
                    unit=UnitPeople(),
                    evaluation_staff=reviewers[item.pk],
                )
            ]
    planned = _insert_new(rows)

    if escalations:
        staff = selectors.evaluation_staff()
        for start in range(0, len(escalations), ESCALATION_BATCH):
            planned += escalate_items(
                escalations[start : start + ESCALATION_BATCH],
                staff=staff,
                now=now,
                today=today,
                schedule=schedule,
                reviewers=reviewers,
            )
    return planned


def plan_notifications(*, now: datetime.datetime) -> int:
    """Turn the audit records that hand an item to someone into messages to that someone;
    returns how many are new.

    The ledger writes its events; this reads those of the last ``LIWAN_NOTIFY_WITHIN_HOURS``
    that have no message yet. Keyed by (event, recipient), so a repeated or concurrent sweep
    plans each notification once. The people are the ones responsible *now* (a reassigned
    owner, a unit's current staff), never the person who acted.
    """
    since = now - datetime.timedelta(hours=settings.LIWAN_NOTIFY_WITHIN_HOURS)
    events = selectors.unnotified_events(since=since)
    if not events:
        return 0
    items = [event.item for event in events]
    first_reviewers = {
        event.pk: (event.before or {}).get("first_reviewer")
        for event in events
        if event.action == EventAction.SECOND_REVIEW_DECLINED
    }
    owners = selectors.people(
        [item.owner_id for item in items if item.owner_id]
        + [pk for pk in first_reviewers.values() if isinstance(pk, int)]
    )
    units = selectors.unit_people({item.unit_id for item in items})
    reviewers = selectors.LazyReviewers(items)
    robots = selectors.robot_units({item.unit_id for item in items})
    rows = []
    for event in events:
        item = event.item
        rule = rules.notification_for(event.action, event.after or {})
        if rule is None:
            continue
        occurrence = Occurrence(rule, timezone.localdate(event.created_at))
        if rule == Rule.SECOND_REVIEW:
            # Four eyes: any evaluation staff member but the first reviewer may confirm.
            bureau = selectors.evaluation_staff()
        elif rule == Rule.REVIEW_DECLINED:
            first = owners.get(first_reviewers.get(event.pk))  # type: ignore[arg-type]
            bureau = [first] if first else []
        else:
            bureau = reviewers[item.pk]
        pairs = rules.notification_recipients(
            rule=rule,
            owner=rules.responsible_owner(owners.get(item.owner_id), item.unit_id),
            unit=units.get(item.unit_id, UnitPeople()),
            reviewers=bureau,
            actor_id=event.actor_id,
        )
        rows += [
            _row(item, occurrence, person, role, now)._replace(event_id=event.pk)
            for person, role in pairs
        ]
        if not rules.for_staff(rule) and item.unit_id in robots:
            rows.append(_robot_row(item, occurrence, now)._replace(event_id=event.pk))
    return _insert_new(rows)


# Items escalated per transaction: short transactions, a handful of queries per thousand items
# (the first sweep after a year's import may escalate tens of thousands at once).
ESCALATION_BATCH = 1000


def escalate_items(
    escalations: list[tuple[RectificationItem, Occurrence]],
    *,
    staff: list[Person],
    now: datetime.datetime,
    today: datetime.date,
    schedule: Schedule | None = None,
    reviewers: selectors.LazyReviewers | dict[int, list[Person]] | None = None,
) -> int:
    """Escalate (督办) long-overdue items once each and plan their reviewers' reminders (``staff``
    where an item has none given), all or nothing. Returns the reminders planned. The flag and
    its audit event are the ledger's (``rectification.services.escalate_overdue``, which also
    settles races)."""
    wanted = {item.pk: (item, occurrence) for item, occurrence in escalations}
    with transaction.atomic():
        won = ledger.escalate_overdue(
            item_ids=wanted,
            today=today,
            escalate_after=(schedule or Schedule.from_settings()).escalate_after,
        )
        rows = []
        for pk, deadline in won.items():
            item, occurrence = wanted[pk]
            people = rules.recipients_for(
                rule=Rule.ESCALATED,
                owner=None,
                unit=UnitPeople(),
                evaluation_staff=(reviewers or {}).get(pk, staff),
            )
            rows += [
                _row(item, occurrence, person, role, now)._replace(deadline=deadline)
                for person, role in people
            ]
        return _insert_new(rows)


class Planned(NamedTuple):
    """A message row to insert: a plain tuple, because planning builds one per item, rule and
    person (100,000 on a city's first day) and most already exist on later sweeps."""

    item_id: int
    recipient_id: int | None
    email: str
    role: str
    rule: str
    period: datetime.date
    deadline: datetime.date | None
    next_attempt_at: datetime.datetime
    channel: str = Channel.EMAIL
    unit_id: int | None = None
    event_id: int | None = None

    @property
    def key(self) -> tuple[object, ...]:
        """The row's idempotency key (the unique constraint it falls under)."""
        to = self.recipient_id if self.channel == Channel.EMAIL else self.unit_id
        if self.event_id is not None:
            return (self.channel, "event", self.event_id, to)
        return (self.channel, "period", self.item_id, to, self.rule, self.period)


def _row(
    item: RectificationItem,
    occurrence: Occurrence,
    person: Person,
    role: RecipientRole,
    now: datetime.datetime,
) -> Planned:
    return Planned(
        item_id=item.pk,
        recipient_id=person.id,
        email=person.email,
        role=str(role),
        rule=str(occurrence.rule),
        period=occurrence.period,
        deadline=item.deadline,
        next_attempt_at=now,
    )


def _robot_row(item: RectificationItem, occurrence: Occurrence, now: datetime.datetime) -> Planned:
    """The same message for the unit's group robot."""
    return Planned(
        item_id=item.pk,
        recipient_id=None,
        email="",
        role=str(RecipientRole.TO),
        rule=str(occurrence.rule),
        period=occurrence.period,
        deadline=item.deadline,
        next_attempt_at=now,
        channel=Channel.WEBHOOK,
        unit_id=item.unit_id,
    )


def _insert_new(rows: list[Planned]) -> int:
    if not rows:
        return 0
    existing = {
        Planned(item, person, "", "", rule, period, None, None, channel, unit, event).key  # type: ignore[arg-type]
        for item, person, rule, period, channel, unit, event in Reminder.objects.filter(
            item_id__in={r.item_id for r in rows}, period__in={r.period for r in rows}
        ).values_list("item_id", "recipient_id", "rule", "period", "channel", "unit_id", "event_id")
    }
    new = []
    for row in rows:
        if row.key not in existing:
            existing.add(row.key)  # the same key twice in one plan (two rules, one person)
            new.append(row)
    # Conflicts are ignored: a concurrent sweep may insert the same keys between read and write.
    if connection.vendor == "postgresql":
        _insert_copied(new)
    else:
        Reminder.objects.bulk_create(
            [Reminder(**r._asdict()) for r in new], ignore_conflicts=True, batch_size=500
        )
    return len(new)


def _insert_copied(rows: list[Planned]) -> None:
    """COPY into a temporary table, then INSERT … SELECT … ON CONFLICT DO NOTHING.

    Planning the first day of a 200,000-item ledger inserts ≈ 90,000 rows: ``bulk_create``
    took 20 s to build and send them; one array parameter per column (``unnest``) ≈ 1 s, of
    which psycopg spent ≈ 0.6 s writing the arrays in Python; COPY writes the rows in its C
    code. The conflict clause needs an INSERT, hence the temporary table, dropped at once (a
    sweep inserts several times in one transaction; a failure rolls its creation back).
    """
    table = connection.ops.quote_name(Reminder._meta.db_table)
    columns = ", ".join(Planned._fields)
    with transaction.atomic(), connection.cursor() as cursor:
        # The columns' types are the table's own.
        cursor.execute(
            f"CREATE TEMPORARY TABLE planned_reminder AS"  # noqa: S608 # nosec B608 — our table name
            f" SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY planned_reminder ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}, status, attempts, last_error, skip_reason,"  # noqa: S608 # nosec B608 — our table name
            f" created_at) SELECT {columns}, %s, 0, '', '', %s FROM planned_reminder"
            " ON CONFLICT DO NOTHING",
            [ReminderStatus.PENDING, clock.now()],
        )
        cursor.execute("DROP TABLE planned_reminder")


# --- sending -------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What a send pass did. ``claimed`` counts rows this worker won; lost races count nothing."""

    claimed: int = 0
    emails: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0

    def add(self, other: Delivery) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def send_due_digests(
    *,
    now: datetime.datetime,
    today: datetime.date | None = None,
    schedule: Schedule | None = None,
) -> Delivery:
    """Send every person whose reminders are due one digest, at most one per calendar day
    (``today``, by default the day of ``now`` in TIME_ZONE)."""
    today = today or timezone.localdate(now)
    schedule = schedule or Schedule.from_settings()
    total = Delivery(recovered=recover_expired_claims(now=now))
    for recipient_id, reminder_ids in due_batches(now=now, today=today):
        total.add(
            deliver_digest(
                recipient_id=recipient_id,
                reminder_ids=reminder_ids,
                now=now,
                today=today,
                schedule=schedule,
            )
        )
    for unit_id, reminder_ids in robot_batches(now=now, today=today):
        total.add(
            deliver_robot(
                unit_id=unit_id,
                reminder_ids=reminder_ids,
                now=now,
                today=today,
                schedule=schedule,
            )
        )
    return total


def recover_expired_claims(*, now: datetime.datetime) -> int:
    """Rows left "sending" longer than the lease belong to a worker that died mid-send; put
    them back in the queue (or fail them when out of attempts). The message may or may not
    have reached the SMTP server — the at-least-once window of docs/reminders.md."""
    lease = datetime.timedelta(seconds=settings.LIWAN_REMINDER_CLAIM_LEASE_SECONDS)
    expired = Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=now - lease)
    note = "发送过程中断（工作进程停止）"
    failed = expired.filter(attempts__gte=settings.LIWAN_REMINDER_MAX_ATTEMPTS).update(
        status=ReminderStatus.FAILED, claim_token=None, last_error=f"{note}，已达最大发送次数"
    )
    retried = expired.update(
        status=ReminderStatus.PENDING,
        claim_token=None,
        claimed_at=None,
        next_attempt_at=now,
        last_error=f"{note}，已重新排队",
    )
    if failed or retried:
        logger.warning("recovered %s expired reminder claims (%s failed)", retried, failed)
    return failed + retried


def due_batches(*, now: datetime.datetime, today: datetime.date) -> Iterator[tuple[int, list[int]]]:
    """(recipient, due e-mail row ids) for everyone who has not had an e-mail today, and the
    notifications of those who want them at once (``User.notify_mode``). Other rows of a
    person already mailed today wait, pending, until tomorrow's first sweep."""
    start, end = rules.day_bounds(today)
    mailed_today = Reminder.objects.filter(
        channel=Channel.EMAIL, status=ReminderStatus.SENT, sent_at__gte=start, sent_at__lt=end
    ).values("recipient_id")
    due = (
        Reminder.objects.filter(
            channel=Channel.EMAIL, status=ReminderStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(
            ~Q(recipient_id__in=mailed_today)
            | Q(event__isnull=False, recipient__notify_mode=NotifyMode.IMMEDIATE)
        )
        .order_by("recipient_id", "id")
        .values_list("recipient_id", "id")
    )
    batches: dict[int, list[int]] = defaultdict(list)
    for recipient_id, reminder_id in due:
        batches[recipient_id].append(reminder_id)
    yield from batches.items()


def robot_batches(
    *, now: datetime.datetime, today: datetime.date
) -> Iterator[tuple[int, list[int]]]:
    """(unit, due robot row ids): a unit's group gets its reminders once a day like a person,
    and notifications at once."""
    start, end = rules.day_bounds(today)
    posted_today = Reminder.objects.filter(
        channel=Channel.WEBHOOK, status=ReminderStatus.SENT, sent_at__gte=start, sent_at__lt=end
    ).values("unit_id")
    due = (
        Reminder.objects.filter(
            channel=Channel.WEBHOOK, status=ReminderStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(~Q(unit_id__in=posted_today) | Q(event__isnull=False))
        .order_by("unit_id", "id")
        .values_list("unit_id", "id")
    )
    batches: dict[int, list[int]] = defaultdict(list)
    for unit_id, reminder_id in due:
        batches[unit_id].append(reminder_id)
    yield from batches.items()


def claim(*, reminder_ids: list[int], now: datetime.datetime) -> uuid.UUID | None:
    """Take the rows that are still pending and due, in one conditional UPDATE. Returns the
    claim token, or ``None`` when another worker got there first (row count 0).

    The lease starts at the claim itself, not at the start of the send pass (``now``): a pass
    that mails a thousand people runs for minutes, and a lease dated from its start would
    expire before its last claims were sent, letting another worker send them again."""
    token = uuid.uuid4()
    claimed = Reminder.objects.filter(
        pk__in=reminder_ids, status=ReminderStatus.PENDING, next_attempt_at__lte=now
    ).update(
        status=ReminderStatus.SENDING,
        claim_token=token,
        claimed_at=clock.now(),
        attempts=F("attempts") + 1,
    )
    return token if claimed else None


def deliver_digest(
    *,
    recipient_id: int,
    reminder_ids: list[int],
    now: datetime.datetime,
    today: datetime.date,
    schedule: Schedule | None = None,
) -> Delivery:
    """Claim one person's due rows, drop those that no longer apply, send one e-mail, record."""
    token = claim(reminder_ids=reminder_ids, now=now)
    if token is None:
        return Delivery()
    mine = Reminder.objects.filter(claim_token=token, status=ReminderStatus.SENDING)
    rows = list(mine.select_related("event__actor").order_by("id"))
    result = Delivery(claimed=len(rows))
    recipient = User.objects.select_related("unit").get(pk=recipient_id)
    schedule = schedule or Schedule.from_settings()
    items = selectors.items_now((row.item_id for row in rows), today=today, schedule=schedule)
    rows, skipped = _partition(rows, items, recipient=recipient, today=today, schedule=schedule)
    for reason, ids in skipped.items():
        result.skipped += mine.filter(pk__in=ids).update(
            status=ReminderStatus.SKIPPED, skip_reason=reason, claim_token=None
        )
    if not rows:
        return result

    message = build_digest(
        recipient_name=recipient.display_name,
        email=recipient.email,
        entries=digest_entries(rows, items, today=today),
        today=today,
        for_staff=is_evaluation_staff(recipient),
    )
    try:
        channels.send_email(message)
    except channels.DeliveryError as exc:
        _record_failure(mine, rows, exc, result=result)
        return result
    # The window: the SMTP server has the message; if we die before this UPDATE, the lease
    # expires and the digest is sent again (at least once, never silently lost).
    result.sent += mine.update(
        status=ReminderStatus.SENT,
        sent_at=clock.now(),
        email=recipient.email,
        claim_token=None,
        last_error="",
    )
    result.emails += 1
    return result


def deliver_robot(
    *,
    unit_id: int,
    reminder_ids: list[int],
    now: datetime.datetime,
    today: datetime.date,
    schedule: Schedule | None = None,
) -> Delivery:
    """Claim one unit's due robot rows, drop those that no longer apply, post one message to
    its group robot, record — the same claim-once path as e-mail."""
    token = claim(reminder_ids=reminder_ids, now=now)
    if token is None:
        return Delivery()
    mine = Reminder.objects.filter(claim_token=token, status=ReminderStatus.SENDING)
    rows = list(mine.select_related("event__actor").order_by("id"))
    result = Delivery(claimed=len(rows))
    unit = Unit.objects.get(pk=unit_id)
    schedule = schedule or Schedule.from_settings()
    items = selectors.items_now((row.item_id for row in rows), today=today, schedule=schedule)
    skipped: dict[SkipReason, list[int]] = defaultdict(list)
    keep = []
    for row in rows:
        reason = (
            SkipReason.NO_WEBHOOK
            if not (unit.webhook_url and unit.webhook_kind)
            else _still_applies(row, items[row.item_id], today=today, schedule=schedule)
        )
        if reason is None:
            keep.append(row)
        else:
            skipped[reason].append(row.pk)
    for reason, ids in skipped.items():
        result.skipped += mine.filter(pk__in=ids).update(
            status=ReminderStatus.SKIPPED, skip_reason=reason, claim_token=None
        )
    if not keep:
        return result
    text = robot_text(
        unit_name=str(unit), entries=digest_entries(keep, items, today=today), today=today
    )
    try:
        channels.post_robot(
            kind=unit.webhook_kind, url=unit.webhook_url, secret=unit.webhook_secret, text=text
        )
    except channels.DeliveryError as exc:
        _record_failure(mine, keep, exc, result=result)
        return result
    result.sent += mine.update(
        status=ReminderStatus.SENT, sent_at=clock.now(), claim_token=None, last_error=""
    )
    result.emails += 1
    return result


def _still_applies(
    row: Reminder, item: RectificationItem, *, today: datetime.date, schedule: Schedule
) -> SkipReason | None:
    return rules.skip_reason(
        rule=row.rule,
        period=row.period,
        planned_deadline=row.deadline,
        item=item,
        today=today,
        schedule=schedule,
    )


def _partition(
    rows: list[Reminder],
    items: dict[int, RectificationItem],
    *,
    recipient: User,
    today: datetime.date,
    schedule: Schedule,
) -> tuple[list[Reminder], dict[SkipReason, list[int]]]:
    """Rows still to send, and the others grouped by why they are dropped. A person is
    addressed as they are now: unit rules only while they belong to the item's unit, the
    bureau's rules only while they are evaluation staff."""
    skipped: dict[SkipReason, list[int]] = defaultdict(list)
    if not recipient.is_active or not recipient.email:
        reason = SkipReason.INACTIVE if not recipient.is_active else SkipReason.NO_EMAIL
        skipped[reason] = [row.pk for row in rows]
        return [], skipped
    staff = is_evaluation_staff(recipient)
    keep = []
    for row in rows:
        item = items[row.item_id]
        responsible = staff if rules.for_staff(row.rule) else recipient.unit_id == item.unit_id
        reason = (
            SkipReason.RECIPIENT_MOVED
            if not responsible
            else _still_applies(row, item, today=today, schedule=schedule)
        )
        if reason is None:
            keep.append(row)
        else:
            skipped[reason].append(row.pk)
    return keep, skipped


def retry_delay(attempts: int) -> datetime.timedelta:
    """Exponential backoff with jitter: base · 2^(attempts−1), capped, then a random 50–100 % of
    it, so a crowd of failed digests does not hit the recovered server in one burst."""
    ceiling = min(
        settings.LIWAN_REMINDER_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
        settings.LIWAN_REMINDER_RETRY_MAX_SECONDS,
    )
    # Jitter spreads retries over time; nothing secret depends on it.
    return datetime.timedelta(seconds=ceiling * random.uniform(0.5, 1.0))  # noqa: S311 # nosec B311


def _record_failure(
    mine: QuerySet[Reminder],
    rows: list[Reminder],
    exc: channels.DeliveryError,
    *,
    result: Delivery,
) -> None:
    error = str(exc)[:_ERROR_MAX]
    ids = [row.pk for row in rows]
    if exc.permanent:
        logger.warning("message refused permanently: %s", error)
        result.failed += mine.filter(pk__in=ids).update(
            status=ReminderStatus.FAILED, claim_token=None, last_error=error
        )
        return
    logger.warning("message failed, will retry: %s", error, exc_info=exc.__cause__ or exc)
    spent = mine.filter(pk__in=ids, attempts__gte=settings.LIWAN_REMINDER_MAX_ATTEMPTS)
    result.failed += spent.update(status=ReminderStatus.FAILED, claim_token=None, last_error=error)
    attempts = max(row.attempts for row in rows)
    result.retrying += mine.filter(pk__in=ids).update(
        status=ReminderStatus.PENDING,
        claim_token=None,
        claimed_at=None,
        # From the failure, not the start of the send pass (which may be minutes earlier).
        next_attempt_at=clock.now() + retry_delay(attempts),
        last_error=error,
    )


def requeue_failed(*, ids: list[int]) -> int:
    """Put failed reminders back in the queue (the back-office's "重新发送") with fresh
    attempts; the next sweep sends them (the caller may ask for one: ``tasks.request_sweep``)."""
    return Reminder.objects.filter(pk__in=ids, status=ReminderStatus.FAILED).update(
        status=ReminderStatus.PENDING,
        attempts=0,
        next_attempt_at=clock.now(),
        claim_token=None,
        claimed_at=None,
    )


# --- the loop body -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did; true when it found work (the task and the command report it)."""

    planned: int = 0
    delivery: Delivery = field(default_factory=Delivery)

    def __bool__(self) -> bool:
        return bool(self.planned or self.delivery.claimed or self.delivery.recovered)


def sweep(*, today: datetime.date | None = None) -> SweepResult:
    """Plan what is due, then send it. ``today`` defaults to the calendar day in TIME_ZONE."""
    today = today or clock.today()
    schedule = Schedule.from_settings()  # once per sweep: planning and sending agree
    planned = plan_reminders(today=today, schedule=schedule)
    planned += plan_notifications(now=clock.now())
    # "now" after planning: rows just planned are due at their planning time.
    delivery = send_due_digests(now=clock.now(), today=today, schedule=schedule)
    return SweepResult(planned=planned, delivery=delivery)


# --- dry run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestPreview:
    name: str
    email: str
    lines: list[str]
    skipped: dict[str, int]


def preview(*, today: datetime.date | None = None) -> list[DigestPreview]:
    """Who would get what if a sweep ran now, changing nothing: the same planner and digest
    builder run inside a transaction that is rolled back (an escalation included)."""
    today = today or clock.today()
    schedule = Schedule.from_settings()
    previews = []
    with transaction.atomic():
        plan_reminders(today=today, schedule=schedule)
        plan_notifications(now=clock.now())
        for recipient_id, ids in due_batches(now=clock.now(), today=today):
            recipient = User.objects.get(pk=recipient_id)
            rows = list(
                Reminder.objects.filter(pk__in=ids).select_related("event__actor").order_by("id")
            )
            items = selectors.items_now(
                (row.item_id for row in rows), today=today, schedule=schedule
            )
            keep, skipped = _partition(
                rows, items, recipient=recipient, today=today, schedule=schedule
            )
            entries = digest_entries(keep, items, today=today)
            previews.append(
                DigestPreview(
                    name=recipient.display_name,
                    email=recipient.email,
                    lines=[
                        f"【{'、'.join(e.reasons)}】{e.unit} · {e.project} · {e.title}"
                        f"（{e.timing}）{e.url}"
                        for e in entries
                    ],
                    skipped={SkipReason(r).label: len(v) for r, v in skipped.items()},
                )
            )
        transaction.set_rollback(True)
    return previews
