"""The deadline field in a real browser on 2026-12-03: typing 30 working days shows the date
(marked 暂定, naming the provisional holiday) before saving, over the pre-filled date."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine

from rectification.models import RectificationItem
from tests import factories
from tests.browser import browser_context, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TODAY = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def page(live_server) -> Iterator:  # type: ignore[no-untyped-def]
    with time_machine.travel(TODAY, tick=True), browser_context() as context:
        yield context.new_page()


def test_30_working_days_show_a_provisional_date_before_saving(page, live_server):
    item = factories.ItemFactory(deadline=datetime.date(2026, 12, 31))
    staff = factories.StaffUserFactory(username="pingjia")
    base = live_server.url
    login(page, base, staff.username, then="")

    page.goto(f"{base}/items/{item.pk}/")
    panel = page.locator("#action-assign")
    assert panel.locator("[name=deadline]").input_value() == "2026-12-31"
    panel.locator("[name=working_days]").fill("30")
    shown = panel.locator("output.working-days-result")
    shown.filter(has_text="2027").wait_for()

    assert shown.text_content() == "= 2027-01-15（暂定：含 2027 年暂定节假日 元旦（2027-01-01））"
    panel.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    assert RectificationItem.objects.get(pk=item.pk).deadline == datetime.date(2027, 1, 15)
