"""Whose move is it, in a real browser (headless Chromium): evaluation staff return a submission;
the unit's worklist and the item show 已退回 with the reason, and the unit owner's mail (the file
backend, as ``make run`` writes it) holds the notification."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from reminders import services as reminders
from tests import factories, workflow
from tests.browser import browser_context, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "佐证材料不足，请补充整改前后对比照片。"


@pytest.fixture
def page(live_server) -> Iterator:  # type: ignore[no-untyped-def]
    with browser_context() as context:
        yield context.new_page()


@pytest.fixture
def mail_dir(settings, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    return settings.EMAIL_FILE_PATH


def _submitted_item(worker):  # type: ignore[no-untyped-def]
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=worker.unit,
        owner=worker,
        deadline=datetime.date.today() + datetime.timedelta(days=30),
    )
    return workflow.submitted(item, worker)


def test_a_return_reaches_the_units_worklist_item_page_and_mailbox(
    page, live_server, mail_dir, tmp_path
):
    worker = factories.UnitStaffFactory(username="owner1", full_name="陈晓敏")
    factories.UnitHeadFactory(unit=worker.unit, username="head1")
    factories.StaffUserFactory(username="pingjia", full_name="王珊")
    item = _submitted_item(worker)
    reminders.sweep()  # the submission's notification to the bureau goes out first
    base = live_server.url

    # Staff return the submission from the item page.
    login(page, base, "pingjia", then=f"/items/{item.pk}/")
    panel = page.locator("#action-return")
    panel.locator("[name=reason]").fill(REASON)
    panel.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    page.click(".navbar .dropdown-toggle")
    page.click("form[action$='/accounts/logout/'] button")
    page.wait_for_selector("#id_username")

    # The sweep tells the unit's owner (the beat task does this every two minutes).
    reminders.sweep()
    messages = [path.read_text(encoding="utf-8") for path in sorted(mail_dir.glob("*.log"))]
    to_owner = [m for m in messages if f"To: {worker.email}" in m and "退回" in m]
    assert to_owner, "the unit owner's mailbox holds the notification"
    assert any(REASON in m for m in to_owner)  # the backend writes 8-bit UTF-8 text

    # The owner signs in: the worklist is the first page, and the return is on it.
    login(page, base, worker.username, then="")
    section = page.locator("#todo-returned")
    assert section.locator("[data-count]").get_attribute("data-count") == "1"
    assert REASON in section.inner_text()
    for width in (390, 768, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(tmp_path / f"worklist-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    section.locator(f"a[href$='/items/{item.pk}/']").click()
    banner = page.locator("#return-banner")
    banner.wait_for()
    assert REASON in banner.inner_text()
    assert "王珊" in banner.inner_text()
    assert page.locator("#item-status").inner_text().strip().startswith("整改中")

    # The list shows 已退回 and filters by it.
    page.goto(f"{base}/?returned=yes")
    assert page.locator(f'tr[data-item="{item.pk}"] [data-returned]').count() == 1
