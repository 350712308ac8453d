"""End to end in a real browser: headless Chromium (Debian's package) driven by Playwright.

The whole loop of the workflow (docs/design.md) through the pages a person uses: a unit writes
measures, reports progress with a PDF and submits; evaluation staff return it; the unit
resubmits; staff close it; the list and the export show it closed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from rectification.choices import ItemStatus
from rectification.models import RectificationItem
from tests import factories
from tests.browser import browser_context, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def page(live_server) -> Iterator:  # type: ignore[no-untyped-def]
    with browser_context() as context:
        yield context.new_page()


def _logout(page) -> None:  # type: ignore[no-untyped-def]
    page.click(".navbar .dropdown-toggle")
    page.click("form[action$='/accounts/logout/'] button")
    page.wait_for_selector("#id_username")


def _act(page, action: str, fields: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    panel = page.locator(f"#action-{action}")
    for name, value in fields.items():
        control = panel.locator(f"[name={name}]")
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    panel.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")


def test_a_unit_and_staff_take_an_item_from_open_to_closed(page, live_server, tmp_path):
    worker = factories.UnitStaffFactory(username="jbr")
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=worker.unit,
        owner=worker,
        deadline=datetime.date.today() + datetime.timedelta(days=30),
    )
    factories.StaffUserFactory(username="pingjia")
    base = live_server.url
    evidence = tmp_path / "整改方案.pdf"
    evidence.write_bytes(PDF)

    login(page, base, worker.username)
    page.click(f'tr[data-item="{item.pk}"] a')
    _act(page, "measures", {"measures": "一是成立整改专班；二是制定整改方案。"})
    page.locator("#action-progress textarea[name=note]").fill("已印发整改方案。")
    page.locator("#action-progress input[type=file]").set_input_files(str(evidence))
    page.locator("#action-progress button[type=submit]").click()
    page.wait_for_selector("#progress-timeline >> text=整改方案.pdf")
    _act(page, "submit", {"result": "已完成整改。"})
    assert "待销号" in page.inner_text("#item-status")
    _logout(page)

    login(page, base, "pingjia")
    page.goto(f"{base}/items/{item.pk}/")
    _act(page, "return", {"reason": "请补充整改前后对比材料。"})
    assert "整改中" in page.inner_text("#item-status")
    _logout(page)

    login(page, base, worker.username)
    page.goto(f"{base}/items/{item.pk}/")
    assert "请补充整改前后对比材料" in page.inner_text("#events")
    # A returned item needs new evidence before it can be submitted again.
    page.locator("#action-progress textarea[name=note]").fill("补充整改前后对比材料。")
    page.locator("#action-progress input[type=file]").set_input_files(str(evidence))
    page.locator("#action-progress button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    _act(page, "submit", {})
    _logout(page)

    login(page, base, "pingjia")
    page.goto(f"{base}/items/{item.pk}/")
    _act(
        page,
        "close",
        {
            "outcome": "rectified",
            "method": "document_review",
            "verified_by": "王珊",
            "note": "经书面审核，整改到位。",
        },
    )
    assert "已销号" in page.inner_text("#item-status")
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED

    page.goto(f"{base}/?status=closed")
    assert page.locator(f'tr[data-item="{item.pk}"]').count() == 1
    export = page.request.get(f"{base}/ledger/export/?format=csv&status=closed")
    assert "已销号" in export.text()
    # measures, progress, submit, return, progress, submit, close
    assert RectificationItem.objects.get(pk=item.pk).events.count() == 7


def test_a_unit_never_sees_another_units_item_in_the_browser(page, live_server):
    mine = factories.ItemFactory()
    theirs = factories.ItemFactory()
    worker = factories.UnitStaffFactory(unit=mine.unit, username="jbr2")
    login(page, live_server.url, worker.username)
    assert page.locator(f'tr[data-item="{theirs.pk}"]').count() == 0
    response = page.goto(f"{live_server.url}/items/{theirs.pk}/")
    assert response.status == 404


def test_the_ledger_is_usable_on_a_phone(page, live_server):
    item = factories.ItemFactory()
    worker = factories.UnitStaffFactory(unit=item.unit, username="jbr3")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server.url, worker.username)
    # The navigation collapses into the menu button, and the table scrolls inside its box
    # instead of widening the page.
    assert page.locator(".navbar-toggler").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
