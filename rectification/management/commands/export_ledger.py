"""python manage.py export_ledger --format {xlsx,csv} --output PATH [--year Y] [--unit NAME]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.models import Unit
from rectification import exports
from rectification.models import RectificationItem
from rectification.selectors import filter_ledger, ledger_rows


class Command(BaseCommand):
    help = "导出整改台账（每个整改事项一行）为 Excel 或 CSV。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["xlsx", "csv"], required=True, help="导出格式")
        parser.add_argument("--output", required=True, help="输出文件路径")
        parser.add_argument("--year", type=int, help="只导出该评价年度")
        parser.add_argument("--unit", help="只导出该责任单位（单位全称）")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        unit = options["unit"]
        if unit and not Unit.objects.filter(name=unit).exists():
            raise CommandError(f"没有名为「{unit}」的单位")
        items = ledger_rows(
            filter_ledger(RectificationItem.objects.all(), year=options["year"], unit=unit)
        )
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"输出目录不存在：{output.parent}")
        rows = exports.iterate(items)
        if options["format"] == "csv":
            with output.open("w", encoding="utf-8", newline="") as out:
                count = exports.write_csv(rows, out)
        else:
            with output.open("wb") as out:
                count = exports.write_xlsx(rows, out)
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 项整改事项到 {output}"))
