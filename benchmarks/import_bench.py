"""Importing a large summary table: a 5,000-project workbook in the official layout, read and
imported into a year of its own inside a transaction that is rolled back."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from django.db import transaction

from evaluations.importing import read_table
from rectification.imports import import_evaluation_table
from tests.spreadsheets import build_xlsx, project

YEAR = 2099  # far from any real or synthetic round


class _Rollback(Exception):
    pass


def _projects(count: int) -> list[dict[str, Any]]:
    rows = []
    for n in range(1, count + 1):
        rows.append(
            project(
                seq=n,
                unit=f"广州市模拟区第{n % 400 + 1}单位",
                project=f"第{n}号财政支出项目（导入压测）",
                budget=Decimal(1000 + n),
                spent=Decimal(900 + n),
                completion_rate=(Decimal(900 + n) / Decimal(1000 + n) * 100).quantize(
                    Decimal("0.01")
                ),
            )
        )
    return rows


def run(*, projects: int = 5000) -> dict[str, Any]:
    started = time.perf_counter()
    content = build_xlsx(_projects(projects), title=f"{YEAR}年度财政支出项目绩效评价汇总表")
    result: dict[str, Any] = {
        "projects": projects,
        "file_mb": round(len(content) / 1_048_576, 2),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    started = time.perf_counter()
    table = read_table("压测汇总表.xlsx", content)
    result["read_seconds"] = round(time.perf_counter() - started, 1)
    try:
        with transaction.atomic():
            started = time.perf_counter()
            report = import_evaluation_table(table=table)
            result["import_seconds"] = round(time.perf_counter() - started, 1)
            result["items_created"] = report.items_created
            raise _Rollback
    except _Rollback:
        pass
    result["total_seconds"] = round(result["read_seconds"] + result["import_seconds"], 1)
    return result
