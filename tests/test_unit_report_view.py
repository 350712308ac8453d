"""The unit report (整改情况报告): printable page and .docx, one unit and one year only."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document

from rectification import services
from rectification.choices import ClosureOutcome, VerificationMethod
from tests import dashboard_data, factories
from tests.dashboard_data import NOON, TODAY

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def ledger():
    ledger = dashboard_data.build()
    item = ledger.items["A2"]
    item.measures = "一是成立整改专班；二是修订绩效指标。"
    item.save()
    progress = factories.ProgressFactory(item=item, note="已印发整改方案。")
    factories.EvidenceFactory(progress=progress, original_name="整改方案.pdf")
    return ledger


def _url(name: str, unit, year: int = 2020) -> str:  # type: ignore[no-untyped-def]
    return reverse(name, args=[unit.pk, year])


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def test_it_reports_on_one_unit_and_year_only(client, ledger):
    client.force_login(factories.StaffUserFactory())

    page = client.get(_url("dashboard:unit-report", ledger.unit_a)).content.decode()

    for key in ("A1", "A2", "A3", "A4"):
        assert f'data-item="{ledger.items[key].pk}"' in page
        assert f"建议{key}。" in page
    for key in ("B1", "B2", "B3", "old"):
        assert f"建议{key}。" not in page
    assert "项目乙" not in page
    assert "广州市荔湾区甲单位关于2020年度财政支出项目绩效评价发现问题整改情况的报告" in page
    assert "已销号 1 个" in page  # A1
    assert "逾期 1 个" in page  # A2


def test_it_shows_measures_progress_evidence_status_and_closure(client, ledger):
    closed = ledger.items["A1"]
    closed.verification_method = VerificationMethod.SITE_CHECK
    closed.closure_outcome = ClosureOutcome.RECTIFIED
    closed.verified_by = "王珊"
    closed.verified_on = TODAY
    closed.verification_note = "现场核查，整改到位。"
    closed.save()
    client.force_login(factories.UnitStaffFactory(unit=ledger.unit_a))

    page = client.get(_url("dashboard:unit-report", ledger.unit_a)).content.decode()

    assert "一是成立整改专班；二是修订绩效指标。" in page
    assert "已印发整改方案。" in page
    assert "1. 整改方案.pdf" in page
    assert "现场核查，整改到位。" in page
    assert "王珊" in page


def test_it_escapes_everything_units_and_staff_wrote(client, ledger):
    # The problems are written in Python (report_entries), outside the template's escaping.
    item = ledger.items["A3"]
    item.measures = "<script>措施</script>"
    item.result = "<b>成效</b>"
    item.save()
    progress = factories.ProgressFactory(item=item, note="<i>进展</i>")
    factories.EvidenceFactory(progress=progress, original_name="<img src=x>.pdf")
    client.force_login(factories.UnitStaffFactory(unit=ledger.unit_a))

    page = client.get(_url("dashboard:unit-report", ledger.unit_a)).content.decode()
    entry = page.split(f'data-item="{item.pk}"', 1)[1].split("</section>", 1)[0]

    for raw in ("<script>", "<b>", "<i>", "<img"):
        assert raw not in entry
    assert "&lt;script&gt;措施&lt;/script&gt;" in entry
    assert "&lt;b&gt;成效&lt;/b&gt;" in entry
    assert f"{TODAY:%Y-%m-%d}　&lt;i&gt;进展&lt;/i&gt;" in entry
    assert "1. &lt;img src=x&gt;.pdf" in entry


def test_its_docx_holds_the_same_report(client, ledger):
    client.force_login(factories.OversightFactory())

    response = client.get(_url("dashboard:unit-report-docx", ledger.unit_a))

    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "attachment" in response["Content-Disposition"]
    assert ".docx" in response["Content-Disposition"]
    text = _docx_text(response.content)
    assert text.startswith("广州市荔湾区甲单位关于2020年度财政支出项目绩效评价")
    assert "一、项目甲一" in text
    assert "二、项目甲二" in text
    assert "已印发整改方案。" in text
    assert "整改方案.pdf" in text
    for key in ("A1", "A2", "A3", "A4"):
        assert f"建议{key}。" in text
    for key in ("B1", "B2", "B3", "old"):
        assert f"建议{key}。" not in text
    assert "项目乙" not in text


@pytest.mark.parametrize("name", ["dashboard:unit-report", "dashboard:unit-report-docx"])
def test_another_units_report_is_not_found(client, ledger, name):
    client.force_login(factories.UnitStaffFactory(unit=ledger.unit_b))

    assert client.get(_url(name, ledger.unit_a)).status_code == 404
    assert client.get(_url(name, ledger.unit_b)).status_code == 200


@pytest.mark.parametrize("name", ["dashboard:unit-report", "dashboard:unit-report-docx"])
def test_a_year_without_items_is_not_found(client, ledger, name):
    client.force_login(factories.StaffUserFactory())
    assert client.get(_url(name, ledger.unit_b, year=2019)).status_code == 404


def test_it_is_english_on_request(client, ledger):
    client.force_login(factories.StaffUserFactory())
    client.cookies["django_language"] = "en"
    page = client.get(_url("dashboard:unit-report", ledger.unit_a)).content.decode()
    assert "Report of 广州市荔湾区甲单位 on the rectification" in page
    assert "1. 项目甲一" in page


def test_its_query_count_does_not_grow_with_items(client):
    unit = factories.UnitFactory()
    user = factories.StaffUserFactory()

    def make(n: int) -> None:
        for item in factories.ItemFactory.create_batch(
            n, recommendation__finding__result__project__unit=unit
        ):
            services.assign(item=item, actor=services.Actor(user=user), owner=None, deadline=TODAY)
            factories.EvidenceFactory(progress__item=item)

    make(1)
    client.force_login(user)
    url = _url("dashboard:unit-report", unit)
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    make(20)
    assert count() == one
