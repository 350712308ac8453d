"""A real HTTP server standing in for a group-chat robot (企业微信 / 粤政易 / 钉钉): the standard
library's ``http.server`` in a thread on 127.0.0.1, a free port. It records every request and
answers as told (status code and body, one answer per request, then the robots' "ok").

    with running_robot() as robot:
        robot.answer(500)                       # the next request gets HTTP 500
        robot.answer(200, {"errcode": 45009})   # the one after: rate-limited
        ...
        assert len(robot.requests) == 2
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK = {"errcode": 0, "errmsg": "ok"}


@dataclass(frozen=True)
class Posted:
    """One request as the robot received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def content(self) -> str:
        """The text of a ``{"msgtype": "text", "text": {"content": …}}`` message."""
        return self.json()["text"]["content"]


class Robot:
    """What the server received, and the answers it still has to give."""

    def __init__(self) -> None:
        self.requests: list[Posted] = []
        self._answers: deque[tuple[int, bytes]] = deque()
        self._lock = threading.Lock()
        self.url = ""

    def answer(self, status: int, body: Any = None) -> None:
        """Queue the answer to the next request not yet answered (a dict is sent as JSON)."""
        data = body if isinstance(body, bytes) else json.dumps(OK if body is None else body)
        with self._lock:
            self._answers.append((status, data if isinstance(data, bytes) else data.encode()))

    def _record(self, posted: Posted) -> tuple[int, bytes]:
        with self._lock:
            self.requests.append(posted)
            return self._answers.popleft() if self._answers else (200, json.dumps(OK).encode())


def _handler(robot: Robot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urllib.parse.urlsplit(self.path)
            status, body = robot._record(
                Posted(
                    method="POST",
                    path=parts.path,
                    query=urllib.parse.parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    return Handler


@contextmanager
def running_robot(path: str = "/cgi-bin/webhook/send?key=test-key") -> Iterator[Robot]:
    """A robot listening on 127.0.0.1 (a free port) until the block ends; ``robot.url`` is
    the address to configure on a unit."""
    robot = Robot()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(robot))
    thread = threading.Thread(target=server.serve_forever, name="robot", daemon=True)
    thread.start()
    robot.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield robot
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
