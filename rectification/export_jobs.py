"""Large exports as background jobs (导出任务).

A city's whole ledger takes minutes to write as XLSX — longer than a reverse proxy waits for a
first byte. An export of more than ``LIWAN_EXPORT_INLINE_ROWS`` rows is therefore written by the
Celery worker: the request records an ``ExportJob`` (who, what, which "today") and the page
follows its progress; the worker writes the file to storage, counting rows as it goes, and tells
the person by e-mail when it is ready. The file is kept ``LIWAN_EXPORT_KEEP_HOURS`` and then
deleted by the sweep. Smaller exports stay immediate (``rectification.views.LedgerExportView``).
A big unit's closure list (对账销号单) as Word, of more than
``LIWAN_CLOSURE_LIST_INLINE_ITEMS`` items, is such a job too: each kind names its writer
(``WRITERS``).

The job is run with the requester's own scope, read again when it runs: what they may see is
what the file holds, as at the page's "today".
"""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import DatabaseError
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.http import QueryDict
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from liwan import clock, notice
from liwan.replica import configured as replica_configured
from liwan.replica import replica_reads
from rectification import exports, selectors
from rectification.choices import ExportKind, ExportStatus
from rectification.models import ExportJob, RectificationItem

if TYPE_CHECKING:
    from accounts.models import User
    from rectification.querysets import RectificationItemQuerySet

logger = logging.getLogger(__name__)

# How often the worker writes its progress: often enough for the bar to move each second, rarely
# enough to cost nothing beside writing the rows.
PROGRESS_EVERY = 500

# What writes each kind's file: called with the job, a binary file to write to and a progress
# callback (rows written, rows in all); returns the rows written. Named, not imported: the
# closure list lives in the dashboard, which reads the ledger.
WRITERS: dict[str, str] = {
    ExportKind.LEDGER: "rectification.export_jobs.write_ledger",
    ExportKind.CLOSURE_LIST: "dashboard.report_docx.write_closure_list",
}

# What a job's file writer calls now and then: rows written, rows in all.
Progress = Callable[[int, int], None]


def in_background(items: RectificationItemQuerySet, *, limit: int | None = None) -> bool:
    """Whether exporting ``items`` is a job for the worker: more than ``limit`` (the ledger's
    inline limit unless given), counted no further than that."""
    if limit is None:
        limit = settings.LIWAN_EXPORT_INLINE_ROWS
    return items.order_by()[: limit + 1].count() > limit


def start(
    *,
    user: User,
    query: str,
    fmt: str,
    filename: str,
    today: datetime.date,
    written_at: str = "",
    kind: ExportKind = ExportKind.LEDGER,
) -> tuple[ExportJob, bool]:
    """Record the export ``user`` asked for (its ``kind`` and ``query``: the ledger's filters,
    a closure list's unit and year); ``(job, True)`` when it is new and the caller must queue
    ``run`` once the transaction commits. The same export asked again while one is waiting or
    being written (a reload, a double click) is that job."""
    waiting = (
        ExportJob.objects.filter(
            requested_by=user,
            kind=kind,
            query=query,
            format=fmt,
            status__in=ExportJob.IN_PROGRESS,
            created_at__gte=clock.now() - datetime.timedelta(hours=1),
        )
        .order_by("-created_at")
        .first()
    )
    if waiting is not None:
        return waiting, False
    job = ExportJob.objects.create(
        requested_by=user,
        kind=kind,
        format=fmt,
        query=query,
        filename=filename,
        today=today,
        written_at=written_at,
    )
    return job, True


def run(job_id: uuid.UUID | str) -> ExportJob | None:
    """Write the file of a queued job. A job already taken (a redelivered task, a second
    worker) is left alone; a failure is recorded on the job, not raised. A job that fails on
    the standby (a long read cancelled by the replay, say) is written again from the primary."""
    if not ExportJob.claim(job_id):
        return None
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    try:
        try:
            _write(job, replica=True)
        except DatabaseError:
            if not replica_configured():
                raise
            logger.warning("export %s failed on the replica; writing it from the primary", job.pk)
            _write(job, replica=False)
    except Exception as exc:
        if isinstance(exc, PermissionDenied):
            # The requester may no longer read it (their unit changed, say): expected, no error.
            logger.info("export %s refused: %s", job.pk, exc)
        else:
            logger.exception("export %s failed", job.pk)
        if job.file:
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(exc)[:500], finished_at=clock.now(), file=""
        )
        return ExportJob.objects.get(pk=job.pk)
    job.refresh_from_db()
    _tell(job)
    return job


def failed_to_queue(job_id: uuid.UUID) -> None:
    """The broker refused the job: say so on its page at once rather than after a day."""
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.FAILED,
        error=_("The export could not be handed to the worker."),
        finished_at=clock.now(),
    )


def _write(job: ExportJob, *, replica: bool) -> None:
    write = import_string(WRITERS[job.kind])
    # The export reads much and writes nothing but its progress: from the replica if there is
    # one close enough behind and holding the requester's own changes (its progress goes to
    # the primary by name, not by the router).
    reads = replica_reads(written_at=job.written_at) if replica else contextlib.nullcontext()
    with reads, tempfile.TemporaryFile() as spool:
        written = write(job, spool, lambda done, total: _progress(job, total=total, done=done))
        spool.seek(0)
        job.file.save(job.filename, File(spool), save=False)
    now = clock.now()
    ExportJob.objects.using("default").filter(pk=job.pk).update(
        file=job.file.name,
        status=ExportStatus.DONE,
        done=written,
        total=Greatest(F("total"), written),
        finished_at=now,
        expires_at=now + datetime.timedelta(hours=settings.LIWAN_EXPORT_KEEP_HOURS),
    )


def write_ledger(job: ExportJob, spool: BinaryIO, progress: Progress) -> int:
    """The ledger as the job's filters select it, as CSV or XLSX; the rows written."""
    ledger = selectors.ledger(viewer=job.requested_by, params=QueryDict(job.query), today=job.today)
    total = ledger.items.count()
    progress(0, total)
    rows = _counting(exports.iterate(ledger.rows), progress, total)
    if job.format != "csv":
        return exports.write_xlsx(rows, spool)
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    written = exports.write_csv(rows, text)
    text.flush()
    text.detach()
    return written


def _progress(job: ExportJob, *, done: int, total: int) -> None:
    ExportJob.objects.using("default").filter(pk=job.pk).update(done=done, total=total)


def _counting(
    rows: Iterable[RectificationItem], progress: Progress, total: int
) -> Iterator[RectificationItem]:
    count = 0
    for count, row in enumerate(rows, start=1):
        yield row
        if count % PROGRESS_EVERY == 0:
            progress(min(count, total), total)


def _tell(job: ExportJob) -> None:
    """The e-mail that the file is ready."""

    def compose() -> tuple[str, str]:
        facts = {
            "name": job.filename,
            "rows": job.done,
            "hours": settings.LIWAN_EXPORT_KEEP_HOURS,
            "link": notice.link(reverse("rectification:export-job", args=[job.pk])),
        }
        if job.kind == ExportKind.CLOSURE_LIST:
            return (
                _("Your closure list is ready: %(name)s") % facts,
                _(
                    "The closure list you asked for (%(rows)d problems) is ready. Download it "
                    "within %(hours)d hours:\n%(link)s\n"
                )
                % facts,
            )
        return (
            _("Your ledger export is ready: %(name)s") % facts,
            _(
                "The ledger export you asked for (%(rows)d rows) is ready. Download it within "
                "%(hours)d hours:\n%(link)s\n"
            )
            % facts,
        )

    notice.tell(job.requested_by, compose)


def origin(job: ExportJob) -> tuple[str, str]:
    """The page the export was asked from: its name and address."""
    if job.kind == ExportKind.CLOSURE_LIST:
        query = QueryDict(job.query)
        page = reverse("dashboard:closure-list", args=[query["unit"], query["year"]])
        return _("Closure list"), page
    ledger = reverse("rectification:ledger")
    return _("Rectification ledger"), f"{ledger}?{job.query}" if job.query else ledger


def expire(*, now: datetime.datetime) -> int:
    """Delete the files of jobs past their time, and forget jobs a week old; the number of files
    deleted. Jobs that never finished (a worker lost) count as failed after a day."""
    expired = 0
    for job in ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now):
        if job.file:
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.EXPIRED, file="")
        expired += 1
    ExportJob.objects.filter(
        status__in=ExportJob.IN_PROGRESS,
        created_at__lte=now - datetime.timedelta(days=1),
    ).update(status=ExportStatus.FAILED, error=_("The export did not finish."))
    # Deleting the rows deletes their files (the post_delete receiver below).
    for job in ExportJob.objects.filter(
        ~Q(status__in=(*ExportJob.IN_PROGRESS, ExportStatus.DONE)),
        created_at__lte=now - datetime.timedelta(days=7),
    ):
        job.delete()
    return expired


def delete_file(*, instance: ExportJob, **kwargs: object) -> None:
    """``post_delete`` receiver: a job's file goes with it (its user deleted, or forgotten)."""
    if instance.file:
        instance.file.delete(save=False)


def recent(user: User, *, limit: int = 5) -> list[ExportJob]:
    return list(ExportJob.objects.filter(requested_by=user).order_by("-created_at")[:limit])
