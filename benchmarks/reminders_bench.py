"""The reminder sweep at scale: planning over every open item, then sending to a local SMTP
server. Runs inside a transaction that is rolled back, so the benchmark database is the same
for the next run."""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction
from django.test.utils import override_settings

from liwan import clock
from rectification.choices import ItemStatus
from rectification.models import RectificationItem
from reminders import services
from reminders.choices import ReminderStatus
from reminders.models import Reminder


class _Rollback(Exception):
    pass


def run(*, smtp_host: str, smtp_port: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    today = clock.today()
    # Each run's rows are rolled back, and leave their dead tuples behind: after a few runs the
    # table is 150 MB of them and inserting the day's rows takes half as long again. A real
    # sweep finds the table as autovacuum keeps it.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(Reminder._meta.db_table)}")
    try:
        with transaction.atomic():
            result["open_items"] = RectificationItem.objects.exclude(
                status=ItemStatus.CLOSED
            ).count()
            started = time.perf_counter()
            result["planned"] = services.plan_reminders(today=today)
            result["planning_seconds"] = round(time.perf_counter() - started, 2)
            # Planning again finds everything planned: the idempotent path, as every later
            # sweep of the day takes it.
            started = time.perf_counter()
            result["replanned"] = services.plan_reminders(today=today)
            result["replanning_seconds"] = round(time.perf_counter() - started, 2)
            with override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST=smtp_host,
                EMAIL_PORT=smtp_port,
                EMAIL_USE_TLS=False,
                EMAIL_USE_SSL=False,
                EMAIL_HOST_USER="",
                EMAIL_HOST_PASSWORD="",
            ):
                started = time.perf_counter()
                delivery = services.send_due_digests(now=clock.now(), today=today)
                seconds = time.perf_counter() - started
            result["emails_sent"] = delivery.emails
            result["reminders_sent"] = delivery.sent
            result["failed"] = delivery.failed + delivery.retrying
            result["sending_seconds"] = round(seconds, 2)
            result["emails_per_second"] = round(delivery.emails / seconds, 1) if seconds else None
            result["left_pending"] = Reminder.objects.filter(status=ReminderStatus.PENDING).count()
            raise _Rollback
    except _Rollback:
        pass
    return result
