"""Celery tasks: thin triggers of ``reminders.services``. Beat runs ``reminders.sweep`` every
``LIWAN_REMINDER_SWEEP_SECONDS``; reminders are never scheduled as countdown/ETA tasks (a broker
may redeliver those; the database is the queue — docs/reminders.md)."""

from __future__ import annotations

import logging

from celery import shared_task

from reminders import services

logger = logging.getLogger(__name__)


@shared_task(name="reminders.sweep")
def sweep_reminders() -> bool:
    """One sweep (plan, then send); true when it found work."""
    return bool(services.sweep())


def request_sweep() -> None:
    """Ask a worker for a sweep now (after commit, e.g. once failed reminders are requeued).
    Only a shortcut: when the broker is down the page must still work, and the next beat
    sweep sends the rows anyway (they are in the database)."""
    try:
        sweep_reminders.delay()
    except Exception:
        logger.warning(
            "could not queue a reminder sweep; the next scheduled one sends them", exc_info=True
        )
