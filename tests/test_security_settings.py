"""Production settings: `check --deploy` is clean, the headers and cookies are what SECURITY.md
promises, no page needs inline script, and the embedded default (`make run`) is unchanged."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from tests import factories

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A process environment with none of the settings of this test run, plus ``overrides``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LIWAN_", "DATABASE_", "CELERY_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="liwan.settings",
        LIWAN_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.update(overrides)
    return env


def _production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return _env(
        tmp_path,
        DJANGO_DEBUG="false",
        # What an operator generates: `python -c "import secrets; print(secrets.token_urlsafe(50))"`.
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="ledger.czj.liwan.example",
        **overrides,
    )


def _settings(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_passes_check_deploy_with_no_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout
    # The silenced checks, and why, are written next to them in settings.py: HSTS preloading,
    # and (on SQLite, as here) a covering index's INCLUDE column.
    assert _settings(_production(tmp_path), "SILENCED_SYSTEM_CHECKS") == {
        "SILENCED_SYSTEM_CHECKS": ["models.W040", "security.W021"]
    }
    for check in ("security.W021", "models.W040"):
        assert check in (ROOT / "liwan" / "settings.py").read_text()


def test_management_commands_print_no_axes_banner(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stdout + result.stderr
    assert _settings(_env(tmp_path), "AXES_VERBOSE") == {"AXES_VERBOSE": False}


def test_hsts_preload_is_one_variable_away_and_then_nothing_is_silenced(tmp_path):
    env = _production(tmp_path, LIWAN_HSTS_PRELOAD="true")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_turns_on_tls_only_cookies_and_hsts(tmp_path):
    values = _settings(
        _production(tmp_path),
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_NAME",
        "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY",
        "SECURE_CONTENT_TYPE_NOSNIFF",
    )
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_NAME": "__Host-liwan-session",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_NAME": "__Host-liwan-csrf",
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
    }
    policy = _settings(_production(tmp_path), "CONTENT_SECURITY_POLICY")
    assert policy["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["upgrade-insecure-requests"] is True


def test_the_embedded_default_stays_plain_http_on_localhost(tmp_path):
    values = _settings(
        _env(tmp_path),
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_NAME",
    )
    assert values == {
        "DEBUG": True,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "sessionid",
    }


def test_evidence_goes_to_private_s3_storage_by_configuration_alone(tmp_path):
    env = _production(
        tmp_path,
        LIWAN_EVIDENCE_STORAGE="s3",
        LIWAN_S3_BUCKET="liwan-evidence",
        LIWAN_S3_ENDPOINT_URL="https://s3.internal:9000",
        LIWAN_S3_ACCESS_KEY_ID="key",
        LIWAN_S3_SECRET_ACCESS_KEY="secret",
    )
    storage = _settings(env, "STORAGES")["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "liwan-evidence"
    assert storage["OPTIONS"]["endpoint_url"] == "https://s3.internal:9000"
    # Private objects, signed URLs only, never overwrite: docs/operations.md.
    assert storage["OPTIONS"]["default_acl"] == "private"
    assert storage["OPTIONS"]["querystring_auth"] is True
    assert storage["OPTIONS"]["file_overwrite"] is False
    default = _settings(_production(tmp_path), "STORAGES")["STORAGES"]["default"]
    assert default["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    env = _env(tmp_path, DJANGO_DEBUG="false")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def _csp(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
def test_every_page_carries_the_security_headers(client):
    response = client.get(reverse("login"))
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert not any("unsafe" in value for values in csp.values() for value in values)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_session_cookie_is_http_only(client):
    user = factories.UnitStaffFactory()
    response = client.post(
        reverse("login"), {"username": user.username, "password": "correct horse battery"}
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_in_production_http_is_redirected_and_https_gets_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    plain = client.get(reverse("login"))
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    secure = client.get(reverse("login"), secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_client_address_and_scheme_come_from_it(client, settings):
    settings.LIWAN_TRUSTED_PROXY_COUNT = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    user = factories.UnitStaffFactory()
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": "wrong"},
        # A forged entry first (sent by the client), then the one our proxy appended.
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9",
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.status_code == 200  # not redirected: the proxy said https
    from axes.models import AccessFailureLog

    assert AccessFailureLog.objects.get().ip_address == "203.0.113.9"


@pytest.mark.django_db
def test_without_a_trusted_proxy_forwarded_headers_are_ignored(client):
    user = factories.UnitStaffFactory()
    client.post(
        reverse("login"),
        {"username": user.username, "password": "wrong"},
        HTTP_X_FORWARDED_FOR="1.2.3.4",
    )
    from axes.models import AccessFailureLog

    assert AccessFailureLog.objects.get().ip_address == "127.0.0.1"


class _InlineFinder(HTMLParser):
    """Collects what a Content-Security-Policy without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self._in_script = True
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= handler on <{tag}>")
            if name == "style":
                self.found.append(f"style= attribute on <{tag}>")
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def _inline(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    return finder.found


@pytest.mark.parametrize(
    "path",
    sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*.html")
        # E-mails are read in mail programs, not under our policy; inline styles are how HTML
        # mail is written.
        if "emails" not in p.parts
    ),
)
def test_no_template_needs_inline_script_or_style(path):
    source = (TEMPLATES / path).read_text(encoding="utf-8")
    # Template tags could hide markup; strip them and look at what is left.
    markup = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "", source, flags=re.DOTALL)
    assert _inline(markup) == [], f"{path} needs inline script or style; CSP would block it"


@pytest.mark.django_db
def test_the_rendered_pages_have_no_inline_script(client, liwan_2020):
    from rectification.models import RectificationItem

    staff = factories.StaffUserFactory(is_superuser=True)
    client.force_login(staff)
    item = RectificationItem.objects.first()
    pages = [
        reverse("rectification:ledger"),
        reverse("rectification:item-detail", kwargs={"pk": item.pk}),
        reverse("password_change"),
        reverse("admin:index"),
        reverse("admin:rectification_rectificationitem_changelist"),
        reverse("admin:rectification_rectificationitem_change", args=[item.pk]),
        reverse("admin:accounts_signinlock_changelist"),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert _inline(response.content.decode()) == [], page


@pytest.mark.django_db
def test_every_page_links_the_favicon_which_is_a_static_file_of_our_own(client):
    from django.contrib.staticfiles import finders

    client.force_login(factories.StaffUserFactory(is_superuser=True))
    for page in (reverse("login"), reverse("rectification:ledger"), reverse("admin:index")):
        html = client.get(page).content.decode()
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html, page
    assert finders.find("favicon.svg")  # served from our own origin: img-src 'self'


@pytest.fixture
def browser_page(live_server):  # type: ignore[no-untyped-def]
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    from tests.services import CHROMIUM

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(locale="zh-CN")
        context.set_default_timeout(15_000)
        page = context.new_page()
        violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        yield page, violations
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_real_browser_reports_no_policy_violation(browser_page, live_server):
    page, violations = browser_page
    item = factories.ItemFactory()
    factories.UnitStaffFactory(unit=item.unit)
    staff = factories.StaffUserFactory(is_superuser=True, username="csp-staff")
    base = live_server.url
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", "correct horse battery")
    page.click("form button[type=submit]")
    page.wait_for_load_state("networkidle")
    paths = [
        reverse("rectification:ledger"),
        reverse("rectification:item-detail", kwargs={"pk": item.pk}),
        reverse("password_change"),
        reverse("admin:index"),
        reverse("admin:rectification_rectificationitem_change", args=[item.pk]),
        reverse("dashboard:index"),
    ]
    for path in paths:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    # The menus work under the policy (Bootstrap's script is a static file).
    page.goto(f"{base}{reverse('rectification:ledger')}")
    page.click(".navbar .dropdown-toggle")
    assert page.is_visible(".dropdown-menu")
    assert violations == []
    # And the watch works: an inline script is refused, and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.ran === undefined")
    assert violations
