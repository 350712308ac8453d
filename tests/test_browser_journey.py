"""End to end in a real browser: headless Chromium (Debian's package) driven by Playwright.

The whole loop of the workflow (docs/design.md) through the pages people use: the unit's plan
with a milestone, its acceptance, the milestone reported and accepted, the submission and the
unit head's sign-off, the first review and — by another person — the second review that closes
it, and a follow-up check scheduled; a return by the bureau and the new evidence it asks for.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from rectification.choices import FollowUpStatus, ItemStatus
from tests import factories, workflow
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
    """Fill the action panel's form as a person would (radio, checkbox, select or text) and
    send it; the page must come back with a success message."""
    panel = page.locator(f"#action-{action}")
    for name, value in fields.items():
        control = panel.locator(f"[name={name}]")
        kind = control.first.evaluate("el => el.tagName + ':' + (el.type || '')")
        if kind == "INPUT:radio":
            panel.locator(f"[name={name}][value={value}]").check()
        elif kind == "INPUT:checkbox":
            control.check()
        elif kind == "INPUT:file":
            control.set_input_files(value)
        elif kind.startswith("SELECT"):
            control.select_option(value)
        else:
            control.fill(value)
    panel.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")


def _status(page) -> str:  # type: ignore[no-untyped-def]
    return page.inner_text("#item-status")


def test_plan_milestones_head_sign_off_two_reviews_and_a_follow_up(page, live_server, tmp_path):
    """plan → accept → milestone → head sign-off → 初审 → 复核 销号 → 回头看 scheduled."""
    worker = factories.UnitStaffFactory(username="jbr", unit__head_signoff=True)
    factories.UnitHeadFactory(unit=worker.unit, username="fzr")
    factories.StaffUserFactory(username="pingjia", full_name="王珊")
    factories.StaffUserFactory(username="fuhe", full_name="陈立")
    today = datetime.date.today()
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=worker.unit,
        owner=worker,
        deadline=today + datetime.timedelta(days=60),
    )
    base = live_server.url
    evidence = tmp_path / "制度文件.pdf"
    evidence.write_bytes(PDF)

    # The unit's plan: staged, one milestone.
    login(page, base, worker.username)
    page.click(f'tr[data-item="{item.pk}"] a')
    _act(
        page,
        "plan",
        {
            "rectification_type": "staged",
            "measures": "一是修订资金管理办法；二是开展专项培训。",
            "agreement": "agree",
            "milestone_0_title": "印发资金管理办法",
            "milestone_0_deadline": (today + datetime.timedelta(days=20)).isoformat(),
            "milestone_0_evidence": "印发文件",
        },
    )
    assert "待整改" in _status(page)
    _logout(page)

    # Staff accept it: the item is being rectified, its milestone open.
    login(page, base, "pingjia", then=f"/items/{item.pk}/")
    _act(page, "decide_plan", {"decision": "accept"})
    assert "整改中" in _status(page)
    assert "印发资金管理办法" in page.inner_text("#item-plan")
    _logout(page)

    # The unit reports the milestone done, with its evidence; staff accept it.
    login(page, base, worker.username, then=f"/items/{item.pk}/")
    _act(page, "report_milestone", {"note": "办法已印发。", "files": str(evidence)})
    _logout(page)
    login(page, base, "pingjia", then=f"/items/{item.pk}/")
    _act(page, "decide_milestone", {"decision": "accept"})
    assert "已完成 1 / 1" in page.inner_text("#milestone-progress")
    _logout(page)

    # The unit submits; its head confirms and sends it to the bureau.
    login(page, base, worker.username, then=f"/items/{item.pk}/")
    _act(page, "submit", {"result": "已完成整改。"})
    assert "待单位负责人确认" in _status(page)
    _logout(page)
    login(page, base, "fzr", then=f"/items/{item.pk}/")
    _act(page, "head_signoff", {"decision": "accept"})
    assert "待销号" in _status(page)
    _logout(page)

    # 初审 by one reviewer, who may not also close it; 复核 and 销号 by another.
    login(page, base, "pingjia", then=f"/items/{item.pk}/")
    _act(
        page,
        "first_review",
        {
            "outcome": "rectified",
            "method": "document_review",
            "verified_by": "王珊",
            "verified_on": today.isoformat(),
            "note": "经书面审核，整改到位。",
        },
    )
    assert "待复核" in _status(page)
    assert page.locator("#action-second_review").count() == 0
    _logout(page)
    login(page, base, "fuhe", then=f"/items/{item.pk}/")
    _act(page, "second_review", {"decision": "confirm"})
    assert "已销号" in _status(page)

    # 回头看: a re-check about six months on (the form suggests the date).
    _act(page, "schedule_follow_up", {})
    item.refresh_from_db()
    follow_up = item.follow_ups.get()
    assert follow_up.status == FollowUpStatus.SCHEDULED
    assert follow_up.due_on > today
    assert item.status == ItemStatus.CLOSED
    assert item.closed_by.username == "fuhe" and item.first_reviewer.username == "pingjia"
    for width in (390, 768, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(tmp_path / f"item-closed-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(f"{base}/?status=closed")
    assert page.locator(f'tr[data-item="{item.pk}"]').count() == 1
    export = page.request.get(f"{base}/ledger/export/?format=csv&status=closed")
    assert "已销号" in export.text()


def test_a_return_by_the_bureau_needs_new_evidence_before_resubmitting(page, live_server, tmp_path):
    worker = factories.UnitStaffFactory(username="jbr")
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=worker.unit,
        owner=worker,
        deadline=datetime.date.today() + datetime.timedelta(days=30),
    )
    factories.StaffUserFactory(username="pingjia")
    workflow.submitted(item, worker)
    base = live_server.url
    evidence = tmp_path / "整改方案.pdf"
    evidence.write_bytes(PDF)

    login(page, base, "pingjia", then=f"/items/{item.pk}/")
    _act(page, "return", {"reason": "请补充整改前后对比材料。"})
    assert "整改中" in _status(page)
    _logout(page)

    login(page, base, worker.username, then=f"/items/{item.pk}/")
    assert "请补充整改前后对比材料" in page.inner_text("#events")
    page.locator("#action-submit button[type=submit]").click()
    assert "new progress" in page.inner_text(".alert-danger") or "重新" in page.inner_text(
        ".alert-danger"
    )
    _act(page, "progress", {"note": "补充整改前后对比材料。", "files": str(evidence)})
    _act(page, "submit", {})
    assert "待销号" in _status(page)


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
