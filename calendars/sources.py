"""What the chinesecalendar package knows, as plain data.

No models here: the data migration that seeds the table imports this module, and a migration
must not depend on the current state of the models.
"""

from __future__ import annotations

import datetime

# The values of calendars.models.DayKind, repeated so the migration stays independent of it.
HOLIDAY = "holiday"
WORKDAY = "workday"


def package_source() -> str:
    import chinese_calendar

    return f"chinesecalendar {chinese_calendar.__version__}"


def package_calendar() -> dict[int, list[tuple[datetime.date, str, str]]]:
    """Year → its (date, kind, Chinese name) rows, for every year the package covers.

    The package lists every day off of a holiday period (weekend days included) and every
    make-up workday, each with the festival it belongs to.
    """
    from chinese_calendar.constants import Holiday, holidays, workdays

    chinese = {festival.value: festival.chinese for festival in Holiday}
    years: dict[int, list[tuple[datetime.date, str, str]]] = {}
    for kind, days in ((HOLIDAY, holidays), (WORKDAY, workdays)):
        for day, festival in days.items():
            years.setdefault(day.year, []).append((day, kind, chinese.get(festival, festival)))
    return {year: sorted(rows) for year, rows in sorted(years.items())}
