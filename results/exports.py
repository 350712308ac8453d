"""The budget sheet as a workbook for budget preparation: one row per project result, the same
writer as the ledger export (``rectification.exports.write_sheet``)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Any

from django.utils import translation
from django.utils.timezone import localdate

from rectification.exports import EXPORT_LANGUAGE, Column, Kind, write_sheet
from results.selectors import BudgetRow, BudgetSheet


def _decided(row: BudgetRow, _: int) -> str:
    if row.decision is None:
        return ""
    return f"{row.decision.decided_by.display_name} {localdate(row.decision.decided_at):%Y-%m-%d}"


BUDGET_COLUMNS: tuple[Column, ...] = (
    Column("序号", 6, Kind.INTEGER, lambda row, n: n),
    Column("主管部门", 22, Kind.TEXT, lambda row, n: row.result.project.unit.name),
    Column("项目名称", 30, Kind.LONG_TEXT, lambda row, n: row.result.project.name),
    Column("预算金额（万元）", 14, Kind.AMOUNT, lambda row, n: row.result.budget),
    Column("实际支出（万元）", 14, Kind.AMOUNT, lambda row, n: row.result.spent),
    Column("评价得分", 10, Kind.SCORE, lambda row, n: row.result.score),
    Column("评价等级", 8, Kind.TEXT, lambda row, n: row.result.grade),
    Column("问题数", 8, Kind.INTEGER, lambda row, n: row.items),
    Column("已销号", 8, Kind.INTEGER, lambda row, n: row.closed),
    Column("逾期未销号", 10, Kind.INTEGER, lambda row, n: row.overdue),
    Column("整改情况", 14, Kind.TEXT, lambda row, n: str(row.state.label)),
    Column("规则建议", 14, Kind.TEXT, lambda row, n: str(row.proposed.label)),
    Column("预算安排意见", 14, Kind.TEXT, lambda row, n: str(row.advice.label)),
    Column(
        "调整理由",
        36,
        Kind.LONG_TEXT,
        lambda row, n: row.decision.reason if row.decision else "",
    ),
    Column("调整人及日期", 20, Kind.TEXT, _decided),
)


def budget_xlsx(sheet: BudgetSheet) -> IO[bytes]:
    """The workbook in a temporary file (deleted on close), rewound for streaming."""

    def rows() -> Iterator[list[Any]]:
        for number, row in enumerate(sheet.rows, start=1):
            # An official Chinese document whatever language the page is in.
            with translation.override(EXPORT_LANGUAGE):
                yield [column.value(row, number) for column in BUDGET_COLUMNS]

    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    write_sheet(spool, title="预算挂钩意见", columns=BUDGET_COLUMNS, rows=rows())
    spool.seek(0)
    return spool
