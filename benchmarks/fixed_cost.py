"""The fixed cost of a page: what the middleware stack and signing in add to the framework's
floor, middleware by middleware, measured in-process like ``benchmarks.pages``.

The floor is an anonymous view that returns two bytes, served with no middleware at all; the
"minimal signed-in page" is the same view behind ``login_required`` through the whole stack.
Each middleware's share is the difference in median time as the stack is built up one
middleware at a time, signed in.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import User

MINIMAL = "/_bench/minimal"
SIGNED_IN = "/_bench/signed-in"


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _timed(client: Client, url: str, repeat: int) -> dict[str, Any]:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
        "queries": queries,
    }


def run(*, user: User, repeat: int = 400) -> dict[str, Any]:
    stack = list(settings.MIDDLEWARE)
    with override_settings(ROOT_URLCONF="benchmarks.urls"):
        with override_settings(MIDDLEWARE=[]):
            floor = _timed(_client(None), MINIMAL, repeat)
        anonymous = _timed(_client(None), MINIMAL, repeat)
        signed_in = _timed(_client(user), SIGNED_IN, repeat)
        layers = []
        before = floor["p50_ms"]
        for n in range(1, len(stack) + 1):
            with override_settings(MIDDLEWARE=stack[:n]):
                # Without the session and authentication middleware there is nobody signed in.
                names = {m.rsplit(".", 1)[-1] for m in stack[:n]}
                url = SIGNED_IN if "AuthenticationMiddleware" in names else MINIMAL
                timing = _timed(_client(user), url, repeat)
            layers.append(
                {
                    "middleware": stack[n - 1],
                    "added_ms": round(timing["p50_ms"] - before, 3),
                    "queries": timing["queries"],
                }
            )
            before = timing["p50_ms"]
    return {
        "floor": floor,
        "anonymous": anonymous,
        "signed_in": signed_in,
        "signed_in_ratio": round(signed_in["p50_ms"] / floor["p50_ms"], 2),
        "layers": layers,
    }
