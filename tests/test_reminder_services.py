"""The sweep's services: plan, claim, one digest per person per day, outcomes, recovery."""

from __future__ import annotations

import datetime
import smtplib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from liwan import clock
from rectification import services as ledger
from rectification.choices import ClosureOutcome, EventAction, ItemStatus
from rectification.models import Event, RectificationItem
from reminders import channels, services
from reminders.choices import ReminderStatus, Rule, SkipReason
from reminders.models import Reminder
from reminders.people import Person
from reminders.rules import Occurrence
from tests import factories, workflow

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime.date(2024, 6, 30)


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> time_machine.travel:
    moment = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
    return time_machine.travel(moment, tick=False)


def day(n: int) -> datetime.date:
    """``n`` days after the deadline (negative: before)."""
    return DEADLINE + datetime.timedelta(days=n)


@pytest.fixture
def unit():
    return factories.UnitFactory(name="广州市荔湾区测试局")


@pytest.fixture
def owner(unit):
    return factories.UnitStaffFactory(unit=unit, username="owner", full_name="陈晓敏")


@pytest.fixture
def head(unit):
    return factories.UnitHeadFactory(unit=unit, username="head", full_name="周建国")


@pytest.fixture
def staff():
    return factories.StaffUserFactory(username="pingjia", full_name="王珊")


def make_item(unit, owner, *, deadline=DEADLINE, **fields):
    with at(datetime.date(2024, 6, 1)):
        return factories.ItemFactory(
            recommendation__finding__result__project__unit=unit,
            owner=owner,
            deadline=deadline,
            **fields,
        )


def rows(**filters) -> list[tuple[str, str, str]]:
    return sorted(
        Reminder.objects.filter(**filters).values_list("recipient__username", "rule", "status")
    )


def sweep_at(when: datetime.date, hour: int = 9, minute: int = 0) -> services.SweepResult:
    with at(when, hour, minute):
        return services.sweep()


def test_it_sends_each_person_one_digest_of_all_their_items(unit, owner, head):
    make_item(unit, owner, deadline=day(3))  # due in 3 days
    make_item(unit, owner, deadline=day(0))  # due today
    make_item(unit, owner, deadline=day(-1))  # overdue day 1: head in copy
    result = sweep_at(day(0))

    assert result.planned == 4
    assert (result.delivery.emails, result.delivery.sent) == (2, 4)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_address) == [head.email, owner.email]
    assert by_address[owner.email].body.count("查看与办理") == 3
    assert by_address[head.email].body.count("查看与办理") == 1
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}


def test_two_sweeps_on_one_day_send_once(unit, owner, head):
    make_item(unit, owner, deadline=day(-1))
    first = sweep_at(day(0), 9, 0)
    second = sweep_at(day(0), 9, 2)
    assert first
    assert not second, "the second sweep finds no work"
    assert len(mail.outbox) == 2


def test_a_worker_that_loses_the_race_for_a_row_sends_nothing(unit, owner):
    make_item(unit, owner, deadline=day(0))
    with at(day(0)):
        now, today = clock.now(), clock.today()
        services.plan_reminders(today=today)
        # Worker A lists the due rows, then stalls; worker B runs the whole send meanwhile.
        listed_by_a = list(services.due_batches(now=now, today=today))
        by_b = services.send_due_digests(now=now, today=today)
        by_a = [
            services.deliver_digest(recipient_id=r, reminder_ids=ids, now=now, today=today)
            for r, ids in listed_by_a
        ]
    assert by_b.emails == 1
    assert [d.claimed for d in by_a] == [0]
    assert len(mail.outbox) == 1


def test_a_row_is_claimed_by_one_conditional_update_only(unit, owner):
    make_item(unit, owner, deadline=day(0))
    with at(day(0)):
        services.plan_reminders(today=clock.today())
        ids = list(Reminder.objects.values_list("pk", flat=True))
        first = services.claim(reminder_ids=ids, now=clock.now())
        second = services.claim(reminder_ids=ids, now=clock.now())
    assert first is not None
    assert second is None
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts, reminder.claim_token) == (
        ReminderStatus.SENDING,
        1,
        first,
    )


def test_it_mails_a_person_at_most_once_a_day(unit, owner):
    make_item(unit, owner, deadline=day(2))  # due in 2 days → the "3 days" reminder
    sweep_at(day(0), 9)
    assert len(mail.outbox) == 1
    # Later that day a new item is given today's deadline: planned, but it waits for tomorrow.
    make_item(unit, owner, deadline=day(0))
    later = sweep_at(day(0), 15)
    assert later.planned == 1
    assert len(mail.outbox) == 1
    assert rows(rule=Rule.DUE_TODAY) == [("owner", Rule.DUE_TODAY, ReminderStatus.PENDING)]

    # Tomorrow's first sweep: today's-deadline reminder is stale (now overdue), the overdue one
    # goes out instead — in one digest with the other item's "1 day left".
    sweep_at(day(1), 0, 5)
    assert len(mail.outbox) == 2
    body = mail.outbox[1].body
    assert "已逾期 1 天" in body
    assert "还剩 1 天" in body
    assert rows(rule=Rule.DUE_TODAY) == [("owner", Rule.DUE_TODAY, ReminderStatus.SKIPPED)]
    assert Reminder.objects.get(rule=Rule.DUE_TODAY).skip_reason == SkipReason.SUPERSEDED


def test_it_skips_inactive_and_addressless_recipients_and_says_why(unit, owner, head):
    owner.is_active = False
    owner.save()
    head.email = ""
    head.save()
    make_item(unit, owner, deadline=day(-1))
    result = sweep_at(day(0))
    assert mail.outbox == []
    assert result.delivery.skipped == 2
    reasons = dict(Reminder.objects.values_list("recipient__username", "skip_reason"))
    assert reasons == {"owner": SkipReason.INACTIVE, "head": SkipReason.NO_EMAIL}


def test_an_item_closed_between_planning_and_sending_is_not_mailed(unit, owner, head, staff):
    item = make_item(unit, owner, deadline=day(-1))
    with at(day(0)):
        services.plan_reminders(today=clock.today())
        workflow.closed(
            item,
            staff,
            factories.StaffUserFactory(),
            outcome=ClosureOutcome.NOT_RECTIFIED,
            note="按未整改销号。",
        )
        delivery = services.send_due_digests(now=clock.now())
    assert mail.outbox == []
    assert delivery.skipped == 2
    assert set(Reminder.objects.values_list("skip_reason", flat=True)) == {SkipReason.ITEM_CLOSED}


def test_a_reminder_planned_before_an_extension_is_dropped(unit, owner, staff):
    item = make_item(unit, owner, deadline=day(0))
    with at(day(0)):
        services.plan_reminders(today=clock.today())
        extension = ledger.request_extension(
            item=item,
            actor=ledger.Actor(user=owner),
            requested_deadline=day(30),
            reason="需跨部门协调。",
        )
        ledger.decide_extension(extension=extension, actor=ledger.Actor(user=staff), approve=True)
        services.send_due_digests(now=clock.now())
    assert mail.outbox == []
    assert Reminder.objects.get().skip_reason == SkipReason.DEADLINE_MOVED


def test_it_requeues_rows_of_a_worker_that_died_while_sending(unit, owner, settings):
    settings.LIWAN_REMINDER_CLAIM_LEASE_SECONDS = 600
    make_item(unit, owner, deadline=day(0))
    with at(day(0), 9, 0):
        services.plan_reminders(today=clock.today())
        # A worker claimed the row and died before sending.
        assert services.claim(reminder_ids=[Reminder.objects.get().pk], now=clock.now())
    assert not sweep_at(day(0), 9, 5), "within the lease the row is left alone"
    assert mail.outbox == []

    result = sweep_at(day(0), 9, 11)
    assert result.delivery.recovered == 1
    assert len(mail.outbox) == 1
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 2)


def test_a_row_that_keeps_killing_its_worker_ends_as_failed(unit, owner, settings):
    settings.LIWAN_REMINDER_MAX_ATTEMPTS = 2
    make_item(unit, owner, deadline=day(0))
    with at(day(0), 9, 0):
        services.plan_reminders(today=clock.today())
    for minute in (0, 20):
        with at(day(0), 9, minute):
            services.recover_expired_claims(now=clock.now())
            assert services.claim(reminder_ids=[Reminder.objects.get().pk], now=clock.now()), (
                "claimed, then the worker dies"
            )
    with at(day(0), 9, 40):
        services.sweep()
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.FAILED
    assert "最大发送次数" in reminder.last_error
    assert mail.outbox == []


def test_requeue_failed_resets_the_rows_for_the_next_sweep(unit, owner):
    make_item(unit, owner, deadline=day(0))
    with at(day(0)):
        services.plan_reminders(today=clock.today())
        Reminder.objects.update(status=ReminderStatus.FAILED, attempts=6, last_error="550")
        ids = list(Reminder.objects.values_list("pk", flat=True))
        assert services.requeue_failed(ids=ids) == 1
        assert Reminder.objects.get().status == ReminderStatus.PENDING
        assert Reminder.objects.get().attempts == 0
        assert mail.outbox == [], "requeueing sends nothing by itself"
        services.sweep()
    assert len(mail.outbox) == 1
    assert Reminder.objects.get().status == ReminderStatus.SENT


def test_requeue_leaves_rows_that_did_not_fail_alone(unit, owner):
    make_item(unit, owner, deadline=day(0))
    sweep_at(day(0))
    assert services.requeue_failed(ids=list(Reminder.objects.values_list("pk", flat=True))) == 0
    assert Reminder.objects.get().status == ReminderStatus.SENT


def test_escalation_happens_once_even_when_two_sweeps_race(unit, owner, staff):
    item = make_item(unit, owner, deadline=day(0))
    occurrence = Occurrence(Rule.ESCALATED, day(15))
    with at(day(15)):
        first = services.escalate_items(
            [(item, occurrence)],
            staff=[Person(staff.pk, staff.email)],
            now=clock.now(),
            today=clock.today(),
        )
        second = services.escalate_items(
            [(item, occurrence)],
            staff=[Person(staff.pk, staff.email)],
            now=clock.now(),
            today=clock.today(),
        )
    assert (first, second) == (1, 0)
    assert Event.objects.filter(item=item, action=EventAction.ESCALATED).count() == 1


def test_it_escalates_many_items_in_a_constant_number_of_queries(unit, owner, staff):
    def queries_to_plan(n_items: int) -> int:
        for _ in range(n_items):
            make_item(unit, owner, deadline=day(0))
        with at(day(15)), CaptureQueriesContext(connection) as ctx:
            services.plan_reminders(today=clock.today())
        return len(ctx)

    assert queries_to_plan(2) == queries_to_plan(40)
    assert RectificationItem.objects.filter(escalated_at__isnull=True).count() == 0
    assert Event.objects.filter(action=EventAction.ESCALATED).count() == 42
    escalations = Reminder.objects.filter(rule=Rule.ESCALATED, recipient=staff)
    assert escalations.count() == 42


def test_it_builds_digests_in_a_constant_number_of_queries(unit, owner, head):
    def queries_to_send(n_items: int, when: datetime.date) -> int:
        for _ in range(n_items):
            make_item(unit, owner, deadline=when - datetime.timedelta(days=1))
        with at(when):
            services.plan_reminders(today=clock.today())
            with CaptureQueriesContext(connection) as ctx:
                services.send_due_digests(now=clock.now())
        return len(ctx.captured_queries)

    one = queries_to_send(1, day(0))
    many = queries_to_send(25, day(30))
    assert one == many
    assert len(mail.outbox) == 4  # owner and head, on each of the two days


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 30, 60), (2, 60, 120), (4, 240, 480), (10, 1800, 3600)],
)
def test_retry_delay_grows_exponentially_with_jitter_and_a_cap(attempts, low, high, settings):
    settings.LIWAN_REMINDER_RETRY_BASE_SECONDS = 60
    settings.LIWAN_REMINDER_RETRY_MAX_SECONDS = 3600
    delays = {services.retry_delay(attempts).total_seconds() for _ in range(50)}
    assert all(low <= d <= high for d in delays)
    assert len(delays) > 1, "jittered"


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x": (450, b"mailbox busy")}), False),
        (smtplib.SMTPDataError(554, b"rejected"), True),
        (smtplib.SMTPDataError(451, b"try later"), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (smtplib.SMTPSenderRefused(553, b"sender not allowed", "noreply@liwan.local"), False),
        (ConnectionRefusedError(111, "refused"), False),
        (TimeoutError("timed out"), False),
    ],
)
def test_it_retries_everything_but_a_refused_address_or_message(exc, permanent):
    assert channels.is_permanent(exc) is permanent


@pytest.fixture
def role_groups(transactional_db):
    """Transactional tests run last, after others flushed the database — and with it the role
    groups that a data migration created. Put them back (as that migration does)."""
    from django.contrib.auth.models import Group

    from accounts.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_the_same_moment_send_each_digest_once(role_groups):
    """The same race for real: two threads, two database connections, started together."""
    import threading

    owners = []
    for _ in range(10):
        owner = factories.UnitStaffFactory()
        factories.ItemFactory(
            recommendation__finding__result__project__unit=owner.unit,
            owner=owner,
            deadline=clock.today(),
        )
        owners.append(owner)
    services.plan_reminders(today=clock.today())
    start = threading.Barrier(2)
    results: list[services.Delivery] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            results.append(services.send_due_digests(now=clock.now()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.emails for r in results) == 10
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in owners)
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}


def test_a_claims_lease_starts_when_it_is_made_not_when_the_send_pass_began(unit, owner, settings):
    """A pass that mails many people runs for minutes; its late claims must not look expired
    to another worker's recovery (which would send those digests a second time)."""
    make_item(unit, owner, deadline=day(0))
    with at(day(0)):
        services.plan_reminders(today=clock.today())
        pass_started = clock.now()
    lease = datetime.timedelta(seconds=settings.LIWAN_REMINDER_CLAIM_LEASE_SECONDS)
    # The pass reaches this person after longer than the lease.
    with time_machine.travel(pass_started + lease + datetime.timedelta(minutes=1), tick=False):
        ids = list(Reminder.objects.values_list("pk", flat=True))
        assert services.claim(reminder_ids=ids, now=pass_started) is not None
        assert services.recover_expired_claims(now=clock.now()) == 0
    assert Reminder.objects.get().status == ReminderStatus.SENDING


def test_escalation_leaves_alone_an_item_closed_or_extended_since_the_sweep_read_it(
    unit, owner, staff
):
    closed = make_item(unit, owner, deadline=day(0))
    extended = make_item(unit, owner, deadline=day(0))
    occurrence = Occurrence(Rule.ESCALATED, day(15))
    factories.force_update(
        RectificationItem.objects.filter(pk=closed.pk),
        status=ItemStatus.CLOSED,
        closure_outcome=ClosureOutcome.RECTIFIED,
    )
    RectificationItem.objects.filter(pk=extended.pk).update(deadline=day(30))
    with at(day(15)):
        planned = services.escalate_items(
            [(closed, occurrence), (extended, occurrence)],
            staff=[Person(staff.pk, staff.email)],
            now=clock.now(),
            today=clock.today(),
        )
    assert planned == 0
    assert not Event.objects.filter(action=EventAction.ESCALATED).exists()
    assert not RectificationItem.objects.exclude(escalated_at=None).exists()
