"""python manage.py send_reminders [--dry-run] [--today YYYY-MM-DD]

One sweep, the same code the beat task runs: plan the reminders due today, then send each
person their digest. ``--dry-run`` prints who would get what and changes nothing.
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandParser

from liwan.commands import iso_date
from reminders import services


class Command(BaseCommand):
    help = "按提醒规则生成并发送整改提醒邮件（每人每天一封汇总邮件）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只显示将发送给谁、什么内容")
        parser.add_argument("--today", help="按该日期（YYYY-MM-DD）计算提醒，默认今天")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        today = iso_date(options["today"]) if options["today"] else None
        if options["dry_run"]:
            self._preview(today)
            return
        result = services.sweep(today=today)
        d = result.delivery
        self.stdout.write(
            self.style.SUCCESS(
                f"新增提醒 {result.planned} 条；发送邮件 {d.emails} 封（含提醒 {d.sent} 条），"
                f"待重试 {d.retrying} 条，失败 {d.failed} 条，未发送 {d.skipped} 条。"
            )
        )

    def _preview(self, today: datetime.date | None) -> None:
        previews = services.preview(today=today)
        sending = [p for p in previews if p.lines]
        self.stdout.write(f"【演练】将发送邮件 {len(sending)} 封，未发送任何邮件，未修改任何数据。")
        for p in previews:
            self.stdout.write(f"{p.name} <{p.email or '未填写邮箱'}>：{len(p.lines)} 项")
            for line in p.lines:
                self.stdout.write(f"  {line}")
            for reason, count in p.skipped.items():
                self.stdout.write(f"  （{count} 条不发送：{reason}）")
