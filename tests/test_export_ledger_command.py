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
