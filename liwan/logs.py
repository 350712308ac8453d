"""The security log: one line per security event (a lockout, a refused upload…), naming who and
from which address, whatever code raised it.

The request being served is kept in a context variable by ``RequestContextMiddleware``, so a
check deep inside a form (``rectification.uploads``) can say who sent the file without every
caller passing the request down. Outside a request (a command, a worker) the fields read "-".
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest

security_log = logging.getLogger("liwan.security")

current_request: ContextVar[HttpRequest | None] = ContextVar("liwan_request", default=None)


def actor_fields(request: HttpRequest | None = None) -> dict[str, str]:
    """``user`` and ``ip`` of ``request`` (by default the one being served), for a log line."""
    request = request if request is not None else current_request.get()
    if request is None:
        return {"user": "-", "ip": "-"}
    user = getattr(request, "user", None)
    name = user.get_username() if user is not None and user.is_authenticated else "anonymous"
    return {"user": name, "ip": request.META.get("REMOTE_ADDR") or "-"}


def security_event(
    event: str, *, request: HttpRequest | None = None, level: int = logging.WARNING, **fields: Any
) -> None:
    """Log ``event`` on "liwan.security" (WARNING unless told) as ``event key=value …``.

    Values are written with ``repr`` where they come from the user (file names, usernames), so a
    newline or an ANSI escape in them cannot forge a second log line.
    """
    details = {**actor_fields(request), **fields}
    text = " ".join(
        f"{key}={value!r}" if key not in {"user", "ip"} else f"{key}={value}"
        for key, value in details.items()
    )
    # One attribute for the structured fields: a key such as "name" must not clash with the
    # attributes of the LogRecord itself.
    security_log.log(level, "%s %s", event, text, extra={"security": {"event": event, **details}})
