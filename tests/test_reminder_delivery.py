"""Delivery under faults, with real parts: a real SMTP server in the test process (aiosmtpd)
that refuses, disappears and comes back, and workers that die in the middle of a sweep.

What must hold: nothing lost, nothing duplicated — except in the one documented window between
the SMTP server accepting a message and our recording it (docs/reminders.md), where a digest
may be sent twice but never not at all.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from liwan import clock
from reminders import services
from reminders.choices import ReminderStatus
from reminders.models import Reminder
from tests import factories
from tests.smtp import (
    CrashingEmailBackend,
    WorkerKilled,
    running_smtp_server,
    use_smtp,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime.date(2024, 6, 30)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def smtp(settings):
    with running_smtp_server() as server:
        use_smtp(settings, server)
        yield server


@pytest.fixture
def clock_at():
    """A frozen clock at 09:00 the day after DEADLINE; ``shift(minutes=…)`` moves it."""
    start = datetime.datetime(2024, 7, 1, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def owners_with_overdue_items(count: int) -> list:
    """``count`` units, each with one owner (no head) and one item overdue since yesterday."""
    people = []
    for _ in range(count):
        owner = factories.UnitStaffFactory()
        factories.ItemFactory(
            recommendation__finding__result__project__unit=owner.unit,
            owner=owner,
            deadline=DEADLINE,
        )
        people.append(owner)
    return people


def statuses() -> list[str]:
    return sorted(Reminder.objects.values_list("status", flat=True))


@pytest.mark.django_db
def test_it_retries_temporary_refusals_with_backoff_and_delivers_each_digest_once(
    smtp, clock_at, settings
):
    settings.LIWAN_REMINDER_MAX_ATTEMPTS = 6
    settings.LIWAN_REMINDER_RETRY_BASE_SECONDS = 60
    people = owners_with_overdue_items(3)
    smtp.mailbox.refuse_next(4)  # 451 for the first four messages

    first = services.sweep()
    assert first.delivery.retrying == 3
    assert smtp.mailbox.messages == []
    assert statuses() == [ReminderStatus.PENDING] * 3
    assert all("451" in r.last_error for r in Reminder.objects.all())
    assert all(r.next_attempt_at > clock.now() for r in Reminder.objects.all()), "backed off"
    assert not services.sweep().delivery.claimed, "nothing is retried before its time"

    for _ in range(6):
        clock_at.shift(datetime.timedelta(minutes=10))
        services.sweep()
    assert smtp.mailbox.attempts == 4 + 3
    assert smtp.mailbox.recipients() == sorted(p.email for p in people)
    assert statuses() == [ReminderStatus.SENT] * 3


@pytest.mark.django_db
def test_it_keeps_reminders_while_the_server_is_down_and_sends_them_when_it_is_back(smtp, clock_at):
    people = owners_with_overdue_items(2)
    smtp.stop()
    services.sweep()
    assert statuses() == [ReminderStatus.PENDING] * 2
    assert "ConnectionRefusedError" in Reminder.objects.first().last_error

    smtp.start()  # same port
    clock_at.shift(datetime.timedelta(minutes=5))
    services.sweep()
    clock_at.shift(datetime.timedelta(minutes=5))
    services.sweep()
    assert smtp.mailbox.recipients() == sorted(p.email for p in people)
    assert statuses() == [ReminderStatus.SENT] * 2


@pytest.mark.django_db
def test_a_refused_address_fails_at_once_and_is_not_retried(smtp, clock_at):
    refused, fine = owners_with_overdue_items(2)
    smtp.mailbox.refuse_address(refused.email)
    result = services.sweep()
    assert (result.delivery.failed, result.delivery.emails) == (1, 1)

    for _ in range(3):
        clock_at.shift(datetime.timedelta(hours=1))
        services.sweep()
    failed = Reminder.objects.get(recipient=refused)
    assert (failed.status, failed.attempts) == (ReminderStatus.FAILED, 1)
    assert "550" in failed.last_error
    assert smtp.mailbox.recipients() == [fine.email]


@pytest.mark.django_db
def test_it_gives_up_after_the_last_attempt_and_shows_the_row_as_failed(smtp, clock_at, settings):
    settings.LIWAN_REMINDER_MAX_ATTEMPTS = 3
    owners_with_overdue_items(1)
    smtp.mailbox.refuse_next(100)
    for _ in range(5):
        services.sweep()
        clock_at.shift(datetime.timedelta(hours=1))
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.FAILED, 3)
    assert "451" in reminder.last_error
    assert smtp.mailbox.attempts == 3


@pytest.fixture
def crashing(settings, smtp):
    settings.EMAIL_BACKEND = "tests.smtp.CrashingEmailBackend"
    yield CrashingEmailBackend
    CrashingEmailBackend.disarm()


@pytest.mark.django_db
def test_a_worker_killed_before_the_server_took_the_message_loses_nothing(
    smtp, clock_at, crashing, settings
):
    people = owners_with_overdue_items(3)
    crashing.arm(2, after_send=False)
    with pytest.raises(WorkerKilled):
        services.sweep()
    assert statuses() == sorted(
        [ReminderStatus.SENT, ReminderStatus.SENDING, ReminderStatus.PENDING]
    )

    # Started again at once: the third person is served, the claimed row waits out its lease.
    crashing.disarm()
    services.sweep()
    assert len(smtp.mailbox.messages) == 2
    clock_at.shift(datetime.timedelta(seconds=settings.LIWAN_REMINDER_CLAIM_LEASE_SECONDS + 1))
    services.sweep()
    assert smtp.mailbox.recipients() == sorted(p.email for p in people)  # each exactly once
    assert statuses() == [ReminderStatus.SENT] * 3


@pytest.mark.django_db
def test_a_worker_killed_after_the_server_took_the_message_sends_it_again(
    smtp, clock_at, crashing, settings
):
    """The documented window: accepted by the server, not yet recorded by us → sent twice."""
    people = owners_with_overdue_items(3)
    crashing.arm(2, after_send=True)
    with pytest.raises(WorkerKilled):
        services.sweep()
    crashing.disarm()
    clock_at.shift(datetime.timedelta(seconds=settings.LIWAN_REMINDER_CLAIM_LEASE_SECONDS + 1))
    services.sweep()
    received = smtp.mailbox.recipients()
    assert sorted(set(received)) == sorted(p.email for p in people), "nobody is left out"
    assert received.count(people[1].email) == 2
    assert len(received) == 4
    assert statuses() == [ReminderStatus.SENT] * 3


# --- a real process, killed with SIGKILL ------------------------------------------------------


@pytest.fixture
def role_groups(transactional_db):
    """Transactional tests run last, after others flushed the database — and with it the role
    groups that a data migration created. Put them back (as that migration does)."""
    from django.contrib.auth.models import Group

    from accounts.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role)


def _subprocess_env(server) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "LIWAN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="liwan.settings",
        DATABASE_URL=url,
        EMAIL_HOST=server.host,
        EMAIL_PORT=str(server.port),
        LIWAN_LOG_LEVEL="WARNING",
    )
    return env


def _kill_mid_sweep(server, tmp_path, *, accept_first: bool) -> None:
    """Run ``manage.py send_reminders`` in its own process and SIGKILL it while the SMTP server
    holds the second digest (before or after storing it)."""
    stall = server.mailbox.stall_on(2, accept_first=accept_first)
    env = _subprocess_env(server) | {"LIWAN_VAR_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "send_reminders"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        if not stall.arrived.wait(timeout=60):
            proc.kill()
            output = proc.communicate()[0].decode(errors="replace")
            pytest.fail(f"the sweep never reached the second digest:\n{output}")
        proc.kill()
        proc.wait(timeout=30)
    finally:
        stall.release.set()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("accept_first", [False, True], ids=["before-accept", "after-accept"])
def test_a_killed_send_reminders_process_is_made_good_by_the_next_sweep(
    role_groups, smtp, settings, tmp_path, accept_first
):
    people = owners_with_overdue_items(3)  # overdue relative to the real today
    _kill_mid_sweep(smtp, tmp_path, accept_first=accept_first)
    assert sorted(Reminder.objects.values_list("status", flat=True)) == sorted(
        [ReminderStatus.SENT, ReminderStatus.SENDING, ReminderStatus.PENDING]
    )

    # Started again after the lease (0 here: the killed process is certainly gone).
    settings.LIWAN_REMINDER_CLAIM_LEASE_SECONDS = 0
    services.sweep(today=clock.today())
    received = smtp.mailbox.recipients()
    assert sorted(set(received)) == sorted(p.email for p in people), "nothing lost"
    expected = 4 if accept_first else 3  # the window duplicates the one digest in flight
    assert len(received) == expected
    assert statuses() == [ReminderStatus.SENT] * 3
