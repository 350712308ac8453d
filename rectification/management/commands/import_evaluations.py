"""python manage.py import_evaluations PATH [--year 2020] [--dry-run] [--deadline YYYY-MM-DD]"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.importing import ImportRejected, read_table
from liwan.commands import iso_date
from rectification.imports import import_evaluation_table


class Command(BaseCommand):
    help = "导入年度绩效评价汇总表（.yaml 转录文件，或官方表样的 .xlsx / .csv）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="汇总表文件路径")
        parser.add_argument("--year", type=int, help="评价年度（文件标题中没有年度时必填）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
        parser.add_argument("--deadline", type=iso_date, help="新建整改事项的整改时限 YYYY-MM-DD")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        if path.stat().st_size > settings.LIWAN_IMPORT_MAX_BYTES:
            raise CommandError(
                f"文件超过 {settings.LIWAN_IMPORT_MAX_BYTES // (1024 * 1024)} MB，拒绝导入"
            )
        table = read_table(path.name, path.read_bytes(), year=options["year"])
        try:
            report = import_evaluation_table(
                table=table, deadline=options["deadline"], dry_run=options["dry_run"]
            )
        except ImportRejected as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(f"文件有 {len(exc.issues)} 处错误，未导入任何数据。") from exc
        for note in table.notes:
            self.stdout.write(f"说明：{note}")
        for where, unit, project, action, details in report.lines:
            suffix = f"（{details}）" if details else ""
            self.stdout.write(f"{action}：{unit} · {project}{suffix}  [{where}]")
        for unit, problem, earlier, year in report.likely_repeats:
            self.stdout.write(f"可能屡审屡犯：{unit} · {problem}  ← {year}年度：{earlier}")
        prefix = "[试运行，未写入] " if report.dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + report.summary()))
        if not report.changed:
            self.stdout.write("数据与系统中一致，没有变化。")
