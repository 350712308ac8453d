"""Reads from a PostgreSQL streaming replica (``REPLICA_DATABASE_URL``), where they are safe.

The dashboard, the exports and the reports read much and write nothing; at city scale they can
be served by a hot standby so that the primary keeps its time for the ledger's writes. Three
rules keep a reader from seeing the past:

1. Only views that ask for it read from the replica (``reads_from_replica``); everything else,
   and every write, goes to the primary.
2. A request that has written (anything but its session) reads from the primary from then on.
3. After a person's write, their requests carry the primary's WAL position of that write (a
   cookie) and read from the replica only once it has replayed that far — they see their own
   change at once — and nobody reads from a replica more than ``LIWAN_REPLICA_MAX_LAG_SECONDS``
   behind, or one that cannot be reached.

``replica_usable`` is the one place that decides; the router only follows what it decided for
the request (a context variable, so threads and requests never share it).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
LSN_COOKIE = "liwan_lsn"


@dataclass
class _Reads:
    """Where this request's reads go; one per request (or task)."""

    replica: bool = False
    # The request wrote to the primary: it reads from there from now on.
    wrote: bool = False


_state: ContextVar[_Reads | None] = ContextVar("liwan_replica_reads", default=None)


def configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    """Reads go to the replica while ``reads_from_replica`` has switched them there for this
    request and it has not written; writes and migrations always go to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        state = _state.get()
        if state is not None and state.replica and not state.wrote:
            return REPLICA
        return "default"

    def db_for_write(self, model: type, **hints: Any) -> str:
        state = _state.get()
        # The session row is written on most requests of a signed-in user; it is not a change
        # the person made, and pinning on it would send every page to the primary.
        if state is not None and model._meta.label != "sessions.Session":
            state.wrote = True
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # One database, two copies of it.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"


def _lsn_number(lsn: str) -> int | None:
    """A WAL position ``XXX/YYY`` as a number (None when it is not one)."""
    high, _sep, low = lsn.partition("/")
    try:
        return (int(high, 16) << 32) + int(low, 16)
    except ValueError:
        return None


# A standby that did not answer is not asked again for this long (per process): a host that
# drops packets would otherwise cost every report its connection timeout.
_UNREACHABLE_SECONDS = 30.0
_unreachable_until = 0.0


def replica_usable(*, written_at: str = "") -> bool:
    """Whether reads may go to the replica now: it answers, it is a standby, it has replayed
    ``written_at`` (the primary's WAL position after this person's last write, if any), and it
    is either level with the primary or no more than ``LIWAN_REPLICA_MAX_LAG_SECONDS`` behind.

    "Behind" is the time since the last transaction it replayed: whatever it is missing was
    committed after that. (Its own received-versus-replayed positions cannot tell: a standby
    cut off from the primary has replayed all it received and looks level.)"""
    global _unreachable_until
    if not configured() or time.monotonic() < _unreachable_until:
        return False
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
                "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            )
            standby, replayed, age = cursor.fetchone()
    except DatabaseError:
        logger.warning("the read replica cannot be reached; reading from the primary")
        _unreachable_until = time.monotonic() + _UNREACHABLE_SECONDS
        return False
    if not standby or replayed is None:
        return False
    position = _lsn_number(replayed) or 0
    wanted = _lsn_number(written_at) if written_at else None
    if wanted is not None and position < wanted:
        return False
    if age is not None and age <= settings.LIWAN_REPLICA_MAX_LAG_SECONDS:
        return True
    # Nothing replayed lately: level with the primary (an idle one), or too far behind.
    return position >= (_lsn_number(primary_position()) or 0)


def primary_position() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


@contextlib.contextmanager
def replica_reads(*, written_at: str = "") -> Iterator[bool]:
    """Within the block, this request's (or task's) reads go to the replica if
    ``replica_usable``; yields whether they do."""
    state = _state.get()
    if state is None:
        # Outside a request (a Celery task): a state of its own for the block.
        token = _state.set(_Reads())
        try:
            with replica_reads(written_at=written_at) as used:
                yield used
        finally:
            _state.reset(token)
        return
    with _reads_to(state, not state.wrote and replica_usable(written_at=written_at)):
        yield state.replica


@contextlib.contextmanager
def primary_reads() -> Iterator[None]:
    """Within the block, reads go to the primary even in a view that reads from the replica:
    for what is computed once and kept for everyone (a cached summary), which must not be
    drawn from a standby that has not yet replayed the change that invalidated it."""
    state = _state.get()
    if state is None:
        yield
        return
    with _reads_to(state, False):
        yield


@contextlib.contextmanager
def _reads_to(state: _Reads, replica: bool) -> Iterator[None]:
    """Reads to the replica (or not) within the block, as they were after it."""
    before = state.replica
    state.replica = replica
    try:
        yield
    finally:
        state.replica = before


def reads_from_replica(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For a view that only reads (a dashboard, an export, a report)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not configured() or request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        written_at = request.COOKIES.get(LSN_COOKIE, "")
        with replica_reads(written_at=written_at) as used:
            response = view(request, *args, **kwargs)
            # A lazily rendered template reads while it renders: render it in the block.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        state = _state.get()
        wrote = state is not None and state.wrote
        # A file (FileResponse) is sent from storage, not the database: left as it is.
        if (
            used
            and not wrote
            and isinstance(response, StreamingHttpResponse)
            and not hasattr(response, "file_to_stream")
        ):
            # A streamed export reads while the server sends it, after the view returned.
            response.streaming_content = _streamed_from_replica(response.streaming_content)
        return response

    return wrapped


def _streamed_from_replica(chunks: Iterator[bytes]) -> Iterator[bytes]:
    token = _state.set(_Reads(replica=True))
    try:
        yield from chunks
    finally:
        # A WSGI server sends the body from the thread (and context) that started it; should
        # a server switch contexts between chunks, the state simply lapses with the request.
        with contextlib.suppress(ValueError):
            _state.reset(token)


class ReplicaMiddleware:
    """Gives each request its own routing state, and after a request that wrote, hands the
    person the primary's WAL position so their next reads wait for the replica to have it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not configured():
            return self.get_response(request)
        state = _Reads()
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        if state.wrote:
            try:
                position = primary_position()
            except DatabaseError:
                return response
            response.set_cookie(
                LSN_COOKIE,
                position,
                max_age=settings.LIWAN_REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
