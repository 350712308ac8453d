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


# --- the law, for years without a State Council notice yet ----------------------------------

# 《全国年节及纪念日放假办法》 as amended on 2024-11-10 (国务院令第795号), in force since
# 2025-01-01: the days off of each festival. Earlier versions of the law gave other days (three
# for 春节, one for 劳动节, none for 除夕), so a year before this one is never computed.
STATUTORY_DAYS_SINCE = 2025
STATUTORY_DAYS = {
    "元旦": 1,
    "春节": 4,  # 农历除夕, 正月初一、初二、初三
    "清明": 1,
    "劳动节": 2,  # 5月1日、2日
    "端午": 1,
    "中秋": 1,
    "国庆节": 3,  # 10月1日、2日、3日
}
# The holidays package's Chinese names (zh_CN) → the names chinesecalendar uses in our table.
_HOLIDAYS_NAMES = {
    "元旦": "元旦",
    "农历除夕": "春节",
    "春节": "春节",
    "清明节": "清明",
    "劳动节": "劳动节",
    "端午节": "端午",
    "中秋节": "中秋",
    "国庆节": "国庆节",
}


class StatutoryDaysError(RuntimeError):
    """The holidays package gave something other than what the law says (a new version that
    models the law differently): refuse rather than store a wrong calendar."""


def statutory_days_off(year: int) -> list[tuple[datetime.date, str]]:
    """The statutory days off of ``year`` under the law in force, as (date, Chinese name).

    Lunar festivals (春节, 端午, 中秋) and 清明 (a solar term) come from the ``holidays``
    package, which computes them; we ask it for the law's days only: no "observed" days (补假)
    and none of a State Council notice's rearranged days (调休), which only the notice fixes.
    A date that carries two festivals (中秋 on a 国庆 day) is one row with both names.
    """
    if year < STATUTORY_DAYS_SINCE:
        raise ValueError(f"the law in force applies from {STATUTORY_DAYS_SINCE}, not {year}")
    import holidays
    from holidays.constants import PUBLIC

    calendar = holidays.China(years=year, observed=False, language="zh_CN", categories=(PUBLIC,))
    counted: dict[str, int] = dict.fromkeys(STATUTORY_DAYS, 0)
    rows: list[tuple[datetime.date, str]] = []
    for day in sorted(calendar):
        festivals = [_HOLIDAYS_NAMES[n] for n in calendar.get_list(day) if n in _HOLIDAYS_NAMES]
        festivals = list(dict.fromkeys(festivals))
        if not festivals:
            continue  # a special day off of a past notice (e.g. 2015's 9月3日); not the law's
        for festival in festivals:
            counted[festival] += 1
        rows.append((day, "、".join(festivals)))
    if counted != STATUTORY_DAYS:
        raise StatutoryDaysError(
            f"holidays {holidays.__version__} gives {counted} for {year}, the law {STATUTORY_DAYS}"
        )
    return rows


def statutory_source() -> str:
    import holidays

    return f"《全国年节及纪念日放假办法》（暂定，holidays {holidays.__version__} 计算农历日期）"
