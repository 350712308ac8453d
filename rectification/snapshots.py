"""Computations over a whole round, made by the worker and stored (轮次结果的后台计算).

Three staff pages compute something over every item of a round: the likely repeat problems
(``rectification.repeats``), the publication draft with its redaction check
(``results.publication``) and the report to leaders (``results.leaders_report``). For a
district's round of a few hundred items that takes a moment and is done on each request. For a
city's round of tens of thousands it takes from a second to tens of seconds, so above
``LIWAN_ROUND_INLINE_ITEMS`` items the page shows a stored result instead: a ``RoundSnapshot``
with its ``SnapshotRow``s in the order the page lists them, read a page at a time (the report,
a few sections of figures, is held whole in the summary). The worker computes it; the page
follows its progress while there is none yet.

A stored result is as old as its ``finished_at``, and the page says so. It is computed again,
while the old one stays on show, when it is older than ``LIWAN_SNAPSHOT_FRESH_SECONDS``, when
something it depends on changed (``supersede``: a round imported, a wording saved, a budget
decision or a confirmed repeat for the report), or when staff ask. Nothing is decided from a
stored result alone: a ruling on a repeat names its two items, and publishing computes the
draft again and compares it with the one staff read.

Each kind names the function that computes it (``COMPUTERS``): it receives the snapshot and a
progress callback (items done, items in all) and returns the summary and the rows.

The same machinery runs one-off jobs over a large round (``JOBS``): publishing it recomputes the
draft, which takes as long as computing it. Such a job is asked for once (``request`` with what
was asked in its summary), stores no rows, is never shown again as a page's result, and ends
either done (its summary says what it made) or refused, with the reason its user reads
(``Refused``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from liwan import clock
from liwan.bulk_insert import copy_rows
from rectification.choices import SnapshotKind, SnapshotStatus
from rectification.models import RectificationItem, RoundSnapshot, SnapshotRow

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

COMPUTERS: dict[str, str] = {
    SnapshotKind.REPEATS: "rectification.repeats.compute_snapshot",
    SnapshotKind.PUBLICATION: "results.publication.compute_snapshot",
    SnapshotKind.LEADERS_REPORT: "results.leaders_report.compute_snapshot",
    SnapshotKind.PUBLISHING: "results.services.publish_snapshot",
}
# Kinds that are one-off jobs: each is kept (its page is linked from an e-mail) until the weekly
# sweep, not replaced by the next one.
JOBS = frozenset({SnapshotKind.PUBLISHING})

# What hands a computation to the worker (named, as the computers are: the task module
# calls this one).
QUEUE = "rectification.tasks.queue_snapshot"
# A computation no worker finished within this long is taken for lost (the page queues another).
LOST_AFTER = datetime.timedelta(hours=1)
ROW_COLUMNS = ("snapshot_id", "position", "item_id", "other_id", "score", "flagged", "data")


@dataclass(frozen=True)
class Row:
    """One stored row: the item it is about, and what the page shows of it."""

    item_id: int
    other_id: int | None = None
    score: float | None = None
    flagged: bool = False
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    summary: dict[str, Any]
    rows: Iterable[Row]


# What a computation calls now and then: how many of how many items it has gone through.
Progress = Callable[[int, int], None]


def stored(year: int) -> bool:
    """Whether ``year``'s round is large enough for its results to be stored (counted no
    further than the limit)."""
    limit = settings.LIWAN_ROUND_INLINE_ITEMS
    # Without the ledger order: the count reads the year index, not a sort of the round.
    return RectificationItem.objects.filter(round_year=year).order_by()[: limit + 1].count() > limit


@dataclass(frozen=True)
class Shown:
    """What a page shows: the newest finished result, and the one being computed (or that
    failed, when nothing newer is being tried)."""

    snapshot: RoundSnapshot | None
    pending: RoundSnapshot | None
    failed: RoundSnapshot | None = None

    @property
    def refreshing(self) -> bool:
        """Whether the page reloads itself: while there is nothing to show yet, for a quarter
        of an hour at most (a computation no worker takes is failed after ``LOST_AFTER``)."""
        return self.snapshot is None and self.pending is not None and self.pending.refreshing


def follow(*, kind: SnapshotKind, year: int, scope: str = "", user: User) -> Shown:
    """The result of ``kind`` for ``year`` and ``scope`` to show, queueing a new computation
    (once the transaction commits) when there is none, or the newest is out of date, and none
    is under way. A computation that failed is not tried again by merely reading the page
    within the freshness period (a broken one would fail on every visit); staff may ask."""
    now = clock.now()
    done = stored_result(kind=kind, year=year, scope=scope)
    newest = _primary().filter(kind=kind, year=year, scope=scope).order_by("-created_at").first()
    pending = newest if newest is not None and newest.in_progress else None
    if pending is not None and _lost(pending, now):
        _fail(pending, _("The computation did not finish."))
        pending = None
    failed = newest if newest is not None and newest.status == SnapshotStatus.FAILED else None
    if pending is None and _out_of_date(done, failed, now):
        pending = request(kind=kind, year=year, scope=scope, user=user)
        failed = None
    return Shown(snapshot=done, pending=pending, failed=failed)


def _lost(snapshot: RoundSnapshot, now: datetime.datetime) -> bool:
    """Whether no worker will finish ``snapshot``: waiting, or running, for ``LOST_AFTER``
    (the time it waited in the queue does not count against a running one)."""
    since = snapshot.started_at if snapshot.status == SnapshotStatus.RUNNING else None
    return now - (since or snapshot.created_at) > LOST_AFTER


def _out_of_date(
    done: RoundSnapshot | None, failed: RoundSnapshot | None, now: datetime.datetime
) -> bool:
    fresh_for = datetime.timedelta(seconds=settings.LIWAN_SNAPSHOT_FRESH_SECONDS)
    if failed is not None and now - failed.created_at < fresh_for:
        return False
    if done is None:
        return True
    return done.superseded or now - (done.finished_at or done.created_at) > fresh_for


def request(
    *,
    kind: SnapshotKind,
    year: int,
    scope: str = "",
    user: User,
    asked: dict[str, Any] | None = None,
) -> RoundSnapshot:
    """A computation of ``kind`` for ``year`` and ``scope``: the one under way, or a new one
    handed to the worker once the transaction commits. ``asked`` is what a job needs beyond
    its scope (kept in the summary until the job replaces it with its outcome)."""
    try:
        with transaction.atomic():
            snapshot = RoundSnapshot.objects.create(
                kind=kind, year=year, scope=scope, requested_by=user, summary=asked or {}
            )
    except IntegrityError:
        # Someone queued it meanwhile (one computation of a kind and scope at a time): that one,
        # or, if it has finished since, the newest.
        return _primary().filter(kind=kind, year=year, scope=scope).latest("created_at")
    queue = import_string(QUEUE)
    transaction.on_commit(lambda: queue(snapshot.pk))
    return snapshot


def stored_result(*, kind: SnapshotKind, year: int, scope: str = "") -> RoundSnapshot | None:
    """The newest finished result of ``kind`` for ``year`` and ``scope``, if any."""
    return (
        _primary()
        .filter(kind=kind, year=year, scope=scope, status=SnapshotStatus.DONE)
        .order_by("-created_at")
        .first()
    )


def under_way(*, kind: SnapshotKind, year: int, scope: str = "") -> RoundSnapshot | None:
    """The job of ``kind`` for ``year`` and ``scope`` waiting or running, if any."""
    return (
        _primary()
        .filter(kind=kind, year=year, scope=scope, status__in=RoundSnapshot.IN_PROGRESS)
        .first()
    )


def jobs(kind: SnapshotKind) -> QuerySet[RoundSnapshot]:
    """The one-off jobs of ``kind``, as the primary has them (their page follows the worker)."""
    return _primary().filter(kind=kind).select_related("requested_by")


def _primary() -> QuerySet[RoundSnapshot]:
    """Stored computations as the primary has them: the worker has just written them, and a
    standby a few seconds behind would have a page queue a second computation (the pages that
    show them may read the rest from the standby, ``liwan.replica``)."""
    return RoundSnapshot.objects.using("default")


def supersede(*, kind: SnapshotKind, year: int, and_later: bool = False) -> None:
    """Something ``kind``'s results of ``year`` (and of the later years, when asked) depend on
    changed: every stored one is computed again when next shown, and shown until then."""
    years = {"year__gte": year} if and_later else {"year": year}
    # One under way may have read the old data already: it is out of date when it finishes.
    RoundSnapshot.objects.filter(
        kind=kind,
        status__in=(SnapshotStatus.DONE, *RoundSnapshot.IN_PROGRESS),
        **years,
    ).update(superseded=True)


class Abandoned(Exception):
    """The snapshot stopped being "running" while it was computed."""


class Refused(Exception):
    """A job ended without doing what was asked, for a reason its user reads (a publication
    that changed since it was read, say): recorded as failed with that reason, not logged as
    an error."""


def run(snapshot_id: int) -> RoundSnapshot | None:
    """Compute a queued snapshot and store its rows. One already taken (a task delivered twice)
    is left alone; a failure is recorded on the snapshot, not raised. The computation reads
    outside a transaction, so its progress shows; the rows and the "done" are written in one."""
    if not RoundSnapshot.claim(snapshot_id):
        return None
    snapshot = RoundSnapshot.objects.select_related("requested_by").get(pk=snapshot_id)
    try:
        compute = import_string(COMPUTERS[snapshot.kind])
        outcome: Outcome = compute(snapshot, lambda done, total: _progress(snapshot, done, total))
        with transaction.atomic():
            count = _write(snapshot, outcome.rows)
            finished = RoundSnapshot.objects.filter(
                pk=snapshot.pk, status=SnapshotStatus.RUNNING
            ).update(
                status=SnapshotStatus.DONE,
                summary=outcome.summary,
                rows=count,
                done=snapshot.total,
                finished_at=clock.now(),
            )
            if not finished:
                # Taken for lost meanwhile (and perhaps asked for again): its rows go back.
                raise Abandoned
    except Abandoned:
        logger.warning("computation %s finished after it was taken for lost", snapshot.pk)
        return RoundSnapshot.objects.get(pk=snapshot.pk)
    except Refused as exc:
        logger.info("job %s refused: %s", snapshot.pk, exc)
        # The reason is for its user (the job's page shows it); an error's text is not.
        _fail(snapshot, str(exc)[:500], summary={"refused": str(exc)})
        return RoundSnapshot.objects.get(pk=snapshot.pk)
    except Exception as exc:
        logger.exception("computation %s failed", snapshot.pk)
        _fail(snapshot, str(exc)[:500])
        return RoundSnapshot.objects.get(pk=snapshot.pk)
    if snapshot.kind in JOBS:
        return RoundSnapshot.objects.get(pk=snapshot.pk)
    # The older results of the same page are no longer shown: their rows go.
    RoundSnapshot.objects.filter(
        kind=snapshot.kind,
        year=snapshot.year,
        scope=snapshot.scope,
        created_at__lt=snapshot.created_at,
        status__in=(SnapshotStatus.DONE, SnapshotStatus.FAILED),
    ).delete()
    if count:
        _analyze()
    return RoundSnapshot.objects.get(pk=snapshot.pk)


def _analyze() -> None:
    """Tell PostgreSQL's planner about the rows just written. Until autovacuum samples the
    table, the new snapshot's id is unknown to its statistics and a page of a million stored
    pairs was planned as a sort of all of them (690 ms instead of 1)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(SnapshotRow._meta.db_table)}")


def _progress(snapshot: RoundSnapshot, done: int, total: int) -> None:
    snapshot.total = total
    RoundSnapshot.objects.filter(pk=snapshot.pk).update(done=min(done, total), total=total)


def _write(snapshot: RoundSnapshot, rows: Iterable[Row]) -> int:
    """Write ``rows`` as they come (a million pairs are not copied into a second list); the
    number written."""
    written = 0

    def values() -> Iterator[tuple[Any, ...]]:
        nonlocal written
        for written, r in enumerate(rows, start=1):
            yield (
                snapshot.pk,
                written - 1,
                r.item_id,
                r.other_id,
                r.score,
                r.flagged,
                r.data or {},
            )

    copy_rows(SnapshotRow, ROW_COLUMNS, values())
    return written


def _fail(snapshot: RoundSnapshot, error: str, *, summary: dict[str, Any] | None = None) -> None:
    fields: dict[str, Any] = {"summary": summary} if summary is not None else {}
    RoundSnapshot.objects.filter(pk=snapshot.pk).update(
        status=SnapshotStatus.FAILED, error=error, finished_at=clock.now(), **fields
    )


def failed_to_queue(snapshot_id: int) -> None:
    """The broker refused the computation: the page says so at once."""
    RoundSnapshot.objects.filter(pk=snapshot_id, status=SnapshotStatus.QUEUED).update(
        status=SnapshotStatus.FAILED,
        error=_("The computation could not be handed to the worker."),
        finished_at=clock.now(),
    )


def expire(*, now: datetime.datetime) -> int:
    """Fail the computations a worker lost, and forget results computed more than a week ago
    (their rows go with them; a page still shown is computed again more often than that); the
    number forgotten."""
    RoundSnapshot.objects.filter(
        Q(status=SnapshotStatus.QUEUED, created_at__lte=now - LOST_AFTER)
        | Q(status=SnapshotStatus.RUNNING, started_at__lte=now - LOST_AFTER)
    ).update(
        status=SnapshotStatus.FAILED,
        error=_("The computation did not finish."),
        finished_at=now,
    )
    _deleted, counts = RoundSnapshot.objects.filter(
        status__in=(SnapshotStatus.DONE, SnapshotStatus.FAILED),
        created_at__lte=now - datetime.timedelta(days=7),
    ).delete()
    return counts.get(RoundSnapshot._meta.label, 0)


def rows(snapshot: RoundSnapshot, *, flagged: bool = False) -> QuerySet[SnapshotRow]:
    """The rows of ``snapshot`` in its order (only the flagged ones when asked), for paging:
    a page is a range of the position index. From the primary, which has them the moment the
    snapshot is done."""
    found = SnapshotRow.objects.using("default").filter(snapshot=snapshot)
    if flagged:
        found = found.filter(flagged=True)
    return found.order_by("position")
