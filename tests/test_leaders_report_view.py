"""The report to leaders and the 人大: every figure against a small ledger computed by hand, the
Word file saying the same, who may read it, and constant queries."""

from __future__ import annotations

import datetime
import io
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document

from evaluations.models import FindingCategory
from rectification import services, snapshots
from rectification.choices import SnapshotKind, SnapshotStatus, SupervisionKind
from rectification.models import RoundSnapshot
from results.choices import BudgetAdvice
from results.leaders_report import LeadersReport, leaders_report
from results.selectors import budget_rows
from results.services import decide_budget_advice
from tests import factories, workflow

pytestmark = pytest.mark.django_db

URL = reverse("results:leaders-report")
DOCX_URL = reverse("results:leaders-report-docx")
TODAY = datetime.date.today()


def _day(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def ledger():
    """One project (良, budget 100 万元) with four problems:

    1  closed today, due in 10 days     立行立改   category 项目管理   on time
    2  closed today, was due 5 days ago  立行立改                     late
    3  open, was due 3 days ago          立行立改   category 项目管理   overdue, one 约谈
    4  open, due in 20 days              no plan yet
    """
    unit = factories.UnitFactory(short_name="测试局")
    result = factories.ResultFactory(project__unit=unit, project__name="报告测试项目")
    owner = factories.UnitStaffFactory(unit=unit)
    staff = factories.StaffUserFactory()

    def item(number: int, deadline: datetime.date):  # type: ignore[no-untyped-def]
        return factories.ItemFactory(
            recommendation__finding__result=result,
            recommendation__finding__number=number,
            deadline=deadline,
            owner=owner,
        )

    one, two, three, four = (
        item(1, _day(10)),
        item(2, _day(-5)),
        item(3, _day(-3)),
        item(4, _day(20)),
    )
    category = FindingCategory.objects.create(name="项目管理")
    for tagged in (one, three):
        tagged.recommendation.finding.categories.add(category)
    workflow.closed(workflow.submitted(one, owner, staff))
    workflow.closed(workflow.submitted(two, owner, staff))
    workflow.worked_on(three, owner, staff)
    services.record_supervision(
        item=three,
        actor=workflow.actor(staff),
        kind=SupervisionKind.INTERVIEW,
        happened_on=TODAY,
        person="区财政局",
    )
    return {"items": (one, two, three, four), "result": result}


def _table(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'id="{table_id}">(.*?)</table>', page, re.S)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def test_it_reports_every_figure_of_the_round(client, ledger):
    client.force_login(factories.OversightFactory())
    page = client.get(URL).content.decode()

    summary = re.search(r'<p id="report-summary">(.*?)</p>', page, re.S)[1]
    assert f"截至{TODAY:%Y-%m-%d}，2020年度绩效评价共发现问题 4 个" in summary
    assert "已整改销号 2 个（销号率 50.0%），其中按期完成 1 个（按期率 50.0%）" in summary
    assert "尚未销号 2 个，其中逾期 1 个" in summary
    assert "中位用时：0 天" in page
    assert _table(page, "report-types")[1:] == [
        ["立行立改", "3", "2", "66.7%", "1"],
        ["分阶段整改", "0", "0", "0.0%", "0"],
        ["持续整改", "0", "0", "0.0%", "0"],
        ["尚未确定", "1", "0", "0.0%", "0"],
    ]
    assert _table(page, "report-categories")[1:] == [
        ["项目管理", "2", "1", "50.0%"],
        ["未标注类别", "2", "1", "50.0%"],
    ]
    assert _table(page, "report-budget")[1:] == [
        ["支持", "0", "0.00"],
        ["核减", "0", "0.00"],
        ["暂缓", "0", "0.00"],
        ["整改后安排", "1", "100.00"],  # 良 with an overdue problem
    ]
    assert _table(page, "report-steps")[1:] == [
        ["约谈", "1"],
        ["通报", "0"],
        ["问责", "0"],
        ["领导批示", "0"],
    ]
    assert 'id="no-repeats"' in page
    unfinished = _table(page, "report-unfinished")[1:]
    assert [row[2][:3] for row in unfinished] == ["（三）", "（四）"]
    assert unfinished[0][3] == "整改中 逾期" and unfinished[0][5] == "已完成整改"
    assert unfinished[1][3] == "待整改" and unfinished[1][5] == "—"


def test_its_word_file_says_the_same(client, ledger):
    client.force_login(factories.StaffUserFactory())
    response = client.get(DOCX_URL, {"year": "2020"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "关于2020年度财政支出绩效评价问题整改情况的报告" in text
    assert "已整改销号 2 个（销号率 50.0%）" in text
    types, categories, budget, steps, _repeats, unfinished = (
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    )
    assert types[1] == ["立行立改", "3", "2", "66.7%", "1"]
    assert categories[1:] == [["项目管理", "2", "1", "50.0%"], ["未标注类别", "2", "1", "50.0%"]]
    assert budget[4] == ["整改后安排", "1", "100.00"]
    assert steps[1] == ["约谈", "1"]
    assert [row[3] for row in unfinished[1:]] == ["整改中（已逾期）", "待整改"]


def test_it_lists_the_rounds_confirmed_repeats(client, ledger):
    three = ledger["items"][2]
    earlier = factories.ItemFactory(
        recommendation__finding__result__project__unit=three.unit,
        recommendation__finding__result__round__year=2019,
        recommendation__finding__title="项目管理制度执行不到位。",
    )
    services.decide_repeat(
        item=three,
        earlier=earlier,
        actor=workflow.actor(factories.StaffUserFactory()),
        confirm=True,
    )
    client.force_login(factories.OversightFactory())
    page = client.get(URL, {"year": "2020"}).content.decode()
    assert _table(page, "report-repeats")[1:] == [
        ["测试局", str(three.recommendation.finding), f"2019：{earlier.recommendation.finding}"]
    ]
    client.force_login(factories.StaffUserFactory())
    document = Document(io.BytesIO(client.get(DOCX_URL, {"year": "2020"}).content))
    repeats = [[cell.text for cell in row.cells] for row in document.tables[4].rows]
    assert repeats[1] == [
        "测试局",
        str(three.recommendation.finding),
        f"2019：{earlier.recommendation.finding}",
    ]


def test_only_the_bureau_reads_it(client, ledger):
    unit = ledger["items"][0].unit
    for user in (factories.UnitStaffFactory(unit=unit), factories.UnitHeadFactory(unit=unit)):
        client.force_login(user)
        assert client.get(URL).status_code == 404
        assert client.get(DOCX_URL).status_code == 404
    client.force_login(factories.StaffUserFactory())
    assert client.get(URL, {"year": "2019"}).status_code == 404


def test_its_query_count_does_not_grow_with_the_items(client, ledger):
    result = ledger["result"]
    client.force_login(factories.StaffUserFactory())
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for number in range(10, 16):
        factories.ItemFactory(
            recommendation__finding__result=result,
            recommendation__finding__number=number,
            deadline=_day(-1),
        )
    with CaptureQueriesContext(connection) as many:
        page = client.get(URL).content.decode()
    assert len(_table(page, "report-unfinished")) == 1 + 8
    assert len(many) == len(few)


def test_the_dashboard_and_the_budget_sheet_link_it_for_the_bureau_only(client, ledger):
    unit = ledger["items"][0].unit
    client.force_login(factories.StaffUserFactory())
    for page in (reverse("dashboard:index"), reverse("results:budget-sheet")):
        assert f'{URL}?year=2020"' in client.get(page).content.decode()
    client.force_login(factories.UnitStaffFactory(unit=unit))
    assert URL not in client.get(reverse("dashboard:index")).content.decode()


# --- a large round: computed by the worker, stored, read as computed -------------------------


def _run_pending() -> None:
    """What the worker does with the computation the page queued."""
    snapshots.run(RoundSnapshot.objects.get(status=SnapshotStatus.QUEUED).pk)


def test_the_stored_report_reads_back_as_computed(ledger):
    staff = factories.StaffUserFactory()
    report = leaders_report(user=staff, year=None, today=TODAY)
    again = LeadersReport.from_summary(json.loads(json.dumps(report.to_summary())))
    assert again == report


def test_a_large_rounds_report_is_computed_by_the_worker_and_says_when(client, ledger, settings):
    client.force_login(factories.StaffUserFactory())
    inline = client.get(URL).content.decode()
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    waiting = client.get(URL).content.decode()
    assert 'id="snapshot-progress"' in waiting and 'http-equiv="refresh"' in waiting
    assert 'id="leaders-report"' not in waiting
    # The Word file waits for the report too: its page shows how far it is.
    assert client.get(f"{DOCX_URL}?year=2020")["Location"] == f"{URL}?year=2020"
    _run_pending()
    stored = client.get(URL).content.decode()
    assert 'id="snapshot-recompute"' in stored
    for table in ("report-types", "report-categories", "report-budget", "report-steps"):
        assert _table(stored, table) == _table(inline, table)
    assert _table(stored, "report-unfinished") == _table(inline, "report-unfinished")
    assert (
        re.search(r'<p id="report-summary">(.*?)</p>', stored, re.S)[1]
        == re.search(r'<p id="report-summary">(.*?)</p>', inline, re.S)[1]
    )
    document = Document(io.BytesIO(client.get(f"{DOCX_URL}?year=2020").content))
    assert [c.text for c in document.tables[5].rows[1].cells][:3] == [
        "测试局",
        "报告测试项目",
        str(ledger["items"][2].recommendation.finding),
    ]


def test_a_stored_report_reads_in_the_readers_language(client, ledger, settings):
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    client.force_login(factories.StaffUserFactory())
    client.get(URL)
    _run_pending()
    assert _table(client.get(URL).content.decode(), "report-types")[1][0] == "立行立改"
    client.cookies["django_language"] = "en"
    page = client.get(URL).content.decode()
    assert _table(page, "report-types")[1][0] == "Fix at once"
    assert _table(page, "report-categories")[-1][0] == "Not categorised"


def test_a_budget_decision_or_a_confirmed_repeat_has_it_computed_again(client, ledger, settings):
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    client.get(URL)
    _run_pending()
    result = ledger["result"]
    row = next(iter(budget_rows([result], today=TODAY)))
    decide_budget_advice(
        result=result,
        actor=workflow.actor(staff),
        advice=BudgetAdvice.DEFER,
        reason="整改不力",
        seen_decision=0,
        today=TODAY,
    )
    assert row.proposed != BudgetAdvice.DEFER
    assert RoundSnapshot.objects.get(kind=SnapshotKind.LEADERS_REPORT).superseded
    page = client.get(URL).content.decode()
    assert 'id="snapshot-refreshing"' in page  # the old one shown, a new one under way
    _run_pending()
    budget = _table(client.get(URL).content.decode(), "report-budget")
    assert [r for r in budget if r[0] == BudgetAdvice.DEFER.label] == [
        [BudgetAdvice.DEFER.label, "1", "100.00"]
    ]

    earlier = factories.ItemFactory(
        recommendation__finding__result__project__unit=ledger["items"][3].unit,
        recommendation__finding__result__round__year=2019,
    )
    services.decide_repeat(
        item=ledger["items"][3], earlier=earlier, actor=workflow.actor(staff), confirm=True
    )
    assert RoundSnapshot.objects.get(
        kind=SnapshotKind.LEADERS_REPORT, status=SnapshotStatus.DONE
    ).superseded


def test_staff_may_have_a_large_rounds_report_computed_again(client, ledger, settings):
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    client.force_login(factories.StaffUserFactory())
    client.get(URL)
    _run_pending()
    response = client.post(f"{URL}?year=2020", {"recompute": "1"})
    assert response["Location"] == f"{URL}?year=2020"
    assert RoundSnapshot.objects.filter(
        kind=SnapshotKind.LEADERS_REPORT, status=SnapshotStatus.QUEUED
    ).exists()
    client.force_login(factories.UnitStaffFactory(unit=ledger["items"][0].unit))
    assert client.post(f"{URL}?year=2020", {"recompute": "1"}).status_code == 404


def test_importing_the_round_again_has_its_stored_report_computed_again(client, settings):
    from pathlib import Path

    from evaluations.importing import read_table
    from rectification.imports import import_evaluation_table

    table = Path(__file__).parent.parent / "fixtures" / "liwan_2020.yaml"
    import_evaluation_table(table=read_table(table.name, table.read_bytes()))
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    client.force_login(factories.StaffUserFactory())
    client.get(URL)
    _run_pending()
    # The table imported again (a correction, say): the stored report is out of date.
    import_evaluation_table(table=read_table(table.name, table.read_bytes()))
    assert RoundSnapshot.objects.get(kind=SnapshotKind.LEADERS_REPORT).superseded
    page = client.get(URL).content.decode()
    assert 'id="snapshot-refreshing"' in page and 'id="leaders-report"' in page
