"""Summary tables in the official layout, written as real .xlsx and .csv files for the tests.

The layout is the printed 汇总表 the evaluation office sends: a title row, a two-row
header with merged group cells (资金使用情况（单位：万元） over 预算数 / 完成数 /
预算完成率, 第三方评价 over 分数 / 等级, 问题及建议 over 问题 / 建议; 序号, 单位名称,
项目名称, 绩效目标 spanning both rows), then one row per project. In the workbook amounts
are numbers shown as ``#,##0.00``, rates are fractions shown as ``0.00%`` and each 问题 /
建议 cell holds all numbered items, one per line. The CSV is what Excel writes for that
sheet: merged cells become empty cells and numbers are written as displayed ("2,433.48",
"99.97%").

A project is a dict with the keys of ``fixtures/liwan_2020.yaml`` (seq, unit, project, goal,
budget, spent, completion_rate, score, grade, problems, recommendations); a list or tuple among
the projects is a row written verbatim (a 小计 or 合计 row between them, say). Typed values become
typed cells: a Decimal amount a number, a Decimal rate (percentage points) a fraction, a list
of {title, body} a numbered cell. A ``str`` is written into the cell as it is, ``None`` leaves
the cell empty, so a test can put any bad content anywhere.
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from evaluations.importing.table import FIXTURE_KEYS
from evaluations.models import chinese_numeral

FIXTURE_2020 = Path(__file__).resolve().parent.parent / "fixtures" / "liwan_2020.yaml"
TITLE_2020 = "2020年度荔湾区财政支出项目绩效重点评价汇总表"
SHEET = "汇总表"

# Leaf columns in the order of the printed table, and the project key each one shows.
COLUMNS: dict[str, str] = FIXTURE_KEYS
# The merged cell above a run of leaf columns in the first header row.
GROUPS: dict[str, str] = {
    "预算数": "资金使用情况（单位：万元）",
    "完成数": "资金使用情况（单位：万元）",
    "预算完成率": "资金使用情况（单位：万元）",
    "分数": "第三方评价",
    "等级": "第三方评价",
    "问题": "问题及建议",
    "建议": "问题及建议",
}
AMOUNT_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"
SCORE_FORMAT = "0.00"
FIRST_DATA_ROW = 4  # title, two header rows


def letter(column: str, columns: Sequence[str] = tuple(COLUMNS)) -> str:
    """The spreadsheet letter of a leaf column in a table built with ``columns``."""
    return get_column_letter(list(columns).index(column) + 1)


def numbered(items: Iterable[dict[str, str]]) -> str:
    """One 问题 or 建议 cell: （一）title body, （二）… one item per line."""
    return "\n".join(
        f"（{chinese_numeral(n)}）{item['title']}{item.get('body', '')}"
        for n, item in enumerate(items, start=1)
    )


def projects_2020() -> list[dict[str, Any]]:
    """The 2020 table of the YAML fixture with typed values (Decimal amounts, rates, scores)."""
    doc = yaml.safe_load(FIXTURE_2020.read_text(encoding="utf-8"))
    projects = []
    for raw in doc["projects"]:
        project = dict(raw)
        for key in ("budget", "spent"):
            project[key] = Decimal(str(raw[key]).replace(",", ""))
        project["completion_rate"] = Decimal(str(raw["completion_rate"]).rstrip("%"))
        project["score"] = Decimal(str(raw["score"]))
        projects.append(project)
    return projects


def project(**overrides: Any) -> dict[str, Any]:
    """A valid project of its own (not in the 2020 table), for small hand-made tables."""
    values: dict[str, Any] = {
        "seq": 1,
        "unit": "广州市荔湾区测试局",
        "project": "测试专项经费项目",
        "goal": "通过实施本项目，提升公共服务水平。",
        "budget": Decimal("1234.50"),
        "spent": Decimal("1000.00"),
        "completion_rate": Decimal("81.00"),
        "score": Decimal("85.00"),
        "grade": "良",
        "problems": [
            {"title": "绩效目标设置不够细化。", "body": "一是产出指标不全面；二是指标值偏低。"},
            {"title": "资金支付进度偏慢。", "body": "年末集中支付，预算执行不均衡。"},
        ],
        "recommendations": [
            {"title": "细化绩效目标。", "body": "一是完善产出指标；二是合理设定指标值。"},
            {"title": "加快资金支付进度。", "body": "按季度制定支付计划并跟踪执行。"},
        ],
    }
    values.update(overrides)
    return values


def copy_projects(projects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return copy.deepcopy(list(projects))


# --- rendering ---------------------------------------------------------------------------------


def _header_rows(columns: Sequence[str]) -> tuple[list[str | None], list[str | None]]:
    top: list[str | None] = []
    sub: list[str | None] = []
    previous_group = None
    for column in columns:
        group = GROUPS.get(column)
        if group is None:
            top.append(column)
            sub.append(None)
        else:
            top.append(group if group != previous_group else None)
            sub.append(column)
        previous_group = group
    return top, sub


def _merges(columns: Sequence[str], header_row: int) -> list[str]:
    """Ranges merged in the header: ungrouped columns span both rows, groups span their run."""
    merges = []
    index = 0
    while index < len(columns):
        group = GROUPS.get(columns[index])
        col = get_column_letter(index + 1)
        if group is None:
            merges.append(f"{col}{header_row}:{col}{header_row + 1}")
            index += 1
            continue
        end = index
        while end + 1 < len(columns) and GROUPS.get(columns[end + 1]) == group:
            end += 1
        if end > index:
            merges.append(f"{col}{header_row}:{get_column_letter(end + 1)}{header_row}")
        index = end + 1
    return merges


def _xlsx_cell(column: str, value: Any) -> tuple[Any, str | None]:
    """(value, number_format) of one cell in the workbook."""
    if value is None or isinstance(value, str):
        return value, None
    key = COLUMNS[column]
    if key in ("budget", "spent"):
        return float(value), AMOUNT_FORMAT
    if key == "completion_rate":
        return float(Decimal(value) / 100), RATE_FORMAT
    if key == "score":
        return float(value), SCORE_FORMAT
    if key in ("problems", "recommendations"):
        return numbered(value), None
    return value, None


def _csv_cell(column: str, value: Any) -> str:
    """One cell as Excel writes it into a CSV: the displayed text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    key = COLUMNS[column]
    if key in ("budget", "spent"):
        return f"{Decimal(value):,.2f}"
    if key == "completion_rate":
        return f"{Decimal(value):.2f}%"
    if key == "score":
        return f"{Decimal(value):.2f}"
    if key in ("problems", "recommendations"):
        return numbered(value)
    return str(value)


def _value(project: dict[str, Any], column: str) -> Any:
    return project.get(COLUMNS[column])


def build_xlsx(
    projects: Iterable[dict[str, Any]],
    *,
    title: str | None = TITLE_2020,
    sheet: str = SHEET,
    columns: Sequence[str] = tuple(COLUMNS),
    header_rows: int = 2,
    extra_rows: Iterable[Sequence[Any]] = (),
) -> bytes:
    """The table as an .xlsx workbook (bytes).

    ``title=None`` leaves out the title row; ``columns`` may leave out or reorder columns;
    ``header_rows=1`` writes a single header row of the leaf names; ``extra_rows`` are appended
    verbatim after the projects (e.g. a repeated header).
    """
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    row = 1
    if title is not None:
        ws.cell(row=1, column=1, value=title)
        if len(columns) > 1:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
        row = 2
    if header_rows == 2:
        top, sub = _header_rows(columns)
        for index, (upper, lower) in enumerate(zip(top, sub, strict=True), start=1):
            ws.cell(row=row, column=index, value=upper)
            ws.cell(row=row + 1, column=index, value=lower)
        for cell_range in _merges(columns, row):
            ws.merge_cells(cell_range)
        row += 2
    else:
        for index, column in enumerate(columns, start=1):
            ws.cell(row=row, column=index, value=column)
        row += 1
    wrap = Alignment(wrap_text=True, vertical="top")
    for project in projects:
        if isinstance(project, list | tuple):
            for index, value in enumerate(project, start=1):
                cell = ws.cell(row=row, column=index, value=value)
                if isinstance(value, float):
                    cell.number_format = AMOUNT_FORMAT
            row += 1
            continue
        for index, column in enumerate(columns, start=1):
            value, number_format = _xlsx_cell(column, _value(project, column))
            cell = ws.cell(row=row, column=index, value=value)
            if number_format:
                cell.number_format = number_format
            cell.alignment = wrap
        row += 1
    for extra in extra_rows:
        for index, value in enumerate(extra, start=1):
            ws.cell(row=row, column=index, value=value)
        row += 1
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def build_csv(
    projects: Iterable[dict[str, Any]],
    *,
    title: str | None = TITLE_2020,
    columns: Sequence[str] = tuple(COLUMNS),
    header_rows: int = 2,
    encoding: str = "utf-8-sig",
) -> bytes:
    """The same sheet saved as CSV: merged cells empty, numbers as displayed.

    ``encoding="gbk"`` is what Excel on a Chinese Windows writes for "CSV (逗号分隔)".
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    if title is not None:
        writer.writerow([title] + [""] * (len(columns) - 1))
    if header_rows == 2:
        top, sub = _header_rows(columns)
        writer.writerow([v or "" for v in top])
        writer.writerow([v or "" for v in sub])
    else:
        writer.writerow(list(columns))
    for project in projects:
        if isinstance(project, list | tuple):
            writer.writerow(["" if v is None else str(v) for v in project])
            continue
        writer.writerow([_csv_cell(column, _value(project, column)) for column in columns])
    return out.getvalue().encode(encoding)


def build(fmt: str, projects: Iterable[dict[str, Any]], **options: Any) -> tuple[str, bytes]:
    """(file name, bytes) of the table as ``fmt`` ("xlsx" or "csv")."""
    if fmt == "xlsx":
        return "汇总表.xlsx", build_xlsx(projects, **options)
    return "汇总表.csv", build_csv(projects, **options)


def xlsx_2020(**options: Any) -> bytes:
    return build_xlsx(projects_2020(), **options)


def csv_2020(**options: Any) -> bytes:
    return build_csv(projects_2020(), **options)
