"""The closure list (对账销号单) of one unit and round: printable page and .docx, against a
hand-written expectation for the 2020 demo data."""

from __future__ import annotations

import datetime
import html
import io
import re
from urllib.parse import unquote

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from docx.enum.section import WD_ORIENT

from accounts.models import User
from evaluations.models import Unit
from rectification import export_jobs
from rectification.choices import ExportKind, ExportStatus
from rectification.models import ExportJob
from tests import factories, workflow

pytestmark = pytest.mark.django_db

# 10:00 in Guangzhou on 2026-12-03: the demo's steps are dated back from here.
NOW = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)
MEASURES = (
    "针对“{}”问题：一是成立整改工作专班，明确分管领导和责任科室；二是制定整改方案和时间表；"
    "三是建立整改台账，逐项对账销号。"
)
PROJECT = "国有资本经营预算——国有企业资本金注入项目"
SUPERVISION = "项目监督力度不够，监督工作有待加强。"
INDICATORS = "指标设置不够合理，预算绩效管理工作待完善。"
# 区财政局 in the 2020 demo: one item closed as 已整改 (初审 王珊, 复核 陈立), one closed as
# 持续整改 (初审 陈立, 复核 王珊) — each by two people, 195/193 and 95/93 days before today.
FINANCE_BUREAU = [
    [
        "1",
        PROJECT,
        f"（一）{SUPERVISION}",
        "立行立改",
        MEASURES.format(SUPERVISION),
        "整改工作方案.pdf",
        "已整改",
        "区财政局评价办 王珊 2026-05-22",
        "区财政局评价办 陈立 2026-05-24",
    ],
    [
        "2",
        PROJECT,
        f"（二）{INDICATORS}",
        "持续整改",
        MEASURES.format(INDICATORS),
        "整改工作方案.pdf",
        "持续整改（阶段性完成）",
        "区财政局评价办 陈立 2026-08-30",
        "区财政局评价办 王珊 2026-09-01",
    ],
]
FINANCE_SUMMARY = (
    "共 2 个问题；已销号 2 个（已整改 1、持续整改（阶段性完成） 1）；未销号 0 个；截至 2026-12-03。"
)


@pytest.fixture
def demo(liwan_2020, settings):  # type: ignore[no-untyped-def]
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", verbosity=0)
    settings.DEBUG = False


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        yield


def _url(name: str, unit: Unit, year: int = 2020) -> str:
    return reverse(name, args=[unit.pk, year])


def _cells(fragment: str) -> list[str]:
    cells = re.findall(r"<td[^>]*>(.*?)</td>", fragment, re.S)
    text = [re.sub(r"</div>\s*<div>", "\n", cell) for cell in cells]
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in text]


def _rows(page: str) -> list[list[str]]:
    return [_cells(row) for row in re.findall(r"<tr data-item[^>]*>(.*?)</tr>", page, re.S)]


def _docx_rows(content: bytes) -> tuple[list[list[str]], str]:
    document = Document(io.BytesIO(content))
    [table] = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert document.sections[0].orientation == WD_ORIENT.LANDSCAPE
    return rows, text


def _finance_bureau() -> Unit:
    return Unit.objects.get(short_name="区财政局")


def test_it_lists_the_units_items_with_outcome_reviewers_and_dates(client, demo):
    client.force_login(User.objects.get(username="unit09.staff"))

    page = client.get(_url("dashboard:closure-list", _finance_bureau())).content.decode()

    assert "广州市荔湾区财政局2020年度绩效评价问题整改对账销号单" in page
    assert _rows(page) == FINANCE_BUREAU
    assert FINANCE_SUMMARY in html.unescape(page)
    for line in ("被评价单位（盖章）", "单位负责人（签字）", "经办人（签字）", "初审（签字）"):
        assert line in page


def test_its_word_file_says_the_same_line_by_line(client, demo):
    client.force_login(User.objects.get(username="pingjia"))

    response = client.get(_url("dashboard:closure-list-docx", _finance_bureau()))

    assert response.status_code == 200
    assert "对账销号单" in unquote(response["Content-Disposition"])
    rows, text = _docx_rows(response.content)
    assert rows[0] == [
        "序号",
        "项目",
        "问题",
        "整改类型",
        "整改措施",
        "佐证材料",
        "销号结论",
        "初审",
        "复核",
    ]
    assert rows[1:] == FINANCE_BUREAU
    assert "广州市荔湾区财政局2020年度绩效评价问题整改对账销号单" in text
    assert FINANCE_SUMMARY in text
    assert "复核（签字）" in text


def test_it_shows_an_open_item_as_not_closed_and_a_proposal_as_proposed(client, demo):
    client.force_login(User.objects.get(username="pingjia"))
    commerce = Unit.objects.get(short_name="区商务投促局")
    education = Unit.objects.get(short_name="区教育局")

    commerce_rows = _rows(client.get(_url("dashboard:closure-list", commerce)).content.decode())
    education_rows = _rows(client.get(_url("dashboard:closure-list", education)).content.decode())

    # Both first-reviewed, waiting for the other reviewer.
    assert [row[6:] for row in commerce_rows] == [
        ["拟：已整改（待复核）", "区财政局评价办 王珊 2026-12-01", "—"],
        ["拟：已整改（待复核）", "区财政局评价办 陈立 2026-12-02", "—"],
    ]
    # 不予整改 with the second reviewer's consent; a relapse reopened by a follow-up check.
    assert [row[6:] for row in education_rows] == [
        ["不予整改", "区财政局评价办 王珊 2026-10-09", "区财政局评价办 陈立 2026-10-11"],
        ["未销号（待整改）", "—", "—"],
    ]


def test_a_unit_sees_only_its_own_list(client, demo):
    client.force_login(User.objects.get(username="unit01.staff"))

    other = client.get(_url("dashboard:closure-list", _finance_bureau()))
    other_docx = client.get(_url("dashboard:closure-list-docx", _finance_bureau()))
    no_year = client.get(_url("dashboard:closure-list", _finance_bureau(), 2019))

    assert other.status_code == other_docx.status_code == no_year.status_code == 404


def test_the_dashboard_and_the_unit_report_link_to_it(client, demo):
    client.force_login(User.objects.get(username="unit09.head"))
    url = _url("dashboard:closure-list", _finance_bureau())

    dashboard = client.get(reverse("dashboard:index") + "?year=2020").content.decode()
    report = client.get(_url("dashboard:unit-report", _finance_bureau())).content.decode()

    assert f'href="{url}"' in dashboard
    assert f'href="{url}"' in report


def test_its_query_count_does_not_grow_with_the_items(client):
    owner = factories.UnitStaffFactory()
    client.force_login(factories.StaffUserFactory())
    first = factories.ItemFactory(
        recommendation__finding__result__project__unit=owner.unit, owner=owner
    )
    result = first.recommendation.finding.result

    def add_closed_item() -> None:
        item = factories.ItemFactory(
            recommendation__finding__result__project__unit=owner.unit,
            recommendation__finding__result__round=result.round,
            owner=owner,
        )
        workflow.closed(workflow.submitted(item, owner))

    url = _url("dashboard:closure-list", owner.unit, result.round.year)
    add_closed_item()
    client.get(url)  # the first request of a process fills caches (permissions, site)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(4):
        add_closed_item()
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()

    assert len(_rows(page)) == 6
    assert len(many) == len(few)


# --- a big unit's list: written by the worker ------------------------------------------------


def test_a_big_units_word_file_is_written_by_the_worker_and_its_requester_told(
    client, demo, settings, django_capture_on_commit_callbacks
):
    settings.LIWAN_CLOSURE_LIST_INLINE_ITEMS = 1  # the bureau's two items make a big list
    pingjia = User.objects.get(username="pingjia")
    client.force_login(pingjia)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(_url("dashboard:closure-list-docx", _finance_bureau()))
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("rectification:export-job", args=[job.pk])
    assert (job.kind, job.status, job.done, job.total) == (
        ExportKind.CLOSURE_LIST,
        ExportStatus.DONE,
        2,
        2,
    )
    page = client.get(response["Location"]).content.decode()
    assert f'href="{_url("dashboard:closure-list", _finance_bureau())}"' in page  # way back
    download = client.get(reverse("rectification:export-download", args=[job.pk]))
    assert "对账销号单" in unquote(download["Content-Disposition"])
    rows, text = _docx_rows(b"".join(download.streaming_content))
    assert rows[1:] == FINANCE_BUREAU
    assert FINANCE_SUMMARY in text
    (notice,) = mail.outbox
    assert notice.to == [pingjia.email]
    assert "对账销号单" in notice.subject and "共2个问题" in notice.body


def test_a_big_units_list_is_written_with_its_readers_scope(client, demo, settings):
    settings.LIWAN_CLOSURE_LIST_INLINE_ITEMS = 1
    client.force_login(User.objects.get(username="unit09.staff"))
    response = client.get(_url("dashboard:closure-list-docx", _finance_bureau()))
    job = ExportJob.objects.get()
    # Between the request and the worker, the unit's user moves to another unit.
    User.objects.filter(username="unit09.staff").update(
        unit=Unit.objects.get(short_name="区教育局")
    )
    export_jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and not job.file
    assert 'id="export-failed"' in client.get(response["Location"]).content.decode()
    # And another unit's user is not given a job for a list they may not read.
    client.force_login(User.objects.get(username="unit01.staff"))
    assert client.get(_url("dashboard:closure-list-docx", _finance_bureau())).status_code == 404
    assert ExportJob.objects.count() == 1
