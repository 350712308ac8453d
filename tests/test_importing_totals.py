"""Reading tables as offices send them: total and subtotal rows (合计 / 小计 / 总计) checked and
left out, and a completion rate typed as a fraction. Every file is a real .xlsx or .csv."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from evaluations.importing import ImportRejected, read_table
from evaluations.models import Project
from rectification.imports import import_evaluation_table
from tests.spreadsheets import build_csv, build_xlsx, project

XLSX = "工作表「汇总表」"
CSV = "文件「汇总表.csv」"


def _three() -> list[dict]:
    """Two projects of one unit and one of another (first data row: 4)."""
    return [
        project(seq=1, unit="荔湾区教育局", project="校园安全项目", budget=Decimal("100.00"),
                spent=Decimal("80.00"), completion_rate=Decimal("80.00"), score=Decimal("75"),
                grade="中"),
        project(seq=2, unit="荔湾区教育局", project="教师培训项目", budget=Decimal("200.50"),
                spent=Decimal("200.50"), completion_rate=Decimal("100.00")),
        project(seq=3, unit="荔湾区卫生健康局", project="社区卫生项目", budget=Decimal("1234.50"),
                spent=Decimal("1000.00"), completion_rate=Decimal("81.00")),
    ]  # fmt: skip


def _issues(table) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(issue) for issue in table.issues]


def _notes(table) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(note) for note in table.notes]


# --- totals -------------------------------------------------------------------------------------


def test_a_total_row_that_matches_is_reported_and_not_imported():
    rows = [*_three(), ["合计", None, None, None, 1535.00, 1280.50]]

    table = read_table("汇总表.xlsx", build_xlsx(rows))

    assert _issues(table) == []
    assert [p.project for p in table.projects] == ["校园安全项目", "教师培训项目", "社区卫生项目"]
    assert _notes(table) == [
        f"{XLSX}第7行：合计行：预算数 1,535.00、完成数 1,280.50 与第4–6行（3 个项目）之和一致；"
        "不作为项目导入"
    ]


@pytest.mark.django_db
def test_a_total_row_that_does_not_match_is_a_located_error_and_nothing_is_written():
    rows = [*_three(), ["合　计", None, None, None, 1535.00, 1208.50]]  # 完成数 mistyped

    table = read_table("汇总表.xlsx", build_xlsx(rows))

    assert _issues(table) == [
        f"{XLSX}第7行「完成数」列（F列）：合计行的完成数 1,208.50 与其合计的第4–6行"
        "（3 个项目）之和 1,280.50 不符（相差 -72.00）"
    ]
    with pytest.raises(ImportRejected):
        import_evaluation_table(table=table)
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_subtotals_per_unit_and_a_grand_total_are_all_checked_and_only_projects_imported():
    first, second, third = _three()
    rows = [
        first,
        second,
        [None, "荔湾区教育局", "小计", None, 300.50, 280.50],
        third,
        ["小计：荔湾区卫生健康局", None, None, None, 1234.50, 1000.00],
        ["总计", None, None, None, 1535.00, 1280.50],
    ]

    table = read_table("汇总表.xlsx", build_xlsx(rows))

    assert _issues(table) == []
    assert _notes(table) == [
        f"{XLSX}第6行：小计行（荔湾区教育局）：预算数 300.50、完成数 280.50 与第4–5行"
        "（2 个项目）之和一致；不作为项目导入",
        f"{XLSX}第8行：小计行：预算数 1,234.50、完成数 1,000.00 与第7行（1 个项目）之和一致；"
        "不作为项目导入",
        f"{XLSX}第9行：总计行：预算数 1,535.00、完成数 1,280.50 与第4–7行（3 个项目）之和一致；"
        "不作为项目导入",
    ]
    report = import_evaluation_table(table=table)
    assert report.changed
    assert sorted(Project.objects.values_list("name", flat=True)) == [
        "教师培训项目",
        "校园安全项目",
        "社区卫生项目",
    ]


def test_a_subtotal_that_does_not_match_its_units_rows_is_an_error():
    first, second, third = _three()
    rows = [first, second, [None, "荔湾区教育局", "小计", None, 300.50, 208.50], third]

    table = read_table("汇总表.xlsx", build_xlsx(rows))

    assert _issues(table) == [
        f"{XLSX}第6行「完成数」列（F列）：小计行的完成数 208.50 与其合计的第4–5行（2 个项目）"
        "之和 280.50 不符（相差 -72.00）"
    ]


def test_a_subtotal_naming_another_unit_than_its_rows_is_an_error():
    first, second, third = _three()
    rows = [first, third, [None, "荔湾区教育局", "小计", None, 1334.50, 1080.00], second]

    table = read_table("汇总表.xlsx", build_xlsx(rows))

    assert _issues(table) == [
        f"{XLSX}第6行「单位名称」列（B列）：小计行注明单位「荔湾区教育局」，但其合计的第4–5行中"
        "有其他单位的项目：荔湾区卫生健康局"
    ]


def test_a_total_row_before_any_project_is_an_error():
    rows = [["合计", None, None, None, 0.0, 0.0], *_three()]

    table = read_table("汇总表.xlsx", build_xlsx(rows))

    assert _issues(table) == [f"{XLSX}第4行：合计行之前没有可合计的项目行"]


def test_a_total_row_without_amounts_is_left_out_unchecked():
    rows = [*_three(), ["合计"]]

    table = read_table("汇总表.xlsx", build_xlsx(rows))

    assert _issues(table) == []
    assert len(table.projects) == 3
    assert _notes(table) == [f"{XLSX}第7行：合计行：未填预算数、完成数，未核对；不作为项目导入"]


def test_a_total_row_in_a_csv_is_read_as_excel_writes_it():
    rows = [*_three(), ["合计", "", "", "", "1,535.00", "1,280.50", "83.42%"]]

    table = read_table("汇总表.csv", build_csv(rows))

    assert _issues(table) == []
    assert len(table.projects) == 3
    assert _notes(table)[0].startswith(f"{CSV}第7行：合计行：预算数 1,535.00")


def test_a_table_of_total_rows_only_has_no_projects():
    table = read_table("汇总表.xlsx", build_xlsx([["合计", None, None, None, 0.0, 0.0]]))

    assert "表格中没有项目数据行" in " ".join(_issues(table))


# --- rates as fractions -------------------------------------------------------------------------


def _with_plain_rate(data: bytes, value: float, cell: str = "G4") -> bytes:
    """The workbook with one rate cell holding a plain number (no percent format)."""
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    sheet[cell].value = value
    sheet[cell].number_format = "General"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rate_project(**overrides) -> dict:  # type: ignore[no-untyped-def]
    values = {"budget": Decimal("1000.00"), "spent": Decimal("957.50")}
    return project(**{**values, "completion_rate": Decimal("95.75"), **overrides})


def test_a_fraction_in_a_cell_without_percent_format_is_read_as_a_fraction_and_said_so():
    data = _with_plain_rate(build_xlsx([_rate_project()]), 0.9575)

    table = read_table("汇总表.xlsx", data)

    assert _issues(table) == []
    assert table.projects[0].completion_rate == Decimal("95.75")
    assert _notes(table) == [
        "文件「汇总表.xlsx」：预算完成率按小数读取（如「0.9575」读作 95.75%），"
        "与 完成数÷预算数 一致：第4行（共 1 行）"
    ]


def test_percentage_points_in_a_plain_cell_are_still_percentage_points():
    data = _with_plain_rate(build_xlsx([_rate_project()]), 95.75)

    table = read_table("汇总表.xlsx", data)

    assert _issues(table) == []
    assert table.projects[0].completion_rate == Decimal("95.75")
    assert _notes(table) == []


def test_a_fraction_typed_into_a_csv_is_read_as_a_fraction():
    table = read_table("汇总表.csv", build_csv([_rate_project(completion_rate="0.9575")]))

    assert _issues(table) == []
    assert table.projects[0].completion_rate == Decimal("95.75")
    assert "读作 95.75%" in _notes(table)[0]


def test_a_plain_number_that_agrees_neither_way_names_both_readings():
    data = _with_plain_rate(build_xlsx([_rate_project()]), 0.5)

    table = read_table("汇总表.xlsx", data)

    assert _issues(table) == [
        f"{XLSX}第4行「预算完成率」列（G列）：预算完成率「0.5」按百分数读作 0.50%、"
        "按小数读作 50.00%，都与 完成数÷预算数 = 95.75% 不符（允许误差 0.01 个百分点）"
    ]


def test_a_percent_formatted_cell_is_never_read_another_way():
    # 0.9575 shown as 0.96% cannot mean 95.75 %: the sheet displays what the office meant.
    data = build_xlsx([_rate_project(completion_rate=Decimal("0.9575"))])

    table = read_table("汇总表.xlsx", data)

    assert _issues(table) == [
        f"{XLSX}第4行「预算完成率」列（G列）：预算完成率 0.96% 与 完成数÷预算数 = 95.75% 不符"
        "（允许误差 0.01 个百分点）"
    ]
