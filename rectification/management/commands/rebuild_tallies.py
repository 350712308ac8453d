"""python manage.py rebuild_tallies [--check]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rectification import tallies


class Command(BaseCommand):
    help = (
        "重新统计各年度、各单位、各状态的整改事项数（台账计数所用）。"
        "数据绕过系统写入后（如直接执行 SQL）运行；--check 只核对不修改。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="只核对计数与事项是否一致，不一致时返回非零"
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if options["check"]:
            drift = tallies.drift()
            if drift:
                lines = [
                    f"{year} 年 单位#{unit} {status}：计数 {kept}，实有 {counted}"
                    for (year, unit, status), (kept, counted) in sorted(drift.items())[:20]
                ]
                raise CommandError(
                    f"{len(drift)} 处计数与事项不符（运行 rebuild_tallies 重新统计）：\n"
                    + "\n".join(lines)
                )
            self.stdout.write("计数与事项一致。")
            return
        rows = tallies.rebuild()
        self.stdout.write(f"已重新统计：{rows} 行。")
