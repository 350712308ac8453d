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
import smtplib
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import User
from liwan import clock
from rectification import services as ledger
from rectification.models import RectificationItem
from reminders import rules, selectors
from reminders.choices import RecipientRole, ReminderStatus, Rule, SkipReason
from reminders.emails import build_digest, digest_entries
from reminders.models import Reminder
from reminders.people import Person, UnitPeople
from reminders.rules import Occurrence, Schedule

logger = logging.getLogger(__name__)

_ERROR_MAX = 1000


# --- planning ------------------------------------------------------------------------------------


def plan_reminders(*, today: datetime.date, schedule: Schedule | None = None) -> int:
    """Insert the ``Reminder`` rows due today; returns how many are new.

    Idempotent: the unique constraint (item, recipient, rule, period) is the key, so running it
    twice, late, or in two workers at once plans each reminder once. Queries do not grow with
    the number of items: one for candidates, two for people, one for existing keys, bulk insert
    (plus a short transaction per item escalated today).
    """
    schedule = schedule or Schedule.from_settings()
    now = clock.now()
    wanted: list[tuple[RectificationItem, Occurrence]] = []
    escalations: list[tuple[RectificationItem, Occurrence]] = []
    items = list(selectors.candidates(today=today, schedule=schedule))
    for item in items:
        for occurrence in rules.occurrences_for(item, today=today, schedule=schedule):
            wanted.append((item, occurrence))
        if item.escalated_at is None:
            escalation = rules.escalation_occurrence(
                deadline=item.deadline, is_overdue=item.is_overdue, today=today, schedule=schedule
            )
            if escalation is not None:
                escalations.append((item, escalation))

    owners = selectors.people(item.owner_id for item in items if item.owner_id)
    units = selectors.unit_people({item.unit_id for item in items})
    rows = []
    for item, occurrence in wanted:
        pairs = rules.recipients_for(
            rule=occurrence.rule,
            owner=owners.get(item.owner_id) if item.owner_id else None,
            unit=units.get(item.unit_id, UnitPeople()),
        )
        if not pairs and occurrence.period == today:  # once, on the day it begins
            logger.warning("item #%s has nobody to remind: no owner, no unit account", item.pk)
        rows += [_row(item, occurrence, person, role, now) for person, role in pairs]
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
            )
    return planned


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
) -> int:
    """Escalate (督办) long-overdue items once each and plan the evaluation staff's reminders,
    all or nothing. Returns the reminders planned. The flag and its audit event are the
    ledger's (``rectification.services.escalate_overdue``, which also settles races)."""
    wanted = {item.pk: (item, occurrence) for item, occurrence in escalations}
    people = rules.recipients_for(
        rule=Rule.ESCALATED, owner=None, unit=UnitPeople(), evaluation_staff=staff
    )
    with transaction.atomic():
        won = ledger.escalate_overdue(
            item_ids=wanted,
            today=today,
            escalate_after=(schedule or Schedule.from_settings()).escalate_after,
        )
        rows = []
        for pk, deadline in won.items():
            item, occurrence = wanted[pk]
            rows += [
                _row(item, occurrence, person, role, now)._replace(deadline=deadline)
                for person, role in people
            ]
        return _insert_new(rows)


class Planned(NamedTuple):
    """A reminder row to insert: a plain tuple, because planning builds one per item, rule and
    person (100,000 on a city's first day) and most already exist on later sweeps."""

    item_id: int
    recipient_id: int
    email: str
    role: str
    rule: str
    period: datetime.date
    deadline: datetime.date | None
    next_attempt_at: datetime.datetime

    @property
    def key(self) -> tuple[int, int, str, datetime.date]:
        return (self.item_id, self.recipient_id, self.rule, self.period)


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


def _insert_new(rows: list[Planned]) -> int:
    if not rows:
        return 0
    existing = set(
        Reminder.objects.filter(
            item_id__in={r.item_id for r in rows}, period__in={r.period for r in rows}
        ).values_list("item_id", "recipient_id", "rule", "period")
    )
    new = [r for r in rows if r.key not in existing]
    # Conflicts are ignored: a concurrent sweep may insert the same keys between read and write.
    if connection.vendor == "postgresql":
        _insert_unnest(new)
    else:
        Reminder.objects.bulk_create(
            [Reminder(**r._asdict()) for r in new], ignore_conflicts=True, batch_size=500
        )
    return len(new)


_INSERT_BATCH = 10_000


def _insert_unnest(rows: list[Planned]) -> None:
    """INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING, 10,000 rows a statement.

    One array parameter per column instead of one placeholder per value: planning the first
    day of a 200,000-item ledger inserts 100,000 rows, which ``bulk_create`` took 20 s to
    build and send, and this takes about one (BENCHMARKS.md).
    """
    now = clock.now()
    table = connection.ops.quote_name(Reminder._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_BATCH):
            batch = rows[start : start + _INSERT_BATCH]
            cursor.execute(
                f"INSERT INTO {table} (item_id, recipient_id, email, role, rule, period, deadline,"  # noqa: S608 # nosec B608 — our table name
                " status, attempts, next_attempt_at, last_error, skip_reason, created_at)"
                " SELECT i, u, e, ro, ru, p, d, %s, 0, n, '', '', %s FROM unnest("
                "%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[],"
                " %s::date[], %s::date[], %s::timestamptz[]) AS t(i, u, e, ro, ru, p, d, n)"
                " ON CONFLICT DO NOTHING",
                [
                    ReminderStatus.PENDING,
                    now,
                    [r.item_id for r in batch],
                    [r.recipient_id for r in batch],
                    [r.email for r in batch],
                    [r.role for r in batch],
                    [r.rule for r in batch],
                    [r.period for r in batch],
                    [r.deadline for r in batch],
                    [r.next_attempt_at for r in batch],
                ],
            )


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
    """(recipient, due reminder ids) for everyone who has not had a digest today. Rows of a
    person already mailed today wait, pending, until tomorrow's first sweep."""
    start, end = rules.day_bounds(today)
    mailed_today = Reminder.objects.filter(
        status=ReminderStatus.SENT, sent_at__gte=start, sent_at__lt=end
    ).values("recipient_id")
    due = (
        Reminder.objects.filter(status=ReminderStatus.PENDING, next_attempt_at__lte=now)
        .exclude(recipient_id__in=mailed_today)
        .order_by("recipient_id", "id")
        .values_list("recipient_id", "id")
    )
    batches: dict[int, list[int]] = defaultdict(list)
    for recipient_id, reminder_id in due:
        batches[recipient_id].append(reminder_id)
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
    rows = list(mine.order_by("id"))
    result = Delivery(claimed=len(rows))
    recipient = User.objects.get(pk=recipient_id)
    items = selectors.items_now((row.item_id for row in rows), today=today)
    rows, skipped = _partition(
        rows, items, recipient=recipient, today=today, schedule=schedule or Schedule.from_settings()
    )
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
    )
    try:
        message.send()
    except Exception as exc:  # every failure, ours included, is recorded on the rows
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


def _partition(
    rows: list[Reminder],
    items: dict[int, RectificationItem],
    *,
    recipient: User,
    today: datetime.date,
    schedule: Schedule,
) -> tuple[list[Reminder], dict[SkipReason, list[int]]]:
    """Rows still to send, and the others grouped by why they are dropped."""
    skipped: dict[SkipReason, list[int]] = defaultdict(list)
    if not recipient.is_active or not recipient.email:
        reason = SkipReason.INACTIVE if not recipient.is_active else SkipReason.NO_EMAIL
        skipped[reason] = [row.pk for row in rows]
        return [], skipped
    keep = []
    for row in rows:
        reason = rules.skip_reason(
            rule=row.rule,
            period=row.period,
            planned_deadline=row.deadline,
            item=items[row.item_id],
            today=today,
            schedule=schedule,
        )
        if reason is None:
            keep.append(row)
        else:
            skipped[reason].append(row.pk)
    return keep, skipped


def is_permanent(exc: BaseException) -> bool:
    """A refused address (5xx at RCPT) or a refused message (5xx at DATA) will be refused again:
    do not retry. Everything else — 4xx, refused or dropped connections, timeouts, a refused
    sender or login (our configuration, fixable), even our own errors — may pass, so it is
    retried with backoff until the attempts run out."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


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
    exc: Exception,
    *,
    result: Delivery,
) -> None:
    error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]
    ids = [row.pk for row in rows]
    if is_permanent(exc):
        logger.warning("reminder digest refused permanently: %s", error)
        result.failed += mine.filter(pk__in=ids).update(
            status=ReminderStatus.FAILED, claim_token=None, last_error=error
        )
        return
    logger.warning("reminder digest failed, will retry: %s", error, exc_info=exc)
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
        for recipient_id, ids in due_batches(now=clock.now(), today=today):
            recipient = User.objects.get(pk=recipient_id)
            rows = list(Reminder.objects.filter(pk__in=ids).order_by("id"))
            items = selectors.items_now((row.item_id for row in rows), today=today)
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
