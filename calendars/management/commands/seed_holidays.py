"""python manage.py seed_holidays — add the years the chinesecalendar package knows.

The data migration seeds the table once; after upgrading the package (it gains next year's
holidays each winter), run this to add the new years. Years already in the table, including
those staff entered by hand, are left alone.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from calendars import sources
from calendars.services import known_years, seed_from_package


class Command(BaseCommand):
    help = "从 chinesecalendar 补充法定节假日与调休上班日（已有年度不变）。"

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        report = seed_from_package()
        self.stdout.write(self.style.SUCCESS(f"{sources.package_source()}：{report.summary()}"))
        years = known_years()
        if years:
            self.stdout.write(f"可计算工作日的年度：{years[0]}–{years[-1]}")
