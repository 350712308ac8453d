"""Celery tasks: thin triggers of ``reminders.services``. Beat runs ``reminders.sweep`` every
``LIWAN_REMINDER_SWEEP_SECONDS``; never schedule reminders as countdown/ETA tasks (DESIGN.md §6)."""

from __future__ import annotations

from celery import shared_task

from reminders import services


@shared_task(name="reminders.sweep")
def sweep_reminders() -> bool:
    """One sweep (plan, then send); true when it found work."""
    return bool(services.sweep())
