"""python manage.py seed_scale --units 500 --items 200000 [--years 5] — benchmark data.

Synthetic units, accounts, rounds and a ledger with its history (devdata/scale.py), for
``make bench`` and for trying the pages at city or province scale. Adds years before the
current one that hold no round yet; refuses to touch a year that has one, and refuses to run
with DEBUG off, so it can never mix invented rows into a production ledger.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from devdata.scale import SCALE_PASSWORD, SCALE_STAFF_USERNAME, ScaleSeeder
from evaluations.models import EvaluationRound
from liwan import clock


class Command(BaseCommand):
    help = "Generate synthetic units and ledger items at city or province scale (benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--units", type=int, default=500)
        parser.add_argument("--items", type=int, default=200_000)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument(
            "--last-year",
            type=int,
            default=None,
            help="the newest evaluation year (default: last year)",
        )
        parser.add_argument("--seed", type=int, default=2020, help="random seed (reproducible)")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if not settings.DEBUG:
            raise CommandError("seed_scale 只用于测试与压测环境；DEBUG 关闭时拒绝运行。")
        last_year = options["last_year"] or clock.today().year - 1
        years = list(range(last_year - options["years"] + 1, last_year + 1))
        taken = sorted(
            EvaluationRound.objects.filter(year__in=years).values_list("year", flat=True)
        )
        if taken:
            raise CommandError(
                f"数据库中已有 {', '.join(map(str, taken))} 年度的评价数据；"
                "seed_scale 只写入空年度，"
                "请换一个空数据库或用 --last-year 指定其他年度。"
            )
        if User.objects.filter(username=SCALE_STAFF_USERNAME).exists():
            raise CommandError("数据库中已有 seed_scale 生成的数据；请换一个空数据库。")
        try:
            seeder = ScaleSeeder(
                units=options["units"],
                items=options["items"],
                years=options["years"],
                last_year=last_year,
                seed=options["seed"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        started = time.perf_counter()
        report = seeder.run()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"已生成 {report.units} 个单位、{report.users} 个账号、{report.rounds} 个年度、"
            f"{report.projects} 个项目、{report.items} 条整改事项"
            f"（{', '.join(f'{k} {v}' for k, v in report.by_status.items())}），"
            f"{report.progress} 条进展、{report.evidence} 份佐证材料、"
            f"{report.extensions} 条延期申请、"
            f"{report.events} 条操作记录，用时 {elapsed:.1f} 秒。"
        )
        self.stdout.write(
            f"评价管理员账号 {SCALE_STAFF_USERNAME}，单位账号 scale0001.staff 等，"
            f"密码 {SCALE_PASSWORD}。"
        )
