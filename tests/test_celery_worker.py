"""The Celery side: the app, the beat schedule, the thin task, and one sweep through a real
worker on the machine's real Redis broker."""

from __future__ import annotations

import datetime
import uuid

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core import mail

from liwan import clock
from liwan.celery import app
from reminders.choices import ReminderStatus
from reminders.models import Reminder
from reminders.tasks import sweep_reminders
from tests import factories
from tests.services import REDIS_URL
from tests.smtp import running_smtp_server, use_smtp


def overdue_item():
    owner = factories.UnitStaffFactory()
    factories.ItemFactory(
        recommendation__finding__result__project__unit=owner.unit,
        owner=owner,
        deadline=clock.today() - datetime.timedelta(days=1),
    )
    return owner


def test_beat_runs_the_sweep_every_few_minutes_and_drops_stale_runs():
    entry = app.conf.beat_schedule["reminders-sweep"]
    assert entry["task"] == "reminders.sweep"
    assert entry["task"] in app.tasks
    assert 60 <= entry["schedule"] <= 600
    assert entry["options"]["expires"] == entry["schedule"]


def test_the_embedded_default_uses_the_filesystem_broker_under_var():
    if django_settings.CELERY_BROKER_URL != "filesystem://":
        pytest.skip("CELERY_BROKER_URL is set for this run")
    options = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert options[key].startswith(str(django_settings.VAR_DIR))


def test_beat_deletes_expired_exports_every_hour():
    entry = app.conf.beat_schedule["exports-expire"]
    assert entry["task"] == "rectification.expire_exports"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 3600


@pytest.mark.django_db
def test_the_task_runs_one_sweep():
    owner = overdue_item()
    assert sweep_reminders.delay().get() is True  # eager in the test settings
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert sweep_reminders.delay().get() is False, "nothing left to do"


@pytest.fixture
def role_groups(transactional_db):
    """Transactional tests run last, after others flushed the database — and with it the role
    groups that a data migration created. Put them back (as that migration does)."""
    from django.contrib.auth.models import Group

    from accounts.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role)


@pytest.fixture
def redis_app():
    """A Celery app on the real Redis broker (and result backend), on a queue of its own."""
    import rectification.tasks  # noqa: F401 - registers the shared tasks with the new app
    import reminders.tasks  # noqa: F401

    queue = f"liwan-test-{uuid.uuid4().hex[:12]}"
    test_app = Celery("liwan-test", broker=REDIS_URL, backend=REDIS_URL)
    test_app.conf.update(
        task_default_queue=queue,
        task_always_eager=False,
        broker_connection_retry_on_startup=False,
        worker_hijack_root_logger=False,
    )
    test_app.finalize()
    try:
        yield test_app
    finally:
        test_app.close()
        app.set_current()
        app.set_default()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.delete(queue)
        client.close()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_from_the_redis_broker(role_groups, redis_app, settings):
    owners = [overdue_item(), overdue_item()]
    with running_smtp_server() as server:
        use_smtp(settings, server)
        with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            result = redis_app.tasks["reminders.sweep"].apply_async()
            assert result.get(timeout=60) is True
            assert redis_app.tasks["reminders.sweep"].apply_async().get(timeout=60) is False
        assert server.mailbox.recipients() == sorted(o.email for o in owners)
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_a_ledger_export_and_mails_its_link(role_groups, redis_app, settings):
    from rectification import export_jobs
    from rectification.choices import ExportStatus

    for _ in range(3):
        factories.ItemFactory()
    staff = factories.StaffUserFactory(email="pingjia@example.gov.cn")
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="整改台账_全部.xlsx", today=clock.today()
    )
    with running_smtp_server() as server:
        use_smtp(settings, server)
        with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            task = redis_app.tasks["rectification.run_export"]
            assert task.apply_async(args=[str(job.pk)]).get(timeout=60) is True
            # Delivered again: the job is taken, nothing is written twice.
            assert task.apply_async(args=[str(job.pk)]).get(timeout=60) is False
        assert server.mailbox.recipients() == ["pingjia@example.gov.cn"]
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (ExportStatus.DONE, 3, 3)
    assert job.file.storage.exists(job.file.name)
