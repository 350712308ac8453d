"""Every main page on a phone, a tablet and a desktop (headless Chromium): nothing overflows the
viewport, owner names do not break one character per line, and screenshots of each are kept
under ``var/screenshots/`` for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from rectification.models import RectificationItem
from tests.browser import browser_context
from tests.conftest import FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 768, 1366)
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
DEMO_PASSWORD = "Liwan-demo-2020"


@pytest.fixture
def demo(settings):  # type: ignore[no-untyped-def]
    """The 2020 table and the demo accounts in their lived-in states, as ``make run`` has."""
    call_command("import_evaluations", str(FIXTURES / "liwan_2020.yaml"), verbosity=0)
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False


@pytest.fixture
def browser(live_server) -> Iterator:  # type: ignore[no-untyped-def]
    with browser_context() as context:
        yield context


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#nav-worklist", state="attached")


def _check(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)  # the layout settles after a resize
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{name} is {overflow} px wide at {width} px"


@pytest.mark.parametrize("username", ["unit01.staff", "pingjia"])
def test_the_main_pages_fit_a_phone_a_tablet_and_a_desktop(browser, live_server, demo, username):
    base = live_server.url
    page = browser.new_page()
    _sign_in(page, base, username)
    item = RectificationItem.objects.filter(unit__users__username="unit01.staff").first()
    pages = {
        "worklist": "/todo/",
        "ledger": "/",
        "item": f"/items/{item.pk}/",
        "dashboard": "/dashboard/",
    }
    if username == "pingjia":
        pages["bulk-assign"] = "/ledger/bulk-assign/?year=2020"
    for name, path in pages.items():
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        _check(page, f"{username}-{name}")


def test_on_a_phone_the_ledger_is_cards_and_the_item_puts_its_actions_first(
    browser, live_server, demo
):
    base = live_server.url
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, base, "unit01.staff")
    page.goto(f"{base}/")
    first = page.locator("#ledger-table tbody tr").first
    assert page.locator("#ledger-table thead").is_hidden()
    box = first.bounding_box()
    assert box is not None and box["width"] <= 390
    # The whole card opens the item: a click on its lower edge, not on the title.
    first.click(position={"x": box["width"] - 10, "y": box["height"] - 5})
    page.wait_for_url("**/items/*/")
    actions = page.locator("#actions").bounding_box()
    ledger = page.locator("#item-deadline").bounding_box()
    assert actions is not None and ledger is not None
    assert actions["y"] < ledger["y"], "the actions come before the record on a phone"
    assert page.locator("#history-details").get_attribute("open") is None


def test_on_a_desktop_owner_names_stay_on_one_line(browser, live_server, demo):
    base = live_server.url
    page = browser.new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, base, "pingjia")
    page.goto(f"{base}/")
    heights = page.eval_on_selector_all(
        "#ledger-table tbody td.cell-owner", "cells => cells.map(c => c.getClientRects()[0].height)"
    )
    line = page.eval_on_selector(
        "#ledger-table tbody td.cell-owner",
        "c => parseFloat(getComputedStyle(c).lineHeight) || 24",
    )
    assert heights and max(heights) <= 2.5 * line + 16
