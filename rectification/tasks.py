"""Celery tasks of the ledger: thin triggers of ``rectification.export_jobs`` and
``rectification.snapshots``. The job row is the queue's truth: a task delivered twice finds its
job taken, and one never delivered (the broker down) is marked failed by the hourly sweep, so
the page never waits for ever."""

from __future__ import annotations

import logging
import uuid

from celery import shared_task

from liwan import clock
from rectification import export_jobs, snapshots

logger = logging.getLogger(__name__)


@shared_task(name="rectification.run_export")
def run_export(job_id: str) -> bool:
    """Write one export's file; true when this task did it."""
    return export_jobs.run(job_id) is not None


@shared_task(name="rectification.expire_exports")
def expire_exports() -> int:
    return export_jobs.expire(now=clock.now())


def queue_export(job_id: uuid.UUID) -> None:
    """Hand the job to a worker (after commit). With the broker down the job is failed and
    its page says so at once."""
    try:
        run_export.delay(str(job_id))
    except Exception:
        logger.warning("could not queue export %s", job_id, exc_info=True)
        export_jobs.failed_to_queue(job_id)


@shared_task(name="rectification.compute_snapshot")
def compute_snapshot(snapshot_id: int) -> bool:
    """Compute one stored result of a round; true when this task did it."""
    return snapshots.run(snapshot_id) is not None


@shared_task(name="rectification.expire_snapshots")
def expire_snapshots() -> int:
    return snapshots.expire(now=clock.now())


def queue_snapshot(snapshot_id: int) -> None:
    """Hand the computation to a worker (after commit); with the broker down it is failed
    and its page says so at once."""
    try:
        compute_snapshot.delay(snapshot_id)
    except Exception:
        logger.warning("could not queue computation %s", snapshot_id, exc_info=True)
        snapshots.failed_to_queue(snapshot_id)
