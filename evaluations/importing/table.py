"""Readers for the three input formats and the row validation they share.

The official layout (xlsx or csv) is read as it comes from the evaluation office: an optional
title row, a one- or two-row header (merged cells such as 资金使用情况（单位：万元） over 预算数 /
完成数 / 预算完成率), then one row per project whose 问题 and 建议 cells hold every numbered item.
Our YAML fixture carries the same fields with the numbered items already split.

Tables as offices send them may also carry total rows (合计, 总计) and subtotal rows (小计, one
per unit): those are recognised by the word in the first columns, checked against the project
rows they total, reported in ``ParsedTable.notes`` and never imported as projects.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import PurePath
from typing import Any

import yaml
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from evaluations.importing import cells
from evaluations.importing.cells import CENT, CellError
from evaluations.importing.records import (
    ImportIssue,
    ImportNote,
    NumberedText,
    ParsedTable,
    ProjectRecord,
)
from evaluations.models import chinese_numeral, grade_for_score
from liwan import zipcheck

# Canonical column → the header spellings accepted for it (after normalisation).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "序号": ("序号",),
    "单位名称": ("单位名称", "实施单位", "责任单位"),
    "项目名称": ("项目名称",),
    "绩效目标": ("绩效目标",),
    "预算数": ("预算数",),
    "完成数": ("完成数",),
    "预算完成率": ("预算完成率",),
    "分数": ("分数", "评价得分", "得分"),
    "等级": ("等级", "评价等级"),
    "问题": ("问题",),
    "建议": ("建议", "整改建议"),
}
REQUIRED_COLUMNS = tuple(COLUMN_ALIASES)
# Column → key of a project in our YAML fixture (fixtures/liwan_2020.yaml).
FIXTURE_KEYS: dict[str, str] = {
    "序号": "seq",
    "单位名称": "unit",
    "项目名称": "project",
    "绩效目标": "goal",
    "预算数": "budget",
    "完成数": "spent",
    "预算完成率": "completion_rate",
    "分数": "score",
    "等级": "grade",
    "问题": "problems",
    "建议": "recommendations",
}
_ALIAS_TO_COLUMN = {alias: col for col, aliases in COLUMN_ALIASES.items() for alias in aliases}
SUB_HEADERS = {"预算数", "完成数", "预算完成率", "分数", "等级", "问题", "建议"}
# Every name a header row of the official layout can carry (the merged group cells included).
HEADER_WORDS = set(COLUMN_ALIASES) | {"资金使用情况", "第三方评价", "问题及建议"}
HEADER_SCAN_ROWS = 10
MAX_ROWS = 20000  # a province-wide table is a few thousand rows; beyond this, refuse early
MAX_COLUMNS = 100  # the layout has 11 columns; room for extra ones such as 备注

# Limits of the model fields, checked here so the message names the cell.
MAX_LENGTH = {"单位名称": 100, "项目名称": 200}
MAX_TITLE_LENGTH = 300
# Problems (and recommendations) of one project: the official layout numbers them （一）…（九十九）,
# and Finding.number is a small integer; a YAML list of 32,800 overflowed it (a server error
# on PostgreSQL instead of a message).
MAX_ITEMS = 99
MAX_ROUND_TITLE_LENGTH = 200  # EvaluationRound.title

_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年")


@dataclass
class RawCell:
    value: Any
    letter: str = ""
    number_format: str | None = None


@dataclass
class RawRow:
    where: str
    cells: dict[str, RawCell] = field(default_factory=dict)
    number: int = 0  # the row as a spreadsheet program numbers it (0: YAML)
    total: str = ""  # 合计 / 小计 / 总计 for a total row, "" for a project


# A total row totals the project rows since the last total row of its level or above: a 小计
# its unit's rows, a 合计 everything since the last 合计 (all rows, or a unit's when 合计 is
# used per unit under a 总计), a 总计 the whole table.
TOTAL_LEVELS = {"小计": 1, "合计": 2, "总计": 3}
# Where the word stands: the first columns, as printed tables put it (序号 merged with 单位名称).
TOTAL_COLUMNS = ("序号", "单位名称", "项目名称")
TOTALLED = ("预算数", "完成数")


def read_table(name: str, data: bytes, *, year: int | None = None) -> ParsedTable:
    """Parse and validate a file; ``ParsedTable.issues`` lists everything wrong with it."""
    source = PurePath(name).name
    suffix = PurePath(name).suffix.lower()
    table = ParsedTable(source=source)
    if not data.strip():
        table.issues.append(ImportIssue(f"文件「{source}」", "", "文件为空"))
        return table
    if suffix in {".yaml", ".yml"}:
        rows = _read_yaml(source, data, table)
    elif suffix == ".xlsx":
        rows = _read_xlsx(source, data, table)
    elif suffix == ".csv":
        rows = _read_csv(source, data, table)
    else:
        hint = "（旧版 .xls 请在 Excel 中另存为 .xlsx）" if suffix == ".xls" else ""
        table.issues.append(
            ImportIssue(
                f"文件「{source}」",
                "",
                f"不支持的文件类型，请上传 .xlsx、.csv 或 .yaml 文件{hint}",
            )
        )
        return table
    if table.issues:
        return table
    if len(table.title) > MAX_ROUND_TITLE_LENGTH:
        table.issues.append(
            ImportIssue(
                f"文件「{source}」",
                "",
                f"标题超过 {MAX_ROUND_TITLE_LENGTH} 个字：「{table.title[:30]}…」",
            )
        )
    _resolve_year(table, year)
    if not any(not row.total for row in rows):
        table.issues.append(ImportIssue(f"文件「{source}」", "", "表格中没有项目数据行"))
    read_as_fraction: list[tuple[RawRow, Decimal]] = []
    # Every project row in order with its record (None when the row has errors).
    seen: list[tuple[RawRow, ProjectRecord | None]] = []
    since = dict.fromkeys(TOTAL_LEVELS.values(), 0)  # level → index in seen after its last total
    for row in rows:
        if row.total:
            level = TOTAL_LEVELS[row.total]
            _check_total(row, seen[since[level] :], table)
            for lower in range(1, level + 1):
                since[lower] = len(seen)
            continue
        record = _validate_row(row, table.issues, read_as_fraction)
        seen.append((row, record))
        if record is not None:
            table.projects.append(record)
    if read_as_fraction:
        first_row, first_rate = read_as_fraction[0]
        example = cells.text(first_row.cells["预算完成率"].value)
        table.notes.append(
            ImportNote(
                f"文件「{source}」",
                f"预算完成率按小数读取（如「{example}」读作 {first_rate}%），与 完成数÷预算数 "
                f"一致：{_row_list([row for row, _rate in read_as_fraction])}",
            )
        )
    _check_duplicates(table)
    _check_control_characters(table)
    return table


# --- readers -----------------------------------------------------------------------------------


class _YamlRefused(Exception):
    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1
        self.message = message


# Our format nests six deep (document, projects, project, problems, problem, categories).
MAX_YAML_DEPTH = 20


class _BoundedYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases and with bounded nesting.

    An alias (``*name``) repeats an anchored node by reference: ten aliases of ten aliases of…
    make a 644-byte file expand to gigabytes once anything walks or prints it (a "billion
    laughs" of YAML; the import took 33 s and 892 MB before any length check). A summary table
    never needs one, so the first alias is refused while the file is composed, before anything
    is built. Nesting is bounded for the same reason (a file of ``[[[[…`` exhausts the stack).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _YamlRefused(
                event.start_mark,
                f"不支持 YAML 别名（*{event.anchor}）：请把引用的内容直接写出",
            )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _YamlRefused(
                    self.peek_event().start_mark, f"YAML 嵌套超过 {MAX_YAML_DEPTH} 层"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _load_yaml(text: str) -> Any:
    loader = _BoundedYamlLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _yaml_year(value: Any) -> int | None:
    """round.year as written: a whole number (2021 or "2021"); None for anything else (a
    float such as .inf or 2021.5, a list…), which is refused with a message."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,6}\s*", value):
        return int(value)
    return None


def _read_yaml(source: str, data: bytes, table: ParsedTable) -> list[RawRow]:
    where = f"文件「{source}」"
    try:
        doc = _load_yaml(data.decode("utf-8-sig"))
    except _YamlRefused as exc:
        table.issues.append(ImportIssue(f"{where}第{exc.line}行", "", exc.message))
        return []
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        table.issues.append(
            ImportIssue(where, "", f"不是有效的 YAML 文件（{exc.__class__.__name__}）")
        )
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("projects"), list):
        table.issues.append(ImportIssue(where, "", "缺少 projects 列表"))
        return []
    round_info = doc.get("round") or {}
    if isinstance(round_info, dict):
        table.title = cells.text(round_info.get("title"))
        if round_info.get("year") is not None:
            table.year = _yaml_year(round_info["year"])
            if table.year is None:
                table.issues.append(ImportIssue(where, "round.year", "评价年度应为四位数年份"))
    rows = []
    for index, item in enumerate(doc["projects"], start=1):
        row = RawRow(where=f"{where}第{index}个项目")
        if not isinstance(item, dict):
            table.issues.append(ImportIssue(row.where, "", "项目应为键值对"))
            continue
        for column, key in FIXTURE_KEYS.items():
            if key in item:
                row.cells[column] = RawCell(item[key], letter=key)
        rows.append(row)
    return rows


def _read_xlsx(source: str, data: bytes, table: ParsedTable) -> list[RawRow]:
    not_xlsx = ImportIssue(f"文件「{source}」", "", "不是有效的 Excel（.xlsx）文件，无法读取")
    unsafe = _unsafe_workbook(data)
    if unsafe is not None:
        table.issues.append(ImportIssue(f"文件「{source}」", "", unsafe))
        return []
    try:
        # openpyxl parses the XML with defusedxml when it is installed (it is a dependency),
        # or with lxml without resolving entities when lxml is installed; _unsafe_workbook has
        # already refused any DTD, so neither ever sees one (tests/test_import_fuzz.py).
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # Not a zip (BadZipFile), a zip of something else (KeyError, InvalidFileException,
        # OSError), or a workbook whose XML is damaged (ParseError, ValueError, TypeError…):
        # an uploaded file must get a message, never a server error.
        table.issues.append(not_xlsx)
        return []
    try:
        for sheet in workbook.worksheets:
            where = f"工作表「{sheet.title}」"
            try:
                grid = _xlsx_grid(sheet)
            except _TooManyRows:
                table.issues.append(ImportIssue(where, "", f"行数超过 {MAX_ROWS} 行"))
                return []
            except Exception:
                # A read-only workbook parses each sheet lazily, so a damaged sheet only fails
                # here, with whatever the XML or zip layer raises (ParseError, BadZipFile,
                # zlib.error, …). Any of them means the same thing to the user.
                table.issues.append(not_xlsx)
                return []
            if _find_header(grid) is not None:
                return _rows_from_grid(where, grid, table)
    finally:
        workbook.close()
    table.issues.append(
        ImportIssue(
            f"文件「{source}」", "", "没有找到汇总表：任何工作表中都没有“序号”“单位名称”等表头"
        )
    )
    return []


class _TooManyRows(Exception):
    pass


# A summary table is a few hundred kilobytes unpacked; a city-wide one a few megabytes.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_WORKBOOK_PARTS = 2000


def _unsafe_workbook(data: bytes) -> str | None:
    """Why the workbook must not be opened at all (a zip or XML bomb…), or None.

    Checked before openpyxl sees the file, whatever XML parser it uses (liwan.zipcheck).
    """
    limits = zipcheck.Limits(
        max_unpacked_bytes=MAX_UNPACKED_BYTES,
        max_members=MAX_WORKBOOK_PARTS,
        # Macros in a workbook are never run or even read by openpyxl (keep_vba is off).
        allow_active_content=True,
    )
    try:
        zipcheck.inspect(io.BytesIO(data), limits=limits)
    except zipfile.BadZipFile:
        return None  # not a zip: openpyxl says so in its own way ("不是有效的 Excel")
    except zipcheck.UnsafePackage as exc:
        malicious = "可能是恶意文件，未读取"
        return {
            "zip_bomb": f"文件解压后超过 {MAX_UNPACKED_BYTES // 1048576} MB，{malicious}",
            "zip_members": f"文件包含的部件超过 {MAX_WORKBOOK_PARTS} 个，{malicious}",
            "encrypted": "文件已加密，请在 Excel 中去除密码后重新保存再导入",
            "xml_dtd": f"文件中含有 Excel 文件不应有的 XML 声明（DTD 或实体定义），{malicious}",
        }.get(exc.code, "不是有效的 Excel（.xlsx）文件，无法读取")
    return None


def _xlsx_grid(sheet: Any) -> list[list[RawCell]]:
    grid = []
    # max_col bounds the work when formatting was applied to whole rows (16,384 columns).
    for row_cells in sheet.iter_rows(max_col=MAX_COLUMNS):
        grid.append(
            [
                RawCell(
                    _ooxml_unescape(c.value) if isinstance(c.value, str) else c.value,
                    letter=get_column_letter(i + 1),
                    number_format=getattr(c, "number_format", None),
                )
                for i, c in enumerate(row_cells)
            ]
        )
        if len(grid) > MAX_ROWS:
            raise _TooManyRows
    return grid


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _ooxml_unescape(value: str) -> str:
    # Excel stores a carriage return typed or pasted into a cell as "_x000D_" (OOXML's escape
    # for characters XML cannot carry) and openpyxl hands it over verbatim; a 问题 cell pasted
    # from the Word report would otherwise import "…较为陈旧。_x000D_" into every body.
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def _read_csv(source: str, data: bytes, table: ParsedTable) -> list[RawRow]:
    where = f"文件「{source}」"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        table.issues.append(
            ImportIssue(
                where, "", "文件为 UTF-16 编码（Excel 的“Unicode 文本”），请另存为“CSV UTF-8”"
            )
        )
        return []
    if b"\x00" in data:
        # Checked on the bytes: a binary file (an image, a workbook renamed .csv) may still
        # decode as gb18030, and "wrong encoding" would send the user looking in the wrong place.
        table.issues.append(ImportIssue(where, "", "不是有效的 CSV 文本文件"))
        return []
    # Excel on a Chinese Windows saves "CSV" in the ANSI code page, i.e. GBK; gb18030 is its
    # superset. UTF-8 is tried first: GBK bytes are almost never valid UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        table.issues.append(ImportIssue(where, "", "无法识别文件编码（应为 UTF-8 或 GBK）"))
        return []
    reader = csv.reader(io.StringIO(content, newline=""))
    grid: list[list[RawCell]] = []
    try:
        for record in reader:
            # Rows are counted as records, not text lines: every 问题/建议 cell spans several
            # lines, and staff open the file in Excel/WPS, where one record is one row and the
            # columns have letters.
            grid.append([RawCell(v, letter=get_column_letter(i + 1)) for i, v in enumerate(record)])
            if len(grid) > MAX_ROWS:
                table.issues.append(ImportIssue(where, "", f"行数超过 {MAX_ROWS} 行"))
                return []
    except csv.Error as exc:
        table.issues.append(
            ImportIssue(f"{where}第{reader.line_num}行（文本行）", "", f"CSV 格式错误：{exc}")
        )
        return []
    if _find_header(grid) is None:
        table.issues.append(
            ImportIssue(where, "", "没有找到汇总表表头（应包含“序号”“单位名称”等列）")
        )
        return []
    return _rows_from_grid(where, grid, table)


# --- the official layout -------------------------------------------------------------------------


def _normalise_header(value: Any) -> str:
    raw = re.sub(r"\s+", "", cells.text(value)).replace("(", "（").replace(")", "）")
    raw = re.sub(r"（(单位：)?万元）$", "", raw)
    raw = raw.removesuffix("（%）")
    return _ALIAS_TO_COLUMN.get(raw, raw)


def _is_header_row(row: list[RawCell]) -> bool:
    # Three known names tell a header row from a title or data row, and still find a header that
    # lacks 序号 or 单位名称, so that the message can say which column is missing.
    names = {_normalise_header(c.value) for c in row}
    return len(names & HEADER_WORDS) >= 3


def _find_header(grid: list[list[RawCell]]) -> int | None:
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        if _is_header_row(row):
            return index
    return None


def _row_text(row: list[RawCell]) -> str:
    return "".join(cells.text(c.value) for c in row).strip()


def _rows_from_grid(where: str, grid: list[list[RawCell]], table: ParsedTable) -> list[RawRow]:
    header_index = _find_header(grid)
    if header_index is None:  # callers find the header first; this only narrows the type
        return []
    for row in grid[:header_index]:
        title = _one_line(_row_text(row))
        if title and not table.title:
            table.title = title
    top = [_normalise_header(c.value) for c in grid[header_index]]
    below = grid[header_index + 1] if header_index + 1 < len(grid) else []
    sub = [_normalise_header(c.value) for c in below]
    two_rows = bool(set(sub) & SUB_HEADERS)
    width = max(len(top), len(sub) if two_rows else 0)
    names = []
    for i in range(width):
        name = sub[i] if two_rows and i < len(sub) and sub[i] else ""
        names.append(name or (top[i] if i < len(top) else ""))
    columns: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in COLUMN_ALIASES and name not in columns:
            columns[name] = i
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        table.issues.append(
            ImportIssue(
                f"{where}第{header_index + 1}行（表头）",
                "",
                "缺少必需的列：" + "、".join(missing),
            )
        )
        return []
    rows = []
    first_data = header_index + (2 if two_rows else 1)
    for index in range(first_data, len(grid)):
        raw = grid[index]
        text = _row_text(raw)
        # Printed tables repeat their header (both rows of it) and sometimes the title on every
        # page; those rows are layout, not projects.
        if not text or _one_line(text) == table.title or _is_header_row(raw):
            continue
        row = RawRow(where=f"{where}第{index + 1}行", number=index + 1)
        for name, col in columns.items():
            cell = raw[col] if col < len(raw) else RawCell(None)
            row.cells[name] = RawCell(
                cell.value,
                letter=cell.letter or get_column_letter(col + 1),
                number_format=cell.number_format,
            )
        row.total = _total_word(row)
        rows.append(row)
    return rows


def _total_word(row: RawRow) -> str:
    """合计 / 小计 / 总计 when one of the first columns says so ("合　计", "小计：教育局",
    "教育局小计"), else ""."""
    for name in TOTAL_COLUMNS:
        word = _total_in(row.cells[name].value)
        if word:
            return word
    return ""


def _total_in(value: Any) -> str:
    raw = re.sub(r"[\s:：]+", "", cells.text(value))
    return next((w for w in TOTAL_LEVELS if raw.startswith(w) or raw.endswith(w)), "")


def _row_list(rows: list[RawRow]) -> str:
    numbers = [f"第{row.number}行" for row in rows[:20]]
    more = f"等 {len(rows)} 行" if len(rows) > 20 else f"共 {len(rows)} 行"
    return "、".join(numbers) + f"（{more}）"


def _check_total(
    row: RawRow, covered: list[tuple[RawRow, ProjectRecord | None]], table: ParsedTable
) -> None:
    """Compare a total row's 预算数 and 完成数 with the sum of the project rows it totals: a
    mismatch is an issue located at the cell, a match a note. Never a project."""
    word = row.total
    if not covered:
        table.issues.append(ImportIssue(row.where, "", f"{word}行之前没有可合计的项目行"))
        return
    span = (
        f"第{covered[0][0].number}行"
        if len(covered) == 1
        else f"第{covered[0][0].number}–{covered[-1][0].number}行"
    )
    records = [record for _row, record in covered]
    # A subtotal may name its unit in the unit column (the word then stands in another one).
    unit_cell = row.cells["单位名称"].value
    named_unit = "" if _total_in(unit_cell) else _one_line(unit_cell)
    if any(record is None for record in records):
        # Some of those rows have errors of their own (already reported): a sum over them
        # would only add a confusing second message.
        return
    if named_unit:
        others = sorted({r.unit for r in records if r is not None and r.unit != named_unit})
        if others:
            table.issues.append(
                ImportIssue(
                    row.where,
                    "单位名称",
                    f"{word}行注明单位「{named_unit}」，但其合计的{span}中有其他单位的项目："
                    + "、".join(others),
                    letter=row.cells["单位名称"].letter,
                )
            )
            return
    checked = []
    for name in TOTALLED:
        cell = row.cells[name]
        if not cells.text(cell.value):
            continue
        try:
            stated = cells.parse_amount(cell.value, what=name)
        except CellError as exc:
            table.issues.append(
                ImportIssue(row.where, name, f"{word}行：{exc}", letter=cell.letter)
            )
            return
        attribute = "budget" if name == "预算数" else "spent"
        summed = sum((getattr(r, attribute) for r in records if r is not None), Decimal(0))
        if stated != summed:
            table.issues.append(
                ImportIssue(
                    row.where,
                    name,
                    f"{word}行的{name} {stated:,.2f} 与其合计的{span}（{len(records)} 个项目）"
                    f"之和 {summed:,.2f} 不符（相差 {stated - summed:,.2f}）",
                    letter=cell.letter,
                )
            )
            return
        checked.append(f"{name} {stated:,.2f}")
    unit = f"（{named_unit}）" if named_unit else ""
    if checked:
        message = (
            f"{word}行{unit}："
            + "、".join(checked)
            + f" 与{span}（{len(records)} 个项目）之和一致；不作为项目导入"
        )
    else:
        message = f"{word}行{unit}：未填预算数、完成数，未核对；不作为项目导入"
    table.notes.append(ImportNote(row.where, message))


# --- validation shared by all formats ------------------------------------------------------------


def _validate_row(
    row: RawRow, issues: list[ImportIssue], read_as_fraction: list[tuple[RawRow, Decimal]]
) -> ProjectRecord | None:
    before = len(issues)

    def cell(name: str) -> RawCell:
        return row.cells.get(name) or RawCell(None)

    def fail(name: str, message: str) -> None:
        issues.append(ImportIssue(row.where, name, message, letter=cell(name).letter))

    def parse(name: str, parser, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return parser(cell(name).value, *args, **kwargs)
        except CellError as exc:
            fail(name, str(exc))
            return None

    seq = parse("序号", cells.parse_seq)
    unit = _one_line(cell("单位名称").value)
    project = _one_line(cell("项目名称").value)
    for name, value in (("单位名称", unit), ("项目名称", project)):
        if not value:
            fail(name, f"{name}不能为空")
        elif len(value) > MAX_LENGTH[name]:
            fail(name, f"{name}超过 {MAX_LENGTH[name]} 个字")
    goal = cells.text(cell("绩效目标").value)
    budget = parse("预算数", cells.parse_amount, what="预算数")
    spent = parse("完成数", cells.parse_amount, what="完成数")
    readings = parse(
        "预算完成率", cells.rate_readings, number_format=cell("预算完成率").number_format
    )
    rate = readings[0].value if readings else None
    score = parse("分数", cells.parse_score)
    grade = parse("等级", cells.parse_grade)
    findings = _numbered(cell("问题").value, "问题", fail)
    recommendations = _numbered(cell("建议").value, "建议", fail)

    if budget is not None and spent is not None and readings:
        # Compared with the quotient as the table prints it (two decimals), so the message shows
        # the same number the check uses; ±0.01 absorbs tools that truncate instead of round.
        expected = (spent / budget * 100).quantize(CENT, ROUND_HALF_UP) if budget else Decimal(0)
        # A plain number may be percentage points or a fraction: the reading that agrees with
        # the amounts is the one the table meant.
        agreeing = [r for r in readings if abs(r.value - expected) <= CENT]
        if agreeing:
            rate = agreeing[0].value
            if agreeing[0].as_fraction:
                read_as_fraction.append((row, rate))
        else:
            fail("预算完成率", _rate_mismatch(cell("预算完成率").value, readings, expected))
    if score is not None and grade is not None and grade_for_score(score) != grade:
        fail(
            "等级",
            f"等级「{grade}」与分数 {score} 不符，按评分等级应为「{grade_for_score(score)}」"
            "（90–100 优，80–90 良，60–80 中，60 以下差）",
        )
    if (
        findings is not None
        and recommendations is not None
        and len(findings) != len(recommendations)
    ):
        fail(
            "建议",
            f"问题有 {len(findings)} 条、建议有 {len(recommendations)} 条，建议应与问题一一对应",
        )
    if len(issues) > before:
        return None
    return ProjectRecord(
        where=row.where,
        seq=seq,
        unit=unit,
        project=project,
        goal=goal,
        budget=budget,
        spent=spent,
        completion_rate=rate,
        score=score,
        grade=grade,
        findings=findings,
        recommendations=recommendations,
        letters={name: raw.letter for name, raw in row.cells.items()},
    )


def _rate_mismatch(value: Any, readings: list[cells.RateReading], expected: Decimal) -> str:
    tolerance = "（允许误差 0.01 个百分点）"
    if len(readings) == 1 and not readings[0].as_fraction:
        return f"预算完成率 {readings[0].value}% 与 完成数÷预算数 = {expected}% 不符{tolerance}"
    ways = "、".join(
        f"按小数读作 {r.value}%" if r.as_fraction else f"按百分数读作 {r.value}%" for r in readings
    )
    both = "都" if len(readings) > 1 else ""
    return (
        f"预算完成率「{cells.text(value)}」{ways}，{both}与 完成数÷预算数 = {expected}% 不符"
        f"{tolerance}"
    )


def _one_line(value: Any) -> str:
    # Unit and project names are natural keys: a line break typed into a narrow cell
    # (广州市荔湾区⏎市政园林绿化管理中心) must not make a second unit.
    return re.sub(r"\s*\n\s*", "", cells.text(value))


def _numbered(value: Any, what: str, fail) -> list[NumberedText] | None:  # type: ignore[no-untyped-def]
    try:
        if isinstance(value, list):
            items = _structured(value, what)
        else:
            items = cells.split_numbered(value, what=what)
    except CellError as exc:
        fail(what, str(exc))
        return None
    if len(items) > MAX_ITEMS:
        fail(what, f"{what}有 {len(items)} 条，每个项目最多 {MAX_ITEMS} 条")
        return None
    for item in items:
        if len(item.title) > MAX_TITLE_LENGTH:
            numeral = chinese_numeral(item.number)
            fail(what, f"{what}（{numeral}）的标题超过 {MAX_TITLE_LENGTH} 个字")
            return None
    return items


def _structured(value: list[Any], what: str) -> list[NumberedText]:
    """Items of the YAML fixture: a list of {title, body}, numbered by position; a problem may
    also list its categories (``categories: [绩效目标与指标设置, …]``)."""
    if not value:
        raise CellError(f"{what}不能为空")
    items = []
    for number, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or not cells.text(entry.get("title")):
            raise CellError(f"{what}第{number}条缺少标题（title）")
        items.append(
            NumberedText(
                number=number,
                title=cells.text(entry.get("title")),
                body=cells.text(entry.get("body")),
                categories=(
                    _categories(entry["categories"], what, number)
                    if what == "问题" and "categories" in entry
                    else None
                ),
            )
        )
    return items


def _categories(value: Any, what: str, number: int) -> tuple[str, ...]:
    """The category names of one problem, in order, without repeats; ``[]`` clears them."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CellError(f"{what}第{number}条的问题类别（categories）应为类别名称的列表")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _resolve_year(table: ParsedTable, year: int | None) -> None:
    found = _YEAR_IN_TITLE.search(table.title)
    title_year = int(found.group(1)) if found else None
    file_year = table.year or title_year
    where = f"文件「{table.source}」"
    if year is not None and file_year is not None and year != file_year:
        table.issues.append(
            ImportIssue(where, "", f"文件所属年度为 {file_year} 年，与指定的评价年度 {year} 不一致")
        )
    table.year = year or file_year
    if table.year is None:
        table.issues.append(
            ImportIssue(
                where,
                "",
                "无法从标题确定评价年度，请指定评价年度"
                "（命令行用 --year，后台导入页填写“评价年度”）",
            )
        )
    elif not 2000 <= table.year <= 2100:
        table.issues.append(ImportIssue(where, "", f"评价年度 {table.year} 不在合理范围内"))


# Control characters other than line breaks and tabs: invisible in a spreadsheet, refused by
# PostgreSQL (NUL), and a way to hide text. They can arrive from a YAML escape ("\0"), from
# Excel's _x0000_ escape in a workbook, or from a damaged file that still parses.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_MESSAGE = "含有不可见的控制字符（如 U+0000），请删除后重新导入"


def _check_control_characters(table: ParsedTable) -> None:
    """One issue per cell that holds a control character (every text the import writes)."""
    source = f"文件「{table.source}」"
    if _CONTROL.search(table.title):
        table.issues.append(ImportIssue(source, "", f"标题{_CONTROL_MESSAGE}"))
    for record in table.projects:
        texts = [
            ("单位名称", record.unit),
            ("项目名称", record.project),
            ("绩效目标", record.goal),
        ]
        for column, items in (("问题", record.findings), ("建议", record.recommendations)):
            for item in items:
                texts += [(column, item.title), (column, item.body)]
                texts += [(column, name) for name in getattr(item, "categories", None) or ()]
        for column in dict.fromkeys(c for c, text in texts if _CONTROL.search(text)):
            table.issues.append(
                ImportIssue(
                    record.where, column, _CONTROL_MESSAGE, letter=record.letters.get(column, "")
                )
            )


def _check_duplicates(table: ParsedTable) -> None:
    seen_projects: dict[tuple[str, str], str] = {}
    seen_seqs: dict[int, str] = {}
    for record in table.projects:
        key = (record.unit, record.project)
        if key in seen_projects:
            table.issues.append(
                ImportIssue(
                    record.where,
                    "项目名称",
                    f"项目「{record.project}」（{record.unit}）与{seen_projects[key]}重复",
                    letter=record.letters.get("项目名称", ""),
                )
            )
        else:
            seen_projects[key] = record.where
        if record.seq in seen_seqs:
            table.issues.append(
                ImportIssue(
                    record.where,
                    "序号",
                    f"序号 {record.seq} 与{seen_seqs[record.seq]}重复",
                    letter=record.letters.get("序号", ""),
                )
            )
        else:
            seen_seqs[record.seq] = record.where
