"""Large exports as background jobs: an export over the inline limit becomes a job whose page
shows its progress and then the download; the file holds what the requester may see; only they
can read it, for a day; the worker tells them by e-mail; small exports stay immediate."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from liwan import clock
from rectification import export_jobs
from rectification.choices import ExportStatus
from rectification.models import ExportJob
from tests import factories

pytestmark = pytest.mark.django_db
EXPORT = reverse("rectification:export")


@pytest.fixture
def big(settings):
    """Three items of one unit and one of another; anything over two rows is "big"."""
    settings.LIWAN_EXPORT_INLINE_ROWS = 2
    unit = factories.UnitFactory(name="甲单位")
    mine = [
        factories.ItemFactory(recommendation__finding__result__project__unit=unit) for _ in range(3)
    ]
    factories.ItemFactory()
    return unit, mine


def _job_page(client, job: ExportJob):  # type: ignore[no-untyped-def]
    return client.get(reverse("rectification:export-job", args=[job.pk]))


def test_a_big_export_becomes_a_job_that_ends_in_a_download(
    client, big, django_capture_on_commit_callbacks
):
    staff = factories.StaffUserFactory(email="pingjia@example.gov.cn")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(EXPORT, {"format": "xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("rectification:export-job", args=[job.pk])
    assert (job.status, job.done, job.total) == (ExportStatus.DONE, 4, 4)
    page = _job_page(client, job).content.decode()
    assert 'id="export-download"' in page
    assert 'http-equiv="refresh"' not in page
    download = client.get(reverse("rectification:export-download", args=[job.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert sheet.max_row == 5  # the header and four items
    (notice,) = mail.outbox
    assert notice.to == ["pingjia@example.gov.cn"]
    assert str(job.pk) in notice.body


def test_a_job_still_running_shows_its_progress_and_refreshes(client, big):
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="整改台账_全部.xlsx", today=clock.today()
    )
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, total=200, done=50)
    page = _job_page(client, job).content.decode()
    assert 'http-equiv="refresh"' in page
    assert 'max="100" value="25"' in page
    assert 'id="export-download"' not in page


def test_the_file_holds_the_requesters_own_scope_and_filter(client, big):
    unit, mine = big
    member = factories.UnitStaffFactory(unit=unit)
    job, _new = export_jobs.start(
        user=member, query="format=csv", fmt="csv", filename="x.csv", today=clock.today()
    )
    export_jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    text = job.file.open("rb").read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert len(rows) == len(mine)
    assert {row[2] for row in rows} == {"甲单位"}


def test_only_the_requester_reads_the_job_and_its_file(client, big):
    staff = factories.StaffUserFactory()
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="x.xlsx", today=clock.today()
    )
    export_jobs.run(job.pk)
    client.force_login(factories.StaffUserFactory())
    assert _job_page(client, job).status_code == 404
    assert client.get(reverse("rectification:export-download", args=[job.pk])).status_code == 404


def test_a_job_runs_once_however_often_its_task_is_delivered(big):
    staff = factories.StaffUserFactory()
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="x.xlsx", today=clock.today()
    )
    assert export_jobs.run(job.pk) is not None
    assert export_jobs.run(job.pk) is None


def test_the_file_is_deleted_after_its_time_and_the_page_says_so(client, big):
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="x.xlsx", today=clock.today()
    )
    export_jobs.run(job.pk)
    job.refresh_from_db()
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)
    assert export_jobs.expire(now=job.expires_at - datetime.timedelta(minutes=1)) == 0
    assert export_jobs.expire(now=job.expires_at) == 1
    assert not storage.exists(name)
    assert 'id="export-expired"' in _job_page(client, job).content.decode()
    assert client.get(reverse("rectification:export-download", args=[job.pk])).status_code == 410


def test_a_job_no_worker_took_is_marked_failed_after_a_day(client, big):
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="x.xlsx", today=clock.today()
    )
    export_jobs.expire(now=clock.now() + datetime.timedelta(days=1, minutes=1))
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert 'id="export-failed"' in _job_page(client, job).content.decode()


def test_a_small_export_is_still_immediate(client, settings):
    settings.LIWAN_EXPORT_INLINE_ROWS = 5
    factories.ItemFactory()
    client.force_login(factories.StaffUserFactory())
    response = client.get(EXPORT, {"format": "csv"})
    assert response.status_code == 200
    assert not ExportJob.objects.exists()


def test_the_same_export_asked_again_while_it_runs_is_the_same_job(client, big):
    client.force_login(factories.StaffUserFactory())
    first = client.get(EXPORT, {"format": "xlsx"})
    again = client.get(EXPORT, {"format": "xlsx"})
    assert first["Location"] == again["Location"]
    assert ExportJob.objects.count() == 1
    client.get(EXPORT, {"format": "csv"})
    assert ExportJob.objects.count() == 2


def test_an_export_the_broker_refuses_fails_at_once(
    client, big, monkeypatch, django_capture_on_commit_callbacks
):
    from rectification import tasks

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("broker down")

    # The broker is the edge: its refusal is simulated, the job's handling of it is real.
    monkeypatch.setattr(tasks.run_export, "delay", refuse)
    client.force_login(factories.StaffUserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        client.get(EXPORT, {"format": "xlsx"})
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.FAILED
    page = _job_page(client, job).content.decode()
    assert 'id="export-failed"' in page and 'http-equiv="refresh"' not in page


def test_the_page_stops_reloading_itself_after_a_quarter_of_an_hour(client, big):
    staff = factories.StaffUserFactory()
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="x.xlsx", today=clock.today()
    )
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=clock.now() - datetime.timedelta(minutes=16)
    )
    client.force_login(staff)
    page = _job_page(client, job).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert 'id="export-progress"' in page


def test_a_job_deleted_takes_its_file_with_it(big):
    staff = factories.StaffUserFactory()
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="x.xlsx", today=clock.today()
    )
    export_jobs.run(job.pk)
    job.refresh_from_db()
    storage, name = job.file.storage, job.file.name
    staff.delete()
    assert not ExportJob.objects.exists()
    assert not storage.exists(name)


def test_a_file_gone_under_the_download_is_gone_not_an_error(client, big):
    staff = factories.StaffUserFactory()
    job, _new = export_jobs.start(
        user=staff, query="", fmt="xlsx", filename="x.xlsx", today=clock.today()
    )
    export_jobs.run(job.pk)
    job.refresh_from_db()
    job.file.storage.delete(job.file.name)
    client.force_login(staff)
    assert client.get(reverse("rectification:export-download", args=[job.pk])).status_code == 410
