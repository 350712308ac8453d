"""Working-day arithmetic (工作日) over the holiday table, and seeding that table.

A working day is Monday to Friday unless the table lists it as a holiday, or a Saturday or
Sunday that the table lists as a make-up workday (调休上班). Every year the counting passes
through must have a ``CalendarYear``; otherwise the answer would silently ignore that year's
holidays, so the computation is refused with a message saying which year is missing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from calendars import sources
from calendars.models import CalendarYear, DayKind, Holiday

# A deadline is months away, not years; the bound also keeps a typo from looping for long.
MAX_WORKING_DAYS = 750


def add_working_days(*, start: datetime.date, days: int) -> datetime.date:
    """The date ``days`` working days after ``start``; ``start`` itself is not counted.

    "30 个工作日 from Monday 2020-09-28" is the 30th working day after that Monday. Raises a
    ``ValidationError`` (code ``calendar_unknown``) when the count reaches a year without a
    calendar, and (code ``days``) for a number of days outside 1…MAX_WORKING_DAYS.
    """
    if not 1 <= days <= MAX_WORKING_DAYS:
        raise ValidationError(
            _("The number of working days must be between 1 and %(max)d."),
            code="days",
            params={"max": MAX_WORKING_DAYS},
        )
    known = set(CalendarYear.objects.values_list("year", flat=True))
    special: dict[datetime.date, str] = {}
    loaded_until = start
    day, remaining = start, days
    while remaining:
        day += datetime.timedelta(days=1)
        if day.year not in known:
            raise ValidationError(
                _(
                    "The working-day calendar of %(year)s is not known yet, so %(days)s working "
                    "days from %(start)s cannot be counted. Evaluation staff can add that year's "
                    "holidays and make-up workdays in the back-office (Working-day calendar); "
                    "until then, enter the deadline as a date."
                ),
                code="calendar_unknown",
                # The year is data too: the form offers a link to enter that year's calendar.
                params={"year": day.year, "days": days, "start": start.isoformat()},
            )
        if day > loaded_until:
            # One query per window; a window covers the rest of the count with room for the
            # longest holidays (eight days off around 国庆节), so one or two queries suffice.
            loaded_until = day + datetime.timedelta(days=remaining * 2 + 30)
            special.update(
                Holiday.objects.filter(date__range=(day, loaded_until)).values_list("date", "kind")
            )
        if _is_working_day(day, special):
            remaining -= 1
    return day


def _is_working_day(day: datetime.date, special: dict[datetime.date, str]) -> bool:
    kind = special.get(day)
    if kind == DayKind.WORKDAY:
        return True
    if kind == DayKind.HOLIDAY:
        return False
    return day.weekday() < 5


def known_years() -> list[int]:
    return sorted(CalendarYear.objects.values_list("year", flat=True))


@dataclass
class SeedReport:
    added: list[int] = field(default_factory=list)  # years written from the package
    kept: list[int] = field(default_factory=list)  # years already in the table, left alone

    def summary(self) -> str:
        # Management commands speak Chinese only, like the importer.
        added = "、".join(str(y) for y in self.added) or "无"
        return (
            f"新增日历年度 {len(self.added)} 个（{added}）；"
            f"已有的 {len(self.kept)} 个年度保持不变。"
        )


@transaction.atomic
def seed_from_package() -> SeedReport:
    """Add every year the chinesecalendar package knows and the table does not.

    Years already in the table are never touched: staff may have corrected them, and a year
    they entered by hand before the package caught up stays theirs.
    """
    report = SeedReport()
    existing = set(CalendarYear.objects.values_list("year", flat=True))
    source = sources.package_source()
    for year, rows in sources.package_calendar().items():
        if year in existing:
            report.kept.append(year)
            continue
        calendar = CalendarYear.objects.create(year=year, source=source)
        Holiday.objects.bulk_create(
            Holiday(calendar=calendar, date=day, kind=kind, name=name) for day, kind, name in rows
        )
        report.added.append(year)
    return report
