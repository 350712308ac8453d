"""Two people at once on two real connections: a colleague's transaction left uncommitted
while ours runs, for the races the row locks and unique keys must settle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import connections, transaction

T = TypeVar("T")


def while_uncommitted(colleague: Callable[[], object], ours: Callable[[], T]) -> T:
    """Run ``colleague`` in a transaction on another connection and, while it is not yet
    committed, ``ours`` here. The colleague commits as soon as ``ours`` waits on a lock (or
    after 10 s if it never does); returns what ``ours`` returns, or raises what it raises."""
    written, ours_waiting = threading.Event(), threading.Event()

    def other() -> None:
        try:
            with transaction.atomic():
                colleague()
                written.set()
                ours_waiting.wait(timeout=10)
        finally:
            written.set()
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    written.wait(timeout=10)
    watcher = threading.Thread(target=_set_when_blocked, args=(ours_waiting,))
    watcher.start()
    try:
        return ours()
    finally:
        thread.join()
        watcher.join()


def _set_when_blocked(event: threading.Event) -> None:
    """Set ``event`` once a backend of this database waits on a lock (ours)."""
    try:
        with connections["default"].cursor() as cursor:
            for _ in range(200):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
    finally:
        event.set()
        connections.close_all()
