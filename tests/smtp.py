"""A real SMTP server inside the test process (aiosmtpd on 127.0.0.1, a free port), with faults
on demand: refuse the next N messages with a 4xx, refuse an address with a 5xx, stop and start
again on the same port (connection refused meanwhile), or stall on the Nth message so a test
can kill the sender at a chosen moment.

    with running_smtp_server() as server:
        use_smtp(settings, server)
        server.mailbox.refuse_next(2)
        ...
        assert server.mailbox.recipients() == [...]
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

TRANSIENT = "451 4.3.0 Temporary local problem, please try again later"
REFUSED_ADDRESS = "550 5.1.1 Mailbox unavailable"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part else ""


@dataclass
class _Stall:
    number: int
    accept_first: bool
    arrived: threading.Event
    release: threading.Event


class Mailbox:
    """The aiosmtpd handler: stores what it accepts; refuses or stalls as told."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.messages: list[Received] = []
        self.attempts = 0  # DATA commands seen, accepted or not
        self._transient = 0
        self._transient_reply = TRANSIENT
        self._refused: dict[str, str] = {}
        self._stall: _Stall | None = None

    # --- what the test asks for -----------------------------------------------------------------

    def refuse_next(self, count: int, reply: str = TRANSIENT) -> None:
        """Answer the next ``count`` messages with a temporary (4xx) refusal."""
        with self._lock:
            self._transient = count
            self._transient_reply = reply

    def refuse_address(self, address: str, reply: str = REFUSED_ADDRESS) -> None:
        """Refuse this recipient at RCPT TO for good (5xx)."""
        with self._lock:
            self._refused[address.lower()] = reply

    def stall_on(self, number: int, *, accept_first: bool) -> _Stall:
        """Hold the reply to the ``number``-th message (1-based) until ``release`` is set.

        ``accept_first`` stores the message before stalling: the server has it, the client never
        hears the 250 — the window between the server accepting a message and our commit.
        """
        stall = _Stall(number, accept_first, threading.Event(), threading.Event())
        with self._lock:
            self._stall = stall
        return stall

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``count`` messages were accepted (an event wait, not a sleep)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.messages) >= count, timeout=timeout)

    def recipients(self) -> list[str]:
        with self._lock:
            return sorted(addr for m in self.messages for addr in m.rcpt_tos)

    # --- aiosmtpd hooks ---------------------------------------------------------------------------

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            refusal = self._refused.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.attempts += 1
            number = self.attempts
            if self._transient > 0:
                self._transient -= 1
                return self._transient_reply
            stall = self._stall if self._stall and self._stall.number == number else None
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            message=email.message_from_bytes(envelope.content, policy=email.policy.default),  # type: ignore[arg-type]
        )
        if stall is not None:
            if stall.accept_first:
                self._store(received)
            stall.arrived.set()
            # Wait off the event loop, so the server stays responsive to other connections.
            await asyncio.get_running_loop().run_in_executor(None, stall.release.wait, 30)
            return "250 Message accepted for delivery" if stall.accept_first else TRANSIENT
        self._store(received)
        return "250 Message accepted for delivery"

    def _store(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received)
            self._lock.notify_all()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPTestServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: senders now get "connection refused"."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def running_smtp_server() -> Iterator[SMTPTestServer]:
    server = SMTPTestServer()
    server.start()
    try:
        yield server
    finally:
        stall = server.mailbox._stall
        if stall is not None:
            stall.release.set()
        server.stop()


def use_smtp(settings: Any, server: SMTPTestServer) -> None:
    """Point Django's SMTP backend at ``server`` (``settings`` is pytest-django's fixture)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: not an ``Exception``, so nothing in the sweep can catch it."""


class CrashingEmailBackend:
    """Django's SMTP backend that "kills the worker" at its ``crash_on``-th message: before
    handing it to the server, or — ``after_send`` — right after the server accepted it.

    Configure with ``CrashingEmailBackend.arm(n, after_send=...)``; ``disarm()`` afterwards.
    """

    crash_on: int | None = None
    after_send = False
    count = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.core.mail.backends.smtp import EmailBackend

        self._smtp = EmailBackend(*args, **kwargs)

    @classmethod
    def arm(cls, number: int, *, after_send: bool) -> None:
        cls.crash_on, cls.after_send, cls.count = number, after_send, 0

    @classmethod
    def disarm(cls) -> None:
        cls.crash_on, cls.after_send, cls.count = None, False, 0

    def send_messages(self, messages: list[Any]) -> int:
        cls = type(self)
        cls.count += 1
        crash = cls.crash_on is not None and cls.count == cls.crash_on
        if crash and not cls.after_send:
            raise WorkerKilled
        sent = self._smtp.send_messages(messages)
        if crash:
            raise WorkerKilled
        return sent
