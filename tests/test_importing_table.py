"""Reading the summary table: the official layout as .xlsx/.csv, our YAML, and bad files.

The bad-spreadsheet corpus at the end builds each broken file as a real workbook (or CSV), and
proves two things for every one: the message names the exact sheet, row and column, and the
import writes nothing at all.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
import yaml
from django.apps import apps
from openpyxl import Workbook

from evaluations.importing import ImportRejected, read_table
from evaluations.importing.cells import CellError, parse_rate, split_numbered
from evaluations.models import FindingCategory, chinese_numeral
from rectification.imports import import_evaluation_table
from tests import spreadsheets as sheets
from tests.spreadsheets import build, build_csv, build_xlsx, project, projects_2020


def _comparable(table):  # type: ignore[no-untyped-def]
    """The parsed projects without where they came from (row numbers differ by format), and
    without the problem categories that only our YAML carries."""
    return [
        {
            **{k: v for k, v in vars(record).items() if k not in {"where", "letters"}},
            "findings": [replace(f, categories=None) for f in record.findings],
        }
        for record in table.projects
    ]


def _issues(table) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(issue) for issue in table.issues]


# --- the official layout ------------------------------------------------------------------------


def test_it_reads_the_2020_workbook_exactly_as_the_yaml_fixture():
    from_yaml = read_table("liwan_2020.yaml", sheets.FIXTURE_2020.read_bytes())
    from_xlsx = read_table("汇总表.xlsx", sheets.xlsx_2020())

    assert _issues(from_xlsx) == []
    assert from_xlsx.year == from_yaml.year == 2020
    assert from_xlsx.title == from_yaml.title == sheets.TITLE_2020
    assert _comparable(from_xlsx) == _comparable(from_yaml)
    assert len(from_xlsx.projects) == 10


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_it_reads_the_2020_csv_in_utf8_and_gbk(encoding):
    from_yaml = read_table("liwan_2020.yaml", sheets.FIXTURE_2020.read_bytes())
    data = sheets.csv_2020(encoding=encoding)
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # a real GBK file, not UTF-8 in disguise

    table = read_table("汇总表.csv", data)

    assert _issues(table) == []
    assert table.year == 2020
    assert _comparable(table) == _comparable(from_yaml)


def test_it_locates_rows_and_columns_of_the_workbook():
    table = read_table("汇总表.xlsx", sheets.xlsx_2020())

    first, second = table.projects[:2]
    assert first.where == "工作表「汇总表」第4行"
    assert second.where == "工作表「汇总表」第5行"
    assert second.letters["预算数"] == "E"
    assert second.letters["建议"] == "K"


def test_it_counts_csv_rows_as_a_spreadsheet_shows_them_not_as_text_lines():
    # Every 问题/建议 cell spans several text lines; Excel still shows one project per row.
    table = read_table("汇总表.csv", sheets.csv_2020())

    assert [record.where for record in table.projects[:3]] == [
        "文件「汇总表.csv」第4行",
        "文件「汇总表.csv」第5行",
        "文件「汇总表.csv」第6行",
    ]


def test_it_reads_amounts_and_rates_as_typed_in_the_workbook():
    table = read_table("汇总表.xlsx", sheets.xlsx_2020())

    seventh = table.projects[6]
    assert (seventh.budget, seventh.spent) == (Decimal("2431.17"), Decimal("1778.76"))
    assert seventh.completion_rate == Decimal("73.16")
    assert (seventh.score, seventh.grade) == (Decimal("86.30"), "良")


def test_it_splits_numbered_cells_into_titles_and_bodies():
    table = read_table("汇总表.xlsx", sheets.xlsx_2020())

    seventh = table.projects[6]
    assert [f.number for f in seventh.findings] == [1, 2, 3, 4]
    assert [r.number for r in seventh.recommendations] == [1, 2, 3, 4]
    assert all(f.title.endswith("。") and f.title.count("。") == 1 for f in seventh.findings)
    assert seventh.findings[0].body and "（二）" not in seventh.findings[0].body


def test_it_accepts_a_one_row_header_without_a_title_when_the_year_is_given():
    data = build_xlsx(projects_2020(), title=None, header_rows=1)

    table = read_table("汇总表.xlsx", data, year=2020)

    assert _issues(table) == []
    assert table.year == 2020
    assert len(table.projects) == 10
    assert table.projects[0].where == "工作表「汇总表」第2行"


def test_it_accepts_columns_in_another_order():
    columns = ["序号", "项目名称", "单位名称", "分数", "等级", "绩效目标"]
    columns += ["预算数", "完成数", "预算完成率", "问题", "建议"]

    table = read_table("汇总表.xlsx", build_xlsx(projects_2020(), columns=columns))

    assert _issues(table) == []
    assert table.projects[6].unit == "中国共产党广州市荔湾区委员会组织部"
    assert table.projects[6].score == Decimal("86.30")


def test_it_skips_a_header_repeated_after_a_page_break():
    top, sub = sheets._header_rows(tuple(sheets.COLUMNS))
    data = build_xlsx(projects_2020()[:2], extra_rows=[[sheets.TITLE_2020], top, sub, [None] * 11])
    more = read_table("汇总表.xlsx", data)

    assert _issues(more) == []
    assert len(more.projects) == 2


def test_it_joins_a_unit_name_broken_over_two_lines_in_its_cell():
    rows = projects_2020()
    rows[0]["unit"] = "广州市荔湾区\n市政园林绿化管理中心"

    table = read_table("汇总表.xlsx", build_xlsx(rows))

    assert table.projects[0].unit == "广州市荔湾区市政园林绿化管理中心"


def test_it_reads_line_breaks_that_excel_stored_as_x000d():
    # Text pasted from the Word report keeps CR LF; Excel saves the CR as "_x000D_".
    rows = projects_2020()
    for row in rows:
        for key in ("goal", "problems", "recommendations"):
            value = row[key] if key == "goal" else sheets.numbered(row[key])
            row[key] = value.replace("\n", "_x000D_\n") + ("_x000D_\n" if key == "goal" else "")

    table = read_table("汇总表.xlsx", build_xlsx(rows))
    expected = read_table("liwan_2020.yaml", sheets.FIXTURE_2020.read_bytes())

    assert _issues(table) == []
    assert _comparable(table) == _comparable(expected)


def test_it_reads_crlf_line_breaks_inside_csv_cells_as_plain_line_breaks():
    rows = projects_2020()
    for row in rows:
        row["problems"] = sheets.numbered(row["problems"]).replace("\n", "\r\n")

    table = read_table("汇总表.csv", build_csv(rows))
    expected = read_table("liwan_2020.yaml", sheets.FIXTURE_2020.read_bytes())

    assert _comparable(table) == _comparable(expected)


def test_it_names_the_yaml_key_of_a_bad_value():
    data = sheets.FIXTURE_2020.read_bytes().replace(b'"2,433.48"', b'"two thousand"', 1)

    table = read_table("liwan_2020.yaml", data)

    assert _issues(table) == [
        "文件「liwan_2020.yaml」第1个项目「预算数」列（字段 budget）："
        "预算数「two thousand」不是有效的数字"
    ]


def test_it_accepts_thousands_separators_in_text_amounts():
    row = project(budget="1,234.50", spent="1，000.00", completion_rate="81.00%")

    table = read_table("汇总表.xlsx", build_xlsx([row]))

    assert _issues(table) == []
    assert (table.projects[0].budget, table.projects[0].spent) == (
        Decimal("1234.50"),
        Decimal("1000.00"),
    )


def test_it_takes_a_formula_rate_as_the_sheet_shows_it():
    # =F4/E4 leaves 0.810044552… in the cell; the sheet shows 81.00%.
    data = _with_number(build_xlsx([project()]), "G4", 1000 / 1234.5, "0.00%")

    table = read_table("汇总表.xlsx", data)

    assert _issues(table) == []
    assert table.projects[0].completion_rate == Decimal("81.00")


def test_it_reads_a_rate_typed_as_a_plain_number_of_percent():
    data = _with_number(build_xlsx([project()]), "G4", 81, "General")

    table = read_table("汇总表.xlsx", data)

    assert _issues(table) == []
    assert table.projects[0].completion_rate == Decimal("81.00")


def _with_number(data: bytes, coordinate: str, value: float, number_format: str) -> bytes:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    cell = workbook.active[coordinate]
    cell.value = value
    cell.number_format = number_format
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_it_finds_the_table_on_a_later_sheet():
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(sheets.xlsx_2020()))
    cover = workbook.create_sheet("说明", 0)
    cover["A1"] = "本工作簿为2020年度评价汇总表。"
    out = io.BytesIO()
    workbook.save(out)

    table = read_table("汇总表.xlsx", out.getvalue())

    assert _issues(table) == []
    assert len(table.projects) == 10


# --- cell parsers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        ("99.97%", None, Decimal("99.97")),
        ("99.97％", None, Decimal("99.97")),
        (0.9997, "0.00%", Decimal("99.97")),
        (1, "0%", Decimal("100.00")),
        (99.97, "General", Decimal("99.97")),
        ("100", None, Decimal("100.00")),
    ],
)
def test_it_parses_rates_in_every_spelling(value, number_format, expected):
    assert parse_rate(value, number_format=number_format) == expected


def test_it_rejects_extra_digits_typed_into_a_text_rate():
    with pytest.raises(CellError, match="最多保留两位小数"):
        parse_rate("99.974%")


def test_it_splits_markers_at_line_starts_and_after_sentences_only():
    items = split_numbered(
        "（一）标题一。正文提到“第（二）项”不算编号。\n（二）标题二。一是甲；二是乙。",
        what="问题",
    )

    assert [(i.number, i.title, i.body) for i in items] == [
        (1, "标题一。", "正文提到“第（二）项”不算编号。"),
        (2, "标题二。", "一是甲；二是乙。"),
    ]


def test_it_numbers_past_ten():
    cell = "\n".join(f"（{chinese_numeral(n)}）标题{n}。" for n in range(1, 13))

    items = split_numbered(cell, what="建议")

    assert [i.number for i in items] == list(range(1, 13))
    assert items[-1].title == "标题12。"


# --- the bad-spreadsheet corpus -----------------------------------------------------------------

XLSX = "工作表「汇总表」"
CSV = "文件「汇总表.csv」"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def _damaged(part: str) -> Callable[[], bytes]:
    """The 2020 workbook with one of its XML parts cut in half."""

    def damaged() -> bytes:
        good = zipfile.ZipFile(io.BytesIO(sheets.xlsx_2020()))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name in good.namelist():
                data = good.read(name)
                if name == part:
                    data = data[: len(data) // 2]
                archive.writestr(name, data)
        return out.getvalue()

    return damaged


def _workbook_without_table() -> bytes:
    workbook = Workbook()
    workbook.active["A1"] = "2021年度荔湾区财政支出项目绩效重点评价汇总表"
    workbook.active["A2"] = "（待填写）"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _two(**second: object) -> list[dict]:
    """Two valid projects, the second (row 5 of the workbook) overridden."""
    return [project(), project(**{"seq": 2, "unit": UNIT_2, **second})]


def _later_row_bad() -> list[dict]:
    rows = projects_2020()
    rows[9]["score"] = "八十四"
    return rows


UNIT_2 = "广州市荔湾区第二测试局"
THREE_PROBLEMS = [
    {"title": "问题一。", "body": "正文一。"},
    {"title": "问题二。", "body": "正文二。"},
    {"title": "问题三。", "body": "正文三。"},
]


@dataclass(frozen=True)
class Case:
    id: str
    file: Callable[[], tuple[str, bytes]]
    issues: list[str]
    year: int | None = None


def _xlsx(rows: Callable[[], list[dict]], **options: object) -> Callable[[], tuple[str, bytes]]:
    return lambda: build("xlsx", rows(), **options)


def _csv(rows: Callable[[], list[dict]], **options: object) -> Callable[[], tuple[str, bytes]]:
    return lambda: build("csv", rows(), **options)


def _raw(name: str, data: Callable[[], bytes]) -> Callable[[], tuple[str, bytes]]:
    return lambda: (name, data())


RATE_MISMATCH = "预算完成率 81.50% 与 完成数÷预算数 = 81.00% 不符（允许误差 0.01 个百分点）"
WITHOUT_SPENT = [c for c in sheets.COLUMNS if c != "完成数"]
WITHOUT_SEQ = [c for c in sheets.COLUMNS if c != "序号"]

BAD_FILES = [
    Case(
        "missing-column",
        _xlsx(lambda: [project()], columns=WITHOUT_SPENT),
        [f"{XLSX}第2行（表头）：缺少必需的列：完成数"],
    ),
    Case(
        "missing-column-csv",
        _csv(lambda: [project()], columns=WITHOUT_SPENT),
        [f"{CSV}第2行（表头）：缺少必需的列：完成数"],
    ),
    Case(
        "missing-seq-column",
        _xlsx(lambda: [project()], columns=WITHOUT_SEQ),
        [f"{XLSX}第2行（表头）：缺少必需的列：序号"],
    ),
    Case(
        "non-numeric-amount",
        _xlsx(lambda: _two(budget="两千万")),
        [f"{XLSX}第5行「预算数」列（E列）：预算数「两千万」不是有效的数字"],
    ),
    Case(
        "non-numeric-amount-csv",
        _csv(lambda: _two(budget="1234.5万")),
        [f"{CSV}第5行「预算数」列（E列）：预算数「1234.5万」不是有效的数字"],
    ),
    Case(
        "negative-amount",
        _xlsx(lambda: _two(spent=Decimal("-5.00"))),
        [f"{XLSX}第5行「完成数」列（F列）：完成数不能为负数"],
    ),
    Case(
        "negative-amount-csv",
        _csv(lambda: _two(spent=Decimal("-5.00"))),
        [f"{CSV}第5行「完成数」列（F列）：完成数不能为负数"],
    ),
    Case(
        "amount-with-three-decimals",
        _xlsx(lambda: _two(budget="1234.505")),
        [f"{XLSX}第5行「预算数」列（E列）：预算数「1234.505」最多保留两位小数"],
    ),
    Case(
        "rate-mismatch",
        _xlsx(lambda: _two(completion_rate=Decimal("81.50"))),
        [f"{XLSX}第5行「预算完成率」列（G列）：{RATE_MISMATCH}"],
    ),
    Case(
        "rate-just-outside-tolerance",
        _xlsx(lambda: _two(completion_rate=Decimal("81.02"))),
        [
            f"{XLSX}第5行「预算完成率」列（G列）："
            "预算完成率 81.02% 与 完成数÷预算数 = 81.00% 不符（允许误差 0.01 个百分点）"
        ],
    ),
    Case(
        "rate-mismatch-csv",
        _csv(lambda: _two(completion_rate=Decimal("81.50"))),
        [f"{CSV}第5行「预算完成率」列（G列）：{RATE_MISMATCH}"],
    ),
    Case(
        "grade-too-low-at-90",
        _xlsx(lambda: _two(score=Decimal("90"), grade="良")),
        [
            f"{XLSX}第5行「等级」列（I列）：等级「良」与分数 90.00 不符，按评分等级应为「优」"
            "（90–100 优，80–90 良，60–80 中，60 以下差）"
        ],
    ),
    Case(
        "grade-too-high-below-90",
        _xlsx(lambda: _two(score=Decimal("89.99"), grade="优")),
        [
            f"{XLSX}第5行「等级」列（I列）：等级「优」与分数 89.99 不符，按评分等级应为「良」"
            "（90–100 优，80–90 良，60–80 中，60 以下差）"
        ],
    ),
    Case(
        "grade-too-low-at-60",
        _xlsx(lambda: _two(score=Decimal("60"), grade="差")),
        [
            f"{XLSX}第5行「等级」列（I列）：等级「差」与分数 60.00 不符，按评分等级应为「中」"
            "（90–100 优，80–90 良，60–80 中，60 以下差）"
        ],
    ),
    Case(
        "grade-unknown",
        _xlsx(lambda: _two(grade="良好")),
        [f"{XLSX}第5行「等级」列（I列）：等级「良好」无效，应为 优、良、中、差 之一"],
    ),
    Case(
        "score-above-100",
        _xlsx(lambda: _two(score=Decimal("100.5"), grade="优")),
        [f"{XLSX}第5行「分数」列（H列）：分数「100.5」应在 0 到 100 之间"],
    ),
    Case(
        "score-negative-csv",
        _csv(lambda: _two(score="-1", grade="差")),
        [f"{CSV}第5行「分数」列（H列）：分数「-1」应在 0 到 100 之间"],
    ),
    Case(
        "broken-numbering",
        _xlsx(lambda: _two(problems="（一）问题一。正文一。\n（三）问题三。正文三。")),
        [f"{XLSX}第5行「问题」列（J列）：问题编号不连续：第2条应为（二），实际为（三）"],
    ),
    Case(
        "broken-numbering-csv",
        _csv(lambda: _two(recommendations="（一）建议一。\n（三）建议三。")),
        [f"{CSV}第5行「建议」列（K列）：建议编号不连续：第2条应为（二），实际为（三）"],
    ),
    Case(
        "unpaired-problem",
        _xlsx(lambda: _two(problems=THREE_PROBLEMS)),
        [f"{XLSX}第5行「建议」列（K列）：问题有 3 条、建议有 2 条，建议应与问题一一对应"],
    ),
    Case(
        "text-before-first-number",
        _xlsx(lambda: _two(problems="主要问题如下：\n（一）问题一。正文一。\n（二）问题二。")),
        [f"{XLSX}第5行「问题」列（J列）：问题在（一）之前有未编号的文字"],
    ),
    Case(
        "not-numbered",
        _xlsx(lambda: _two(recommendations="1. 细化绩效目标。\n2. 加快资金支付。")),
        [f"{XLSX}第5行「建议」列（K列）：建议未按（一）（二）…编号"],
    ),
    Case(
        "empty-unit",
        _xlsx(lambda: _two(unit=None)),
        [f"{XLSX}第5行「单位名称」列（B列）：单位名称不能为空"],
    ),
    Case(
        "empty-amount-csv",
        _csv(lambda: _two(budget=None)),
        [f"{CSV}第5行「预算数」列（E列）：预算数不能为空"],
    ),
    Case(
        "empty-rate",
        _xlsx(lambda: _two(completion_rate=None)),
        [f"{XLSX}第5行「预算完成率」列（G列）：预算完成率不能为空"],
    ),
    Case(
        "empty-problems",
        _xlsx(lambda: _two(problems=None)),
        [f"{XLSX}第5行「问题」列（J列）：问题不能为空"],
    ),
    Case(
        "several-bad-cells-in-one-row",
        _xlsx(lambda: _two(project=None, score="高", grade=None)),
        [
            f"{XLSX}第5行「项目名称」列（C列）：项目名称不能为空",
            f"{XLSX}第5行「分数」列（H列）：分数「高」不是有效的数字",
            f"{XLSX}第5行「等级」列（I列）：等级不能为空",
        ],
    ),
    Case("empty-file", _raw("汇总表.xlsx", lambda: b""), ["文件「汇总表.xlsx」：文件为空"]),
    Case("empty-csv", _raw("汇总表.csv", lambda: b""), ["文件「汇总表.csv」：文件为空"]),
    Case(
        "png-renamed-xlsx",
        _raw("汇总表.xlsx", _png),
        ["文件「汇总表.xlsx」：不是有效的 Excel（.xlsx）文件，无法读取"],
    ),
    Case(
        "text-renamed-xlsx",
        _raw("汇总表.xlsx", lambda: "序号,单位名称,项目名称\n1,荔湾区,项目\n".encode()),
        ["文件「汇总表.xlsx」：不是有效的 Excel（.xlsx）文件，无法读取"],
    ),
    Case(
        "zip-but-not-a-workbook",
        _raw("汇总表.xlsx", _zip_without_workbook),
        ["文件「汇总表.xlsx」：不是有效的 Excel（.xlsx）文件，无法读取"],
    ),
    Case(
        "damaged-sheet",
        _raw("汇总表.xlsx", _damaged("xl/worksheets/sheet1.xml")),
        ["文件「汇总表.xlsx」：不是有效的 Excel（.xlsx）文件，无法读取"],
    ),
    Case(
        "damaged-workbook-part",
        _raw("汇总表.xlsx", _damaged("xl/workbook.xml")),
        ["文件「汇总表.xlsx」：不是有效的 Excel（.xlsx）文件，无法读取"],
    ),
    Case(
        "damaged-styles",
        _raw("汇总表.xlsx", _damaged("xl/styles.xml")),
        ["文件「汇总表.xlsx」：不是有效的 Excel（.xlsx）文件，无法读取"],
    ),
    Case(
        "png-renamed-csv",
        _raw("汇总表.csv", _png),
        ["文件「汇总表.csv」：不是有效的 CSV 文本文件"],
    ),
    Case(
        "workbook-renamed-csv",
        _raw("汇总表.csv", sheets.xlsx_2020),
        ["文件「汇总表.csv」：不是有效的 CSV 文本文件"],
    ),
    Case(
        "utf16-csv",
        _raw("汇总表.csv", lambda: "序号\t单位名称\n".encode("utf-16")),
        ["文件「汇总表.csv」：文件为 UTF-16 编码（Excel 的“Unicode 文本”），请另存为“CSV UTF-8”"],
    ),
    Case(
        "old-xls",
        _raw("汇总表.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
        [
            "文件「汇总表.xls」：不支持的文件类型，请上传 .xlsx、.csv 或 .yaml 文件"
            "（旧版 .xls 请在 Excel 中另存为 .xlsx）"
        ],
    ),
    Case(
        "no-table-in-workbook",
        _raw("汇总表.xlsx", _workbook_without_table),
        ["文件「汇总表.xlsx」：没有找到汇总表：任何工作表中都没有“序号”“单位名称”等表头"],
    ),
    Case(
        "header-but-no-projects",
        _xlsx(lambda: []),
        ["文件「汇总表.xlsx」：表格中没有项目数据行"],
    ),
    Case(
        "duplicate-project",
        _xlsx(lambda: [project(), project(seq=2)]),
        [
            f"{XLSX}第5行「项目名称」列（C列）：项目「测试专项经费项目」（广州市荔湾区测试局）"
            f"与{XLSX}第4行重复"
        ],
    ),
    Case(
        "duplicate-seq",
        _xlsx(lambda: [project(), project(unit=UNIT_2)]),
        [f"{XLSX}第5行「序号」列（A列）：序号 1 与{XLSX}第4行重复"],
    ),
    Case(
        "duplicate-seq-csv",
        _csv(lambda: [project(), project(unit=UNIT_2)]),
        [f"{CSV}第5行「序号」列（A列）：序号 1 与{CSV}第4行重复"],
    ),
    Case(
        "seq-not-a-whole-number",
        _xlsx(lambda: _two(seq="2.5")),
        [f"{XLSX}第5行「序号」列（A列）：序号「2.5」应为正整数"],
    ),
    Case(
        "seq-beyond-any-table",
        _xlsx(lambda: _two(seq="10000000000")),
        [f"{XLSX}第5行「序号」列（A列）：序号「10000000000」超出范围（最大 100000）"],
    ),
    Case(
        "title-too-long",
        _xlsx(lambda: [project()], title="2020年度" + "荔湾区财政支出项目绩效重点评价汇总表" * 12),
        [
            "文件「汇总表.xlsx」：标题超过 200 个字："
            "「2020年度荔湾区财政支出项目绩效重点评价汇总表荔湾区财政支…」"
        ],
    ),
    Case(
        "no-title-no-year",
        _xlsx(lambda: [project()], title=None),
        [
            "文件「汇总表.xlsx」：无法从标题确定评价年度，请指定评价年度（命令行用 --year，后台导入页填写“评价年度”）"
        ],
    ),
    Case(
        "title-without-year-csv",
        _csv(lambda: [project()], title="荔湾区财政支出项目绩效重点评价汇总表"),
        [
            "文件「汇总表.csv」：无法从标题确定评价年度，请指定评价年度（命令行用 --year，后台导入页填写“评价年度”）"
        ],
    ),
    Case(
        "year-differs-from-title",
        _xlsx(lambda: [project()]),
        ["文件「汇总表.xlsx」：文件所属年度为 2020 年，与指定的评价年度 2021 不一致"],
        year=2021,
    ),
    Case(
        "first-nine-rows-fine-tenth-bad",
        _xlsx(_later_row_bad),
        [f"{XLSX}第13行「分数」列（H列）：分数「八十四」不是有效的数字"],
    ),
    Case(
        "first-rows-fine-last-bad-csv",
        _csv(_later_row_bad),
        [f"{CSV}第13行「分数」列（H列）：分数「八十四」不是有效的数字"],
    ),
]


def _row_counts() -> dict[str, int]:
    models = [
        *apps.get_app_config("evaluations").get_models(),
        *apps.get_app_config("rectification").get_models(),
    ]
    # The problem categories are seeded by a migration, not by imports.
    models.remove(FindingCategory)
    return {model._meta.label: model.objects.count() for model in models}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_FILES, ids=[case.id for case in BAD_FILES])
def test_it_rejects_a_bad_file_naming_the_cell_and_writes_nothing(case):
    name, data = case.file()

    table = read_table(name, data, year=case.year)

    assert _issues(table) == case.issues
    with pytest.raises(ImportRejected) as rejected:
        import_evaluation_table(table=table)
    assert [str(issue) for issue in rejected.value.issues] == case.issues
    assert set(_row_counts().values()) == {0}


@dataclass(frozen=True)
class Good:
    id: str
    file: Callable[[], tuple[str, bytes]]
    year: int | None = None


GOOD_FILES = [
    Good("gbk-csv", lambda: ("汇总表.csv", build_csv(projects_2020(), encoding="gbk"))),
    Good("thousands-separators", _xlsx(lambda: [project(budget="1,234.50", spent="1,000.00")])),
    Good("thousands-separators-csv", _csv(lambda: [project()])),  # writes "1,234.50"
    Good("rate-0.01-above", _xlsx(lambda: [project(completion_rate=Decimal("81.01"))])),
    Good("rate-0.01-below", _xlsx(lambda: [project(completion_rate=Decimal("80.99"))])),
    Good("rate-as-text", _xlsx(lambda: [project(completion_rate="81.00%")])),
    Good("score-90-is-excellent", _xlsx(lambda: [project(score=Decimal("90"), grade="优")])),
    Good("score-100-is-excellent", _xlsx(lambda: [project(score=Decimal("100"), grade="优")])),
    Good("score-80-is-good", _xlsx(lambda: [project(score=Decimal("80"), grade="良")])),
    Good("score-60-is-fair", _xlsx(lambda: [project(score=Decimal("60"), grade="中")])),
    Good("score-59.99-is-poor", _xlsx(lambda: [project(score=Decimal("59.99"), grade="差")])),
    Good("score-0-is-poor", _xlsx(lambda: [project(score=Decimal("0"), grade="差")])),
    Good("no-title-with-year", _xlsx(lambda: [project()], title=None), year=2020),
    Good("year-matches-title", _xlsx(lambda: [project()]), year=2020),
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", GOOD_FILES, ids=[case.id for case in GOOD_FILES])
def test_it_imports_a_file_within_the_rules(case):
    name, data = case.file()

    table = read_table(name, data, year=case.year)

    assert _issues(table) == []
    report = import_evaluation_table(table=table)
    assert report.year == 2020
    assert report.items_created == sum(len(p.recommendations) for p in table.projects)


@pytest.mark.parametrize(
    "value",
    ["绩效目标与指标设置", [""], [1], {"name": "监督管理"}],
    ids=["text", "blank", "number", "mapping"],
)
def test_it_names_the_problem_whose_categories_are_not_a_list_of_names(value):
    doc = yaml.safe_load(sheets.FIXTURE_2020.read_text(encoding="utf-8"))
    doc["projects"][0]["problems"][1]["categories"] = value

    table = read_table("liwan_2020.yaml", yaml.safe_dump(doc, allow_unicode=True).encode())

    assert _issues(table) == [
        "文件「liwan_2020.yaml」第1个项目「问题」列（字段 problems）："
        "问题第2条的问题类别（categories）应为类别名称的列表"
    ]


def test_it_reads_categories_of_problems_only_from_yaml():
    table = read_table("liwan_2020.yaml", sheets.FIXTURE_2020.read_bytes())

    first = table.projects[0]
    assert [f.categories for f in first.findings] == [("信息化建设",), ("监督管理",)]
    assert all(r.categories is None for r in first.recommendations)
    assert all(
        f.categories is None
        for record in read_table("汇总表.xlsx", sheets.xlsx_2020()).projects
        for f in record.findings
    )


# --- hostile YAML and values beyond the columns ---------------------------------------------------


def test_it_refuses_a_yaml_alias_bomb_quickly_naming_the_line():
    import time

    from tests import hostile

    # Seven levels (10 million strings) already take the old reader seconds; nine are the
    # 650-byte file that took 33 s and 892 MB. Both must be refused before anything expands.
    for levels in (7, 9):
        data = hostile.yaml_alias_bomb(levels)
        started = time.perf_counter()
        table = read_table("炸弹.yaml", data)
        assert time.perf_counter() - started < 1, levels
        assert _issues(table) == [
            "文件「炸弹.yaml」第2行：不支持 YAML 别名（*a0）：请把引用的内容直接写出"
        ]
    assert len(hostile.yaml_alias_bomb(9)) < 1024


def test_it_refuses_yaml_nested_beyond_any_table_instead_of_overflowing_the_stack():
    table = read_table("汇总表.yaml", b"projects: " + b"[" * 50000)
    assert _issues(table) == ["文件「汇总表.yaml」第1行：YAML 嵌套超过 20 层"]


def test_the_2020_fixture_uses_no_yaml_alias_and_still_imports():
    data = sheets.FIXTURE_2020.read_bytes()
    table = read_table("liwan_2020.yaml", data)
    assert _issues(table) == []
    assert len(table.projects) == 10


@pytest.mark.parametrize("year", [".inf", "-.inf", ".nan", "2021.5", "[2021]", "true"])
def test_it_names_a_yaml_year_that_is_not_a_whole_number(year):
    doc = sheets.FIXTURE_2020.read_text(encoding="utf-8")
    doc = doc.replace("  year: 2020\n", f"  year: {year}\n", 1)
    assert f"  year: {year}\n" in doc

    table = read_table("liwan_2020.yaml", doc.encode())

    assert _issues(table) == ["文件「liwan_2020.yaml」「round.year」列：评价年度应为四位数年份"]


@pytest.mark.django_db
def test_it_refuses_a_project_with_more_problems_than_a_table_can_number():
    # 32,800 problems overflowed Finding.number (a small integer) on PostgreSQL: a server error
    # in the back-office preview instead of a message. The official layout numbers at most
    # （九十九）, so the bound is 99 and 100 is the smallest count refused (a 32,800-item YAML
    # takes the pure-Python parser seconds; the rule is the same).
    doc = yaml.safe_load(sheets.FIXTURE_2020.read_text(encoding="utf-8"))
    first = doc["projects"][0]
    first["problems"] = [{"title": f"问题{n}。"} for n in range(1, 101)]
    first["recommendations"] = [{"title": f"建议{n}。"} for n in range(1, 101)]

    table = read_table("liwan_2020.yaml", yaml.safe_dump(doc, allow_unicode=True).encode())

    assert _issues(table) == [
        "文件「liwan_2020.yaml」第1个项目「问题」列（字段 problems）：问题有 100 条，每个项目最多 99 条",
        "文件「liwan_2020.yaml」第1个项目「建议」列（字段 recommendations）：建议有 100 条，每个项目最多 99 条",
    ]
    with pytest.raises(ImportRejected):
        import_evaluation_table(table=table)
    assert set(_row_counts().values()) == {0}
