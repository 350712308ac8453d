"""/healthz: answers without a session, a database or Redis."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
def test_it_answers_ok_without_touching_the_database(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert len(queries) == 0
    assert "no-cache" in response["Cache-Control"]


def test_it_refuses_anything_but_get(client):
    assert client.post("/healthz").status_code == 405


def test_it_answers_plain_http_with_production_settings_while_pages_still_redirect(tmp_path):
    # A load balancer probes gunicorn directly over http; with DJANGO_DEBUG=false every other
    # URL is redirected to https (SECURE_SSL_REDIRECT), /healthz must answer as it is.
    import json
    import secrets
    import subprocess
    import sys

    from tests.test_security_settings import ROOT, _env

    env = _env(
        tmp_path,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="ledger.czj.liwan.example",
    )
    code = (
        "import json, django; django.setup(); from django.test import Client; "
        "c = Client(HTTP_HOST='ledger.czj.liwan.example'); "
        "h = c.get('/healthz'); p = c.get('/accounts/login/'); "
        "print(json.dumps([h.status_code, h.content.decode(), p.status_code, p.get('Location')]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    health, body, page, location = json.loads(result.stdout.strip().splitlines()[-1])
    assert (health, body) == (200, "ok")
    assert page == 301
    assert location == "https://ledger.czj.liwan.example/accounts/login/"
