"""The supervision slip (督办单) of a unit's red items: who may issue it, what it lists against a
hand-written expectation, the Word file, the empty case and constant queries."""

from __future__ import annotations

import datetime
import html
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document

from rectification.choices import ClosureOutcome, ItemStatus
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Guangzhou
TODAY = datetime.date(2026, 12, 3)


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


def _day(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def unit_items():
    unit = factories.UnitFactory(name="广州市荔湾区测试督办局", short_name="测试督办局")
    owner = factories.UnitStaffFactory(unit=unit, full_name="张三")
    result = factories.ResultFactory(project__unit=unit, project__name="督办测试项目")

    def item(number: int, title: str, deadline, **kwargs):  # type: ignore[no-untyped-def]
        return factories.ItemFactory(
            recommendation__finding__result=result,
            recommendation__finding__number=number,
            recommendation__finding__title=title,
            deadline=deadline,
            **kwargs,
        )

    items = {
        "late": item(1, "资金拨付滞后。", _day(-1), owner=owner, status=ItemStatus.IN_PROGRESS),
        "later": item(2, "制度不健全。", _day(-5)),
        "soon": item(3, "指标不合理。", _day(3), owner=owner),
        "closed": item(
            4,
            "档案不完整。",
            _day(-9),
            status=ItemStatus.CLOSED,
            closure_outcome=ClosureOutcome.RECTIFIED,
        ),
    }
    return unit, items


def _url(name: str, unit, year: int = 2020) -> str:  # type: ignore[no-untyped-def]
    return reverse(name, args=[unit.pk, year])


def _rows(page: str) -> list[list[str]]:
    rows = []
    for row in re.findall(r"<tr data-item[^>]*>(.*?)</tr>", page, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


EXPECTED = [
    # Oldest deadline first: the longest overdue leads.
    ["1", "督办测试项目", "（二）制度不健全。", "未设置", "2026-11-28", "5", "待整改"],
    ["2", "督办测试项目", "（一）资金拨付滞后。", "张三", "2026-12-02", "1", "整改中"],
]


def test_it_lists_the_units_red_items_with_the_request_and_signatures(client, unit_items):
    unit, _items = unit_items
    client.force_login(factories.StaffUserFactory())

    page = client.get(_url("dashboard:supervision-slip", unit)).content.decode()

    assert "2020年度绩效评价问题整改督办单" in page
    assert _rows(page) == EXPECTED
    request = html.unescape(re.search(r'<p id="slip-request">(.*?)</p>', page, re.S)[1])
    assert request.startswith("广州市荔湾区测试督办局：截至2026-12-03，你单位2020年度绩效评价")
    assert "以下 2 个问题" in request and "10 个工作日内" in request
    assert "签发单位（盖章）" in page and "签收人（单位签字）" in page


def test_its_word_file_says_the_same(client, unit_items):
    unit, _items = unit_items
    client.force_login(factories.OversightFactory())

    response = client.get(_url("dashboard:supervision-slip-docx", unit))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    document = Document(io.BytesIO(response.content))
    [table] = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[1:] == EXPECTED
    text = "\n".join(p.text for p in document.paragraphs)
    assert "2020年度绩效评价问题整改督办单" in text and "10 个工作日内" in text


def test_a_unit_without_red_items_gets_no_slip_to_download(client):
    item = factories.ItemFactory(deadline=_day(10))
    client.force_login(factories.StaffUserFactory())
    page = client.get(_url("dashboard:supervision-slip", item.unit)).content.decode()
    assert 'id="no-red-items"' in page and 'id="download-docx"' not in page
    assert client.get(_url("dashboard:supervision-slip-docx", item.unit)).status_code == 404


def test_units_do_not_issue_slips_and_unknown_rounds_are_not_found(client, unit_items):
    unit, _items = unit_items
    for user in (factories.UnitStaffFactory(unit=unit), factories.UnitHeadFactory(unit=unit)):
        client.force_login(user)
        assert client.get(_url("dashboard:supervision-slip", unit)).status_code == 404
        assert client.get(_url("dashboard:supervision-slip-docx", unit)).status_code == 404
    client.force_login(factories.StaffUserFactory())
    assert client.get(_url("dashboard:supervision-slip", unit, 2019)).status_code == 404


def test_the_dashboard_links_a_slip_only_for_units_with_overdue_items(client, unit_items):
    unit, _items = unit_items
    calm = factories.ItemFactory(deadline=_day(30)).unit
    client.force_login(factories.StaffUserFactory())
    page = client.get(reverse("dashboard:index"), {"year": "2020"}).content.decode()
    assert _url("dashboard:supervision-slip", unit) in page
    assert _url("dashboard:supervision-slip", calm) not in page


def test_its_query_count_does_not_grow_with_the_items(client, unit_items):
    unit, items = unit_items
    result = items["late"].recommendation.finding.result
    client.force_login(factories.StaffUserFactory())
    url = _url("dashboard:supervision-slip", unit)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(10, 16):
        factories.ItemFactory(
            recommendation__finding__result=result,
            recommendation__finding__number=number,
            deadline=_day(-2),
            owner=factories.UnitStaffFactory(unit=unit),
        )
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert len(_rows(page)) == 8
    assert len(many) == len(few)
