"""The ledger export (台账导出): one row per item, the same columns for CSV and XLSX.

Both formats stream: CSV row by row into the response; XLSX through openpyxl's write-only
workbook, which spools rows to a temporary file instead of holding the sheet in memory. Rows come
from ``selectors.ledger_rows`` with ``iterator()``, so memory stays flat however long the ledger.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from rectification.models import RectificationItem

COLUMNS = (
    "序号",
    "评价年度",
    "责任单位",
    "项目名称",
    "预算数（万元）",
    "完成数（万元）",
    "预算完成率",
    "评价得分",
    "评价等级",
    "问题",
    "整改建议",
    "整改措施",
    "责任人",
    "整改时限",
    "整改状态",
    "最新进展",
    "佐证材料数",
    "是否逾期",
    "销号日期",
)
# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 1000
EXPORT_LANGUAGE = "zh-hans"


def neutralise(value: str) -> str:
    """Make a text cell inert in Excel/WPS by prefixing an apostrophe (OWASP's advice).

    Leading spaces and line breaks are looked through: some programs trim them on import and
    would then see the formula.
    """
    risky = value.startswith(_FORMULA_PREFIXES) or value.lstrip(" \u3000\n").startswith(
        _FORMULA_PREFIXES
    )
    return "'" + value if risky else value


def ledger_values(item: RectificationItem, index: int) -> list[Any]:
    """One export row as typed values: Decimals for figures, text for everything else."""
    result = item.recommendation.finding.result
    closed_on = timezone.localdate(item.closed_at).isoformat() if item.closed_at else ""
    return [
        index,
        result.round.year,
        item.unit.name,
        result.project.name,
        result.budget,
        result.spent,
        result.completion_rate,
        result.score,
        result.grade,
        item.recommendation.finding.full_text,
        item.recommendation.full_text,
        item.measures,
        item.owner.display_name if item.owner else "",
        item.deadline.isoformat() if item.deadline else "",
        item.get_status_display(),
        item.latest_note or "",
        item.evidence_count or 0,
        "是" if item.is_overdue else "否",
        closed_on,
    ]


def _text_row(values: list[Any]) -> list[str]:
    out = []
    for column, value in zip(COLUMNS, values, strict=True):
        if column == "预算完成率":
            out.append(f"{value:.2f}%")
        elif isinstance(value, Decimal):
            out.append(f"{value:,.2f}" if "万元" in column else f"{value:.2f}")
        elif isinstance(value, str):
            out.append(neutralise(value))
        else:
            out.append(str(value))
    return out


class _Echo:
    """A write-only file whose write() hands the line back, for csv.writer into a generator."""

    def write(self, value: str) -> str:
        return value


def iter_csv(items: Iterable[RectificationItem]) -> Iterator[str]:
    """CSV lines in UTF-8 with a BOM, so Excel opens the Chinese text correctly."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(COLUMNS)
    for index, item in enumerate(items, start=1):
        # The ledger is an official Chinese document whatever language the page is in.
        with translation.override(EXPORT_LANGUAGE):
            row = _text_row(ledger_values(item, index))
        yield writer.writerow(row)


def write_csv(items: Iterable[RectificationItem], out: IO[str]) -> int:
    """Write the CSV to ``out``; returns the number of item rows (the header is line 0)."""
    rows = 0
    for rows, line in enumerate(iter_csv(items)):  # noqa: B007 - the last index is the count
        out.write(line)
    return rows


def write_xlsx(items: Iterable[RectificationItem], out: IO[bytes]) -> int:
    """Write the ledger workbook to ``out``; amounts and rates stay numbers, formatted."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("整改台账")
    widths = [6, 8, 24, 24, 12, 12, 10, 8, 8, 50, 50, 40, 10, 12, 10, 40, 10, 8, 12]
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(list(COLUMNS))
    count = 0
    for count, item in enumerate(items, start=1):
        row = []
        with translation.override(EXPORT_LANGUAGE):
            values = ledger_values(item, count)
        for column, value in zip(COLUMNS, values, strict=True):
            if column == "预算完成率":
                cell = WriteOnlyCell(sheet, value=float(value / 100))
                cell.number_format = "0.00%"
            elif isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=float(value))
                cell.number_format = "#,##0.00" if "万元" in column else "0.00"
            elif isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=neutralise(value))
            else:
                cell = WriteOnlyCell(sheet, value=value)
            row.append(cell)
        sheet.append(row)
    workbook.save(out)
    return count


def xlsx_tempfile(items: Iterable[RectificationItem]) -> IO[bytes]:
    """The workbook in a temporary file (deleted on close), rewound for streaming."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    write_xlsx(items, spool)
    spool.seek(0)
    return spool


def export_filename(fmt: str, *, year: int | None = None) -> str:
    stamp = timezone.localdate().strftime("%Y%m%d")
    scope = f"{year}年度" if year else "全部"
    return f"整改台账_{scope}_{stamp}.{fmt}"


def iterate(items) -> Iterator[RectificationItem]:  # type: ignore[no-untyped-def]
    return items.iterator(chunk_size=CHUNK_SIZE)
