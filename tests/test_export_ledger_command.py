from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from rectification.exports import COLUMNS
from tests import factories
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def _source_projects() -> list[dict]:
    return yaml.safe_load((FIXTURES / "liwan_2020.yaml").read_text(encoding="utf-8"))["projects"]


def _export_csv(tmp_path, *args: str) -> list[list[str]]:
    out = tmp_path / "ledger.csv"
    call_command("export_ledger", "--format", "csv", "--output", str(out), *args)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM to show Chinese"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_it_exports_22_rows_matching_the_source_table_exactly(liwan_2020, tmp_path):
    rows = _export_csv(tmp_path)
    assert rows[0] == list(COLUMNS)
    body = rows[1:]
    assert len(body) == 22
    expected = []
    for project in _source_projects():
        for problem, recommendation in zip(
            project["problems"], project["recommendations"], strict=True
        ):
            expected.append(
                [
                    "2020",
                    project["unit"],
                    project["project"],
                    project["budget"],
                    project["spent"],
                    project["completion_rate"],
                    project["score"],
                    project["grade"],
                    f"{problem['title']}\n{problem['body']}",
                    f"{recommendation['title']}\n{recommendation['body']}",
                ]
            )
    assert [row[1:11] for row in body] == expected
    assert [row[0] for row in body] == [str(n) for n in range(1, 23)]
    assert {row[14] for row in body} == {"待整改"}
    assert "臵" not in "".join("".join(row) for row in rows)


def test_it_writes_the_same_rows_as_xlsx_with_numeric_figures(liwan_2020, tmp_path):
    out = tmp_path / "ledger.xlsx"
    call_command("export_ledger", "--format", "xlsx", "--output", str(out))
    sheet = load_workbook(out, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == 23
    first = rows[1]
    assert first[2] == "广州市荔湾区市政园林绿化管理中心"
    assert Decimal(str(first[4])) == Decimal("2433.48")
    assert round(first[6], 6) == 0.9997


def test_it_filters_by_year_and_unit(liwan_2020, tmp_path):
    rows = _export_csv(tmp_path, "--year", "2020", "--unit", "中国共产党广州市荔湾区委员会组织部")
    assert len(rows) == 1 + 4
    assert _export_csv(tmp_path, "--year", "2019")[1:] == []


def test_it_refuses_an_unknown_unit(liwan_2020, tmp_path):
    with pytest.raises(CommandError, match="没有名为"):
        _export_csv(tmp_path, "--unit", "不存在的单位")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_its_query_count_does_not_grow_with_rows(liwan_2020, tmp_path, fmt):
    from rectification import exports
    from rectification.models import RectificationItem
    from rectification.selectors import ledger_rows

    def count(items) -> int:
        with CaptureQueriesContext(connection) as ctx:
            sink = io.StringIO() if fmt == "csv" else io.BytesIO()
            writer = exports.write_csv if fmt == "csv" else exports.write_xlsx
            writer(exports.iterate(ledger_rows(items, today=datetime.date(2026, 1, 1))), sink)
        return len(ctx.captured_queries)

    one = count(RectificationItem.objects.filter(pk=RectificationItem.objects.first().pk))
    all_rows = count(RectificationItem.objects.all())
    assert one == all_rows


# --- a workbook an office can work with ---------------------------------------------------------


@pytest.fixture
def worked_on(liwan_2020):
    """The first 2020 item with a deadline, closed with its verification, after two approved
    extensions and one rejected; the second with a deadline only."""
    from rectification.choices import ClosureOutcome, ExtensionStatus, ItemStatus
    from rectification.models import ExtensionRequest, RectificationItem

    first, second = RectificationItem.objects.in_ledger_order()[:2]
    for status in (ExtensionStatus.APPROVED, ExtensionStatus.APPROVED, ExtensionStatus.REJECTED):
        ExtensionRequest.objects.create(
            item=first, requested_deadline=datetime.date(2021, 9, 30), reason="延期", status=status
        )
    factories.force_update(
        RectificationItem.objects.filter(pk=first.pk),
        deadline=datetime.date(2021, 6, 30),
        status=ItemStatus.CLOSED,
        closure_outcome=ClosureOutcome.RECTIFIED,
        verification_method="site_check",
        verified_by="评价办 李四",
        verified_on=datetime.date(2021, 7, 5),
        closed_at=datetime.datetime(2021, 7, 6, 1, 0, tzinfo=datetime.UTC),
        result="已完成绩效目标修订。",
        extensions_approved=2,  # as decide_extension counts them
    )
    RectificationItem.objects.filter(pk=second.pk).update(deadline=datetime.date(2021, 12, 31))
    return first, second


def _workbook(tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "ledger.xlsx"
    call_command("export_ledger", "--format", "xlsx", "--output", str(out))
    return load_workbook(out).active  # not read-only: styles, panes and filter are read too


def test_the_workbook_has_typed_dates_numbers_and_wrapped_text(worked_on, tmp_path):
    sheet = _workbook(tmp_path)
    header = [c.value for c in sheet[1]]
    first, second = sheet[2], sheet[3]

    def cell(row, name):  # type: ignore[no-untyped-def]
        return row[header.index(name)]

    assert isinstance(cell(first, "整改时限").value, datetime.datetime)
    assert cell(first, "整改时限").value.date() == datetime.date(2021, 6, 30)
    assert cell(first, "整改时限").number_format == "yyyy-mm-dd"
    assert cell(first, "销号日期").value.date() == datetime.date(2021, 7, 6)  # Asia/Shanghai
    assert cell(first, "核查日期").value.date() == datetime.date(2021, 7, 5)
    assert cell(second, "整改时限").value.date() == datetime.date(2021, 12, 31)
    assert cell(second, "销号日期").value is None
    assert cell(first, "预算数（万元）").data_type == "n"
    assert cell(first, "预算数（万元）").number_format == "#,##0.00"
    assert cell(first, "预算完成率").number_format == "0.00%"
    assert cell(first, "评价得分").number_format == "0.00"
    assert cell(first, "评价得分").value == 92  # a number, shown 92.00
    assert cell(first, "评价年度").value == 2020
    assert cell(first, "序号").value == 1
    assert cell(first, "问题").alignment.wrap_text
    assert cell(first, "整改建议").alignment.wrap_text
    assert not cell(first, "评价等级").alignment.wrap_text
    assert sheet[1][0].font.b  # a bold header


def test_the_workbook_has_the_appended_columns_filled(worked_on, tmp_path):
    sheet = _workbook(tmp_path)
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    second = dict(zip(header, [c.value for c in sheet[3]], strict=True))

    assert header[:19] == list(COLUMNS[:19])
    assert header[19:25] == ["销号结论", "核查方式", "核查人", "核查日期", "整改结果", "延期次数"]
    assert header[25:29] == ["原定整改时限", "时限依据", "是否退回", "退回原因"]
    assert header[29:] == ["整改类型", "是否反弹"]
    assert first["销号结论"] == "已整改"
    assert first["核查方式"] == "实地核查"
    assert first["核查人"] == "评价办 李四"
    assert first["整改结果"] == "已完成绩效目标修订。"
    assert first["延期次数"] == 2  # the rejected request does not count
    assert second["延期次数"] == 0


def test_the_workbook_freezes_the_header_filters_and_sizes_its_columns(worked_on, tmp_path):
    sheet = _workbook(tmp_path)

    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:AE23"  # 31 columns, header + 22 items
    assert sheet.max_column == len(COLUMNS) == 31
    assert sheet.column_dimensions["J"].width == 50  # 问题
    assert sheet.column_dimensions["N"].width == 12  # 整改时限


def test_the_csv_has_the_same_columns_as_text(worked_on, tmp_path):
    rows = _export_csv(tmp_path)
    header, first = rows[0], rows[1]

    assert header == list(COLUMNS)
    row = dict(zip(header, first, strict=True))
    assert row["整改时限"] == "2021-06-30"
    assert row["销号日期"] == "2021-07-06"
    assert row["核查日期"] == "2021-07-05"
    assert row["销号结论"] == "已整改"
    assert row["延期次数"] == "2"
    assert row["预算完成率"].endswith("%")
