"""The ledger export (台账导出): one row per item, the same columns for CSV and XLSX.

Both formats stream: CSV row by row into the response; XLSX through openpyxl's write-only
workbook, which spools rows to a temporary file instead of holding the sheet in memory. Rows come
from ``selectors.ledger_rows`` through ``iterate`` (which adds the approved extensions in SQL)
with ``iterator()``, so memory and the number of queries stay flat however long the ledger.

The columns are one table, ``LEDGER_COLUMNS``: header, width, kind and value of each. Adding a
column is one line there; its kind decides how it is written (a real date, a number with its
format, wrapped text) in both formats.
"""

from __future__ import annotations

import csv
import datetime
import enum
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from rectification.models import RectificationItem


class Kind(enum.Enum):
    TEXT = "text"  # short text: names, labels
    LONG_TEXT = "long_text"  # wrapped in the workbook
    INTEGER = "integer"
    AMOUNT = "amount"  # 万元, two decimals with thousands separators
    RATE = "rate"  # percentage points; a percent-formatted fraction in the workbook
    SCORE = "score"  # two decimals
    DATE = "date"  # a real date in the workbook, YYYY-MM-DD in the CSV


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # in characters, as a spreadsheet program counts them
    kind: Kind
    value: Callable[[Any, int], Any]  # (the row's object, row number) → typed value


def _result(item: RectificationItem) -> Any:
    return item.recommendation.finding.result


def _closed_on(item: RectificationItem) -> datetime.date | None:
    return timezone.localdate(item.closed_at) if item.closed_at else None


LEDGER_COLUMNS: tuple[Column, ...] = (
    # The 19 columns of the ledger as it has always been exported, in this order.
    Column("序号", 6, Kind.INTEGER, lambda item, n: n),
    Column("评价年度", 8, Kind.INTEGER, lambda item, n: _result(item).round.year),
    Column("责任单位", 24, Kind.LONG_TEXT, lambda item, n: item.unit.name),
    Column("项目名称", 26, Kind.LONG_TEXT, lambda item, n: _result(item).project.name),
    Column("预算数（万元）", 13, Kind.AMOUNT, lambda item, n: _result(item).budget),
    Column("完成数（万元）", 13, Kind.AMOUNT, lambda item, n: _result(item).spent),
    Column("预算完成率", 10, Kind.RATE, lambda item, n: _result(item).completion_rate),
    Column("评价得分", 8, Kind.SCORE, lambda item, n: _result(item).score),
    Column("评价等级", 8, Kind.TEXT, lambda item, n: _result(item).grade),
    Column("问题", 50, Kind.LONG_TEXT, lambda item, n: item.recommendation.finding.full_text),
    Column("整改建议", 50, Kind.LONG_TEXT, lambda item, n: item.recommendation.full_text),
    Column("整改措施", 40, Kind.LONG_TEXT, lambda item, n: item.measures),
    Column("责任人", 10, Kind.TEXT, lambda i, n: i.owner.display_name if i.owner else ""),
    Column("整改时限", 12, Kind.DATE, lambda item, n: item.deadline),
    Column("整改状态", 10, Kind.TEXT, lambda item, n: item.get_status_display()),
    Column("最新进展", 40, Kind.LONG_TEXT, lambda item, n: item.latest_note or ""),
    Column("佐证材料数", 10, Kind.INTEGER, lambda item, n: item.evidence_count or 0),
    Column("是否逾期", 8, Kind.TEXT, lambda item, n: "是" if item.is_overdue else "否"),
    Column("销号日期", 12, Kind.DATE, lambda item, n: _closed_on(item)),
    # Appended after the fixed ones: the closure (销号) and its verification, the unit's result,
    # the deadline's story (first set, approved extensions, the return waiting for an answer).
    Column("销号结论", 10, Kind.TEXT, lambda item, n: item.get_closure_outcome_display()),
    Column("核查方式", 12, Kind.TEXT, lambda item, n: item.get_verification_method_display()),
    Column("核查人", 10, Kind.TEXT, lambda item, n: item.verified_by),
    Column("核查日期", 12, Kind.DATE, lambda item, n: item.verified_on),
    Column("整改结果", 40, Kind.LONG_TEXT, lambda item, n: item.result),
    Column("延期次数", 8, Kind.INTEGER, lambda item, n: item.extensions_approved),
    Column("原定整改时限", 12, Kind.DATE, lambda item, n: item.original_deadline),
    Column("时限依据", 12, Kind.TEXT, lambda item, n: item.get_deadline_source_display()),
    Column("是否退回", 8, Kind.TEXT, lambda item, n: "是" if item.returned_at else "否"),
    Column("退回原因", 30, Kind.LONG_TEXT, lambda item, n: item.return_reason),
    Column("整改类型", 10, Kind.TEXT, lambda item, n: item.get_rectification_type_display()),
    Column("是否反弹", 8, Kind.TEXT, lambda item, n: "是" if item.relapsed_at else "否"),
)
COLUMNS = tuple(column.header for column in LEDGER_COLUMNS)
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
    """One export row as typed values: Decimals for figures, dates, text for the rest."""
    return [column.value(item, index) for column in LEDGER_COLUMNS]


def _text(kind: Kind, value: Any) -> str:
    """A value as the CSV shows it (and as a person reads it)."""
    if value is None:
        return ""
    if kind is Kind.AMOUNT:
        return f"{value:,.2f}"
    if kind is Kind.RATE:
        return f"{value:.2f}%"
    if kind is Kind.SCORE:
        return f"{value:.2f}"
    if kind is Kind.DATE:
        return value.isoformat()
    if kind in (Kind.TEXT, Kind.LONG_TEXT):
        return neutralise(str(value))
    return str(value)


def _text_row(values: list[Any]) -> list[str]:
    return [_text(c.kind, v) for c, v in zip(LEDGER_COLUMNS, values, strict=True)]


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


# Number formats as Excel and WPS know them (built-in ones where there is one).
_FORMATS = {
    Kind.INTEGER: "0",
    Kind.AMOUNT: "#,##0.00",
    Kind.RATE: "0.00%",
    Kind.SCORE: "0.00",
    Kind.DATE: "yyyy-mm-dd",
}
_TOP = Alignment(vertical="top")
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGNMENT = Alignment(wrap_text=True, horizontal="center", vertical="center")


def _xlsx_cell(sheet: Any, kind: Kind, value: Any) -> WriteOnlyCell:
    if value is None:
        cell = WriteOnlyCell(sheet, value=None)
    elif kind is Kind.RATE:
        cell = WriteOnlyCell(sheet, value=float(Decimal(value) / 100))
    elif isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=float(value))
    elif isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=neutralise(value))
    else:
        cell = WriteOnlyCell(sheet, value=value)  # int, datetime.date
    if kind in _FORMATS:
        cell.number_format = _FORMATS[kind]
    cell.alignment = _WRAP if kind is Kind.LONG_TEXT else _TOP
    return cell


def write_xlsx(items: Iterable[RectificationItem], out: IO[bytes]) -> int:
    """Write the ledger workbook to ``out``; returns the number of item rows."""

    def rows() -> Iterator[list[Any]]:
        for index, item in enumerate(items, start=1):
            with translation.override(EXPORT_LANGUAGE):
                yield ledger_values(item, index)

    return write_sheet(out, title="整改台账", columns=LEDGER_COLUMNS, rows=rows())


def write_sheet(
    out: IO[bytes], *, title: str, columns: Sequence[Column], rows: Iterable[list[Any]]
) -> int:
    """One streamed sheet of typed values (one list per row, in ``columns`` order): real dates,
    numbers with their formats, wrapped long text, a frozen header row with an autofilter,
    sensible widths. Every workbook the application writes goes through here."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    # A write-only sheet writes its column widths and frozen pane with the first row: set
    # them before appending anything. The autofilter is written at the end, when the number
    # of rows is known.
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGNMENT
        header.append(cell)
    sheet.append(header)
    count = 0
    for count, values in enumerate(rows, start=1):  # noqa: B007 - the last index is the count
        sheet.append([_xlsx_cell(sheet, c.kind, v) for c, v in zip(columns, values, strict=True)])
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    workbook.save(out)
    return count


def xlsx_tempfile(items: Iterable[RectificationItem]) -> IO[bytes]:
    """The workbook in a temporary file (deleted on close), rewound for streaming."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    write_xlsx(items, spool)
    spool.seek(0)
    return spool


def export_filename(
    fmt: str,
    *,
    year: int | None = None,
    unit: str | None = None,
    filtered: bool = False,
    today: datetime.date | None = None,
) -> str:
    """What was exported, in the name: 整改台账_2020_荔湾区教育局_筛选_2026-12-03.xlsx.

    ``unit`` is the unit's short name (or its name) when the export is one unit's, be it by a
    filter or because the user belongs to it; "全部" only when nothing narrows the ledger.
    ``filtered``: some other filter (status, deadline, keyword…) narrowed it further.
    """
    parts = ["整改台账"]
    if year:
        parts.append(str(year))
    if unit:
        parts.append(_safe_name(unit))
    if filtered:
        parts.append("筛选")
    if len(parts) == 1:
        parts.append("全部")
    parts.append((today or timezone.localdate()).isoformat())
    return "_".join(parts) + f".{fmt}"


def narrowed(cleaned_data: dict[str, Any]) -> bool:
    """Whether the ledger filter's values narrow the list beyond year and unit (which the
    file name states itself); sorting narrows nothing."""
    for name, value in cleaned_data.items():
        if name in {"year", "unit", "sort"}:
            continue
        if isinstance(value, slice):  # a date range: slice(None, None) when both are empty
            value = value.start or value.stop
        if value not in (None, "", [], ()):
            return True
    return False


def _safe_name(text: str) -> str:
    # A unit name goes into a file name: no path separators or characters Windows refuses.
    return "".join("-" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in text).strip()


def iterate(items) -> Iterator[RectificationItem]:  # type: ignore[no-untyped-def]
    """The rows to export, streamed: one query per chunk, however many rows."""
    return items.iterator(chunk_size=CHUNK_SIZE)
