"""Nothing is lost when a part fails, with the real parts:

- **Redis stopped**: pages keep working — also the one that asks for a sweep — and reminders
  catch up once it is back, without restarting the web process. A throwaway redis-server on a
  free port is stopped and started here; the machine's own Redis is never touched.
- **PostgreSQL restarted**: a real gunicorn serving the app with persistent connections has its
  database connections terminated (``pg_terminate_backend``: what a client sees when the server
  restarts) and answers the very next request. A background process recovers the same way.
  Restarting the cluster itself would also cut every other session on this machine (a second
  test run, the pytest process's own connection); terminating only the app's backends gives the
  app exactly the same failure and leaves everything else alone.
- **SMTP down for 30 minutes** (frozen time): every reminder is delivered once the server is
  back, exactly once.
"""

from __future__ import annotations

import datetime
import http.cookiejar
import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from liwan import clock
from reminders import services
from reminders.choices import ReminderStatus, Rule
from reminders.models import Reminder
from tests import factories
from tests.services import require
from tests.smtp import free_port, running_smtp_server, use_smtp

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")


def overdue_item(deadline: datetime.date | None = None):  # type: ignore[no-untyped-def]
    owner = factories.UnitStaffFactory()
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=owner.unit,
        owner=owner,
        deadline=deadline or clock.today() - datetime.timedelta(days=1),
    )
    return owner, item


# --- Redis --------------------------------------------------------------------------------------


class ThrowawayRedis:
    """A redis-server of this test's own, on a free port, that the test stops and starts."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--loglevel", "notice"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        # Wait for the server's own word that it listens (a blocking read, no polling).
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "Ready to accept connections" in line:
                return
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None


@pytest.fixture
def throwaway_redis(tmp_path):
    require(bool(shutil.which("redis-server")), "needs redis-server (apt-get install redis-server)")
    server = ThrowawayRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker_app(throwaway_redis):
    """The Celery app as configured for production (settings), on the throwaway Redis."""
    from celery import Celery

    import reminders.tasks  # noqa: F401 - registers the shared task with the new app
    from liwan.celery import app

    queue = f"liwan-faults-{uuid.uuid4().hex[:8]}"
    faulty = Celery("liwan-faults")  # becomes the current app: shared tasks publish through it
    faulty.config_from_object("django.conf:settings", namespace="CELERY")
    # As in production: no result backend (with a Redis one, publishing during an outage waits
    # ~20 s and then asks for the whole application to be restarted).
    faulty.conf.update(
        broker_url=throwaway_redis.url,
        task_always_eager=False,
        task_default_queue=queue,
        broker_connection_retry_on_startup=False,
        worker_hijack_root_logger=False,
    )
    faulty.finalize()
    try:
        yield faulty
    finally:
        faulty.close()
        app.set_current()
        app.set_default()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_redis_stopped_the_web_keeps_working_and_reminders_catch_up(
    client, throwaway_redis, broker_app, caplog, settings
):
    from celery.contrib.testing.worker import start_worker
    from kombu.exceptions import OperationalError

    owner, item = overdue_item()
    failed = Reminder.objects.create(
        item=item,
        recipient=owner,
        email=owner.email,
        role="to",
        rule=Rule.OVERDUE,
        period=clock.today(),  # overdue day 1: the occurrence a sweep would plan today
        deadline=item.deadline,
        status=ReminderStatus.FAILED,
        attempts=12,
        next_attempt_at=timezone.now(),
        last_error="SMTPServerDisconnected",
    )
    staff = factories.StaffUserFactory(is_superuser=True)

    throwaway_redis.stop()
    # Pages work: they never touch the broker.
    client.force_login(owner)
    assert client.get(reverse("rectification:ledger")).status_code == 200
    assert (
        client.get(reverse("rectification:item-detail", kwargs={"pk": item.pk})).status_code == 200
    )
    client.logout()
    assert (
        client.post(
            reverse("login"), {"username": owner.username, "password": "correct horse battery"}
        ).status_code
        == 302
    )
    # The one page that asks for a sweep ("重新发送") still works, quickly, and says so in the log.
    client.force_login(staff)
    caplog.set_level(logging.WARNING, logger="reminders.services")
    started = time.monotonic()
    response = client.post(
        reverse("admin:reminders_reminder_changelist"),
        {"action": "resend", "_selected_action": [failed.pk]},
    )
    assert response.status_code == 302
    assert time.monotonic() - started < 10
    failed.refresh_from_db()
    assert failed.status == ReminderStatus.PENDING, "the database keeps the work"
    assert any("could not queue a reminder sweep" in r.getMessage() for r in caplog.records)
    # Beat cannot publish either meanwhile; its next tick simply tries again.
    with pytest.raises(OperationalError):
        broker_app.tasks["reminders.sweep"].delay()
    assert mail.outbox == []

    throwaway_redis.start()  # the same port, empty (nothing was queued while it was down)
    with running_smtp_server() as smtp:
        use_smtp(settings, smtp)
        with start_worker(broker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            # Beat's next tick, from this same process: publishing works again, no restart.
            broker_app.tasks["reminders.sweep"].delay()
            assert smtp.mailbox.wait_for(1, timeout=60), "the sweep ran and sent the digest"
        assert smtp.mailbox.recipients() == [owner.email], "one digest for the owner"
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}


# --- PostgreSQL ---------------------------------------------------------------------------------

APP_NAME = "liwan-fault-gunicorn"


class Gunicorn:
    """The app under gunicorn (one worker, one thread), on the test database, with persistent
    connections (``DATABASE_CONN_MAX_AGE``) as production runs it."""

    def __init__(self, folder: Path) -> None:
        conf = connection.settings_dict
        url = f"postgres://{conf['USER']}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "LIWAN_", "DATABASE_", "CELERY_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="liwan.settings",
            DATABASE_URL=f"{url}/{conf['NAME']}",
            DATABASE_CONN_MAX_AGE="600",
            LIWAN_VAR_DIR=str(folder / "var"),
            PGAPPNAME=APP_NAME,  # so that the test terminates this process's connections only
        )
        if conf.get("PASSWORD"):
            env["PGPASSWORD"] = conf["PASSWORD"]
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "liwan.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--threads", "1", "--log-level", "info"],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stderr is not None
        # Once it listens, requests wait in the socket's backlog until the worker takes them.
        for line in self.process.stderr:
            if "Listening at" in line:
                return
        raise RuntimeError("gunicorn did not start")

    def get(self, path: str, session: str) -> int:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Cookie": f"sessionid={session}"}
        )
        try:
            with opener.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()


def _terminate(application_name: str) -> int:
    """Terminate the database backends of one application, from a connection of our own."""
    import psycopg

    conf = connection.settings_dict
    with psycopg.connect(
        host=conf["HOST"] or "127.0.0.1",
        port=conf["PORT"] or 5432,
        user=conf["USER"],
        password=conf.get("PASSWORD") or None,
        dbname=conf["NAME"],
        autocommit=True,
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            [application_name],
        ).fetchall()
    return sum(1 for (terminated,) in rows if terminated)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_restarted_the_app_recovers_without_a_restart(client, tmp_path):
    owner, item = overdue_item()
    client.force_login(owner)  # a session in the database, for the requests to gunicorn
    session = client.cookies["sessionid"].value
    server = Gunicorn(tmp_path)
    try:
        ledger = reverse("rectification:ledger")
        detail = reverse("rectification:item-detail", kwargs={"pk": item.pk})
        assert server.get(ledger, session) == 200
        assert server.get(detail, session) == 200
        # The worker holds its connection between requests (CONN_MAX_AGE)…
        assert _terminate(APP_NAME) == 1
        # …and the very next request gets a fresh one: the health check at the start of a
        # request (CONN_HEALTH_CHECKS) finds the old one dead. No error page, no restart.
        assert server.get(detail, session) == 200
        assert server.get(ledger, session) == 200
        for _ in range(3):  # as often as it happens
            assert _terminate(APP_NAME) == 1
            assert server.get(ledger, session) == 200
    finally:
        server.stop()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_restarted_a_background_process_recovers_at_its_next_task():
    # A Celery worker closes unusable connections before each task (Celery's Django fix-up calls
    # close_old_connections), as Django does at each request; the health check does the rest.
    owner, _item = overdue_item()
    original = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 600
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
            cursor.execute("SET application_name = 'liwan-fault-worker'")
        assert _terminate("liwan-fault-worker") == 1
        close_old_connections()  # the start of the next task
        result = services.sweep()
        assert result.delivery.sent == 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid, "a new connection"
        assert [m.to for m in mail.outbox] == [[owner.email]]
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = original
        connection.close()


# --- SMTP ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["connection refused", "451 temporary failure"])
def test_smtp_down_for_30_minutes_no_reminder_is_lost_or_duplicated(settings, fault):
    # The defaults of production (attempts, backoff): nothing is tuned for the test.
    start = datetime.datetime(2024, 7, 1, 9, 0, tzinfo=SHANGHAI)
    every = datetime.timedelta(seconds=settings.LIWAN_REMINDER_SWEEP_SECONDS)
    with running_smtp_server() as server, time_machine.travel(start, tick=False) as frozen:
        use_smtp(settings, server)
        owners = [overdue_item(datetime.date(2024, 6, 30))[0] for _ in range(3)]
        if fault == "connection refused":
            server.stop()
        else:
            server.mailbox.refuse_next(10_000)

        while clock.now() < start + datetime.timedelta(minutes=30):
            services.sweep()
            frozen.shift(every)
        rows = list(Reminder.objects.all())
        assert {r.status for r in rows} == {ReminderStatus.PENDING}, "none given up"
        assert all(r.attempts >= 3 for r in rows), "retried meanwhile"
        assert server.mailbox.messages == []

        if fault == "connection refused":
            server.start()  # the same port
        else:
            server.mailbox.refuse_next(0)
        for _ in range(60):  # two more hours of the beat, one sweep per interval
            services.sweep()
            frozen.shift(every)
        assert server.mailbox.recipients() == sorted(o.email for o in owners), "each exactly once"
        assert {r.status for r in Reminder.objects.all()} == {ReminderStatus.SENT}
        assert Reminder.objects.count() == len(owners)
