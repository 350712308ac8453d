"""What any page costs before its view runs: a request that never asks who the user is makes
no query, even with a session cookie; a minimal signed-in page reads the user and, unless the
sessions are cached in Redis, the session."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.urls("benchmarks.urls")]

SIGNED_IN = "/_bench/signed-in"


def _queries(client, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    client.get(url)  # the session's first touch is written once, not on every page
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_a_health_probe_with_a_session_cookie_makes_no_query(client):
    client.force_login(factories.StaffUserFactory())
    assert _queries(client, "/healthz") == []


def test_a_minimal_signed_in_page_reads_the_session_and_the_user(client):
    client.force_login(factories.StaffUserFactory())
    queries = _queries(client, SIGNED_IN)
    assert len(queries) == 2
    assert "django_session" in queries[0] and "accounts_user" in queries[1]


@pytest.mark.redis
def test_with_sessions_cached_in_redis_it_reads_only_the_user(client):
    cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
            "KEY_PREFIX": "liwan-test-sessions",
        }
    }
    with override_settings(
        CACHES=cache, SESSION_ENGINE="django.contrib.sessions.backends.cached_db"
    ):
        client.force_login(factories.StaffUserFactory())
        queries = _queries(client, SIGNED_IN)
    assert len(queries) == 1
    assert "accounts_user" in queries[0]


def test_an_expired_session_is_still_ended_when_the_page_asks_for_the_user(client, settings):
    client.force_login(factories.StaffUserFactory())
    settings.LIWAN_SESSION_MAX_SECONDS = -1
    response = client.get(SIGNED_IN)
    assert response.status_code == 302
    assert "login" in response["Location"]
