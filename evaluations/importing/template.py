"""The import template (导入模板.xlsx): the official layout exactly as ``read_table`` reads it.

A title row with the year, the two-row header with its merged group cells, one example row that
imports as it is, and a second sheet of notes (the importer reads the first sheet that has the
header, so the notes never reach it). ``tests/test_import_template.py`` reads the generated
file back with the real importer.
"""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from evaluations.importing.table import FIXTURE_KEYS

FILENAME = "导入模板.xlsx"
SHEET = "汇总表"
# Leaf columns in the order of the printed table (the importer finds them by name).
COLUMNS = tuple(FIXTURE_KEYS)
# Column → (merged group above it, width in characters).
LAYOUT: dict[str, tuple[str | None, float]] = {
    "序号": (None, 6),
    "单位名称": (None, 22),
    "项目名称": (None, 24),
    "绩效目标": (None, 36),
    "预算数": ("资金使用情况（单位：万元）", 12),
    "完成数": ("资金使用情况（单位：万元）", 12),
    "预算完成率": ("资金使用情况（单位：万元）", 11),
    "分数": ("第三方评价", 8),
    "等级": ("第三方评价", 8),
    "问题": ("问题及建议", 50),
    "建议": ("问题及建议", 50),
}
EXAMPLE = {
    "序号": 1,
    "单位名称": "广州市荔湾区示例局",
    "项目名称": "示例专项经费项目（导入前请替换本行）",
    "绩效目标": "通过实施本项目，提升公共服务水平，群众满意度达到90%以上。",
    "预算数": Decimal("1234.50"),
    "完成数": Decimal("1182.03"),
    "预算完成率": Decimal("95.75"),
    "分数": Decimal("85.50"),
    "等级": "良",
    "问题": "（一）绩效目标设置不够细化。\n一是产出指标不全面；二是指标值偏低。\n"
    "（二）资金支付进度偏慢。\n年末集中支付，预算执行不均衡。",
    "建议": "（一）细化绩效目标。\n一是完善产出指标；二是合理设定指标值。\n"
    "（二）加快资金支付进度。\n按季度制定支付计划并跟踪执行。",
}
NOTES = (
    "填写说明",
    "1. 第1行为标题，须含评价年度（如“2026年度”），导入时据此确定年度；"
    "标题中没有年度时，导入时须另行指定。",
    "2. 第2、3行为表头（含合并单元格），请勿修改、删除或调换；"
    "可在最右侧增加“备注”等列，导入时忽略。",
    "3. 每个项目一行，从第4行起填写；第4行是示例，请替换为实际数据（或删除）。",
    "4. 序号为正整数，不得重复；单位名称请填全称，与系统中的单位名称一致。",
    "5. 预算数、完成数以万元为单位，最多两位小数。",
    "6. 预算完成率 = 完成数 ÷ 预算数，可填百分数（95.75%）或小数（0.9575），须与金额一致"
    "（允许误差 0.01 个百分点）。",
    "7. 分数为 0–100；等级按分数：90–100 优，80–90 良，60–80 中，60 以下差。",
    "8. 问题、建议：每条以（一）（二）…编号，第一句（到第一个“。”）为标题；建议与问题一一对应。",
    "9. 可以保留“合计”“小计”“总计”行：导入时核对其预算数、完成数，不作为项目导入。",
    "10. 导入前会先检查整个文件并显示预览；有任何错误时不会导入任何数据。",
)
_AMOUNT, _RATE, _SCORE = "#,##0.00", "0.00%", "0.00"


def template_workbook(*, year: int) -> bytes:
    """The template as .xlsx bytes, titled for ``year``."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    width = len(COLUMNS)
    sheet.cell(row=1, column=1, value=f"{year}年度荔湾区财政支出项目绩效评价汇总表")
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)
    index = 0
    while index < width:
        name = COLUMNS[index]
        group, _width = LAYOUT[name]
        if group is None:
            sheet.cell(row=2, column=index + 1, value=name)
            sheet.merge_cells(start_row=2, start_column=index + 1, end_row=3, end_column=index + 1)
            index += 1
            continue
        end = index
        while end + 1 < width and LAYOUT[COLUMNS[end + 1]][0] == group:
            end += 1
        sheet.cell(row=2, column=index + 1, value=group)
        sheet.merge_cells(start_row=2, start_column=index + 1, end_row=2, end_column=end + 1)
        for column in range(index, end + 1):
            sheet.cell(row=3, column=column + 1, value=COLUMNS[column])
        index = end + 1
    for row in (2, 3):
        for column in range(1, width + 1):
            cell = sheet.cell(row=row, column=column)
            cell.font, cell.fill, cell.alignment = bold, fill, centred
    top = Alignment(vertical="top", wrap_text=True)
    for column, name in enumerate(COLUMNS, start=1):
        value = EXAMPLE[name]
        if name == "预算完成率":
            value = float(value / 100)
        elif isinstance(value, Decimal):
            value = float(value)
        cell = sheet.cell(row=4, column=column, value=value)
        cell.alignment = top
        cell.number_format = {"预算数": _AMOUNT, "完成数": _AMOUNT, "预算完成率": _RATE}.get(
            name, _SCORE if name == "分数" else "General"
        )
        sheet.column_dimensions[cell.column_letter].width = LAYOUT[name][1]
    sheet.freeze_panes = "A4"
    notes = workbook.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 110
    for row, line in enumerate(NOTES, start=1):
        cell = notes.cell(row=row, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if row == 1:
            cell.font = bold
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
