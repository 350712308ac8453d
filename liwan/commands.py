"""Helpers shared by the management commands."""

from __future__ import annotations

import datetime

from django.core.management.base import CommandError


def iso_date(value: str) -> datetime.date:
    """A YYYY-MM-DD command-line date, or a CommandError that says what was wrong."""
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期应为 YYYY-MM-DD 格式，收到「{value}」") from exc
