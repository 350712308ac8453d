"""python manage.py export_ledger --format {xlsx,csv} --output PATH [--year Y] [--unit NAME]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.models import Unit
from liwan import clock
from rectification import exports, selectors


class Command(BaseCommand):
    help = "导出整改台账（每个整改事项一行）为 Excel 或 CSV。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["xlsx", "csv"], required=True, help="导出格式")
        parser.add_argument("--output", required=True, help="输出文件路径")
        parser.add_argument("--year", type=int, help="只导出该评价年度")
        parser.add_argument("--unit", help="只导出该责任单位（单位全称）")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        params: dict[str, object] = {}
        if options["year"] is not None:
            params["year"] = options["year"]
        if options["unit"]:
            unit = Unit.objects.filter(name=options["unit"]).first()
            if unit is None:
                raise CommandError(f"没有名为「{options['unit']}」的单位")
            params["unit"] = unit.pk
        # The ledger list's own filters, over the whole ledger (an operator on the server).
        ledger = selectors.ledger(viewer=None, params=params, today=clock.today())
        if not ledger.valid:
            errors = "；".join(
                f"{name}：{' '.join(e)}" for name, e in ledger.filterset.errors.items()
            )
            raise CommandError(f"筛选条件无效：{errors}")
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"输出目录不存在：{output.parent}")
        rows = exports.iterate(ledger.rows)
        if options["format"] == "csv":
            with output.open("w", encoding="utf-8", newline="") as out:
                count = exports.write_csv(rows, out)
        else:
            with output.open("wb") as out:
                count = exports.write_xlsx(rows, out)
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 项整改事项到 {output}"))
