"""The one seam for "now" and "today".

Deadlines are calendar dates in Asia/Shanghai (``TIME_ZONE``); everything that asks "what day is
it?" calls :func:`today` so that tests can freeze time in one place with time-machine. The demo
seeder writes a lived-in history by running each step at its own past moment
(:func:`running_at`): records stamp themselves with :func:`now`, so they carry that moment.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_shift: ContextVar[datetime.timedelta] = ContextVar("clock_shift", default=datetime.timedelta(0))


def now() -> datetime.datetime:
    return timezone.now() + _shift.get()


def today() -> datetime.date:
    return timezone.localdate(now())


@contextmanager
def running_at(moment: datetime.datetime) -> Iterator[None]:
    """Run the block as if it were ``moment`` (for ``now`` and ``today``). For writing demo
    history only: the ``devdata`` commands use it and refuse to run with DEBUG off."""
    token = _shift.set(moment - timezone.now())
    try:
        yield
    finally:
        _shift.reset(token)
