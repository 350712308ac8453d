"""Shared pieces of the headless-Chromium tests (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tests.services import CHROMIUM

PASSWORD = "correct horse battery"
# Without the background-networking flags Chromium keeps calling out to a network this
# machine does not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def browser_context(*, width: int = 1366, height: int = 768) -> Iterator:  # type: ignore[no-untyped-def]
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # plain synchronous code, so Django's async-safety guard is lifted for this test only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="zh-CN"
            )
            context.set_default_timeout(15_000)
            yield context
            context.close()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def login(page, base: str, username: str, *, then: str = "/") -> None:  # type: ignore[no-untyped-def]
    """Sign in (which lands on the worklist, 我的待办), then open ``then`` — the ledger unless
    told otherwise (``then=""`` stays on the worklist)."""
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#nav-worklist", state="attached")
    if then:
        page.goto(f"{base}{then}")
        if then == "/":
            page.wait_for_selector("#status-counts")
