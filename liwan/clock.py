"""The one seam for "now" and "today".

Deadlines are calendar dates in Asia/Shanghai (``TIME_ZONE``); everything that asks "what day is
it?" calls :func:`today` so that tests can freeze time in one place with time-machine.
"""

from __future__ import annotations

import datetime

from django.utils import timezone


def now() -> datetime.datetime:
    return timezone.now()


def today() -> datetime.date:
    return timezone.localdate(now())
