"""calendars.notice.parse_notice: the dates of a State Council notice, as staff paste them."""

from __future__ import annotations

import datetime

import pytest

from calendars.models import DayKind
from calendars.notice import parse_notice

pytestmark = pytest.mark.django_db
D = datetime.date

# The 2026 notice (国办发明电〔2025〕7号) as published, for a year chinesecalendar also has.
NOTICE_2026 = """一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
七、中秋节：9月25日（周五）至27日（周日）放假，共3天。
"""


def _days(notice):  # type: ignore[no-untyped-def]
    return {d.date: d.kind for d in notice.days}


def test_it_reads_the_2026_notice_exactly_as_chinesecalendar_has_it():
    import chinese_calendar

    notice = parse_notice(NOTICE_2026, year=2026)

    assert notice.errors == []
    assert notice.warnings == []
    expected = {day: DayKind.HOLIDAY for day in chinese_calendar.holidays if day.year == 2026} | {
        day: DayKind.WORKDAY for day in chinese_calendar.workdays if day.year == 2026
    }
    assert _days(notice) == expected


def test_it_reads_the_example_line_of_a_2027_notice():
    notice = parse_notice(
        "春节：2月6日至13日放假调休，共8天。2月14日（星期日）、2月20日（星期六）上班。",
        year=2027,
    )

    assert notice.errors == []
    days = _days(notice)
    assert [d for d, k in days.items() if k == DayKind.HOLIDAY] == [
        D(2027, 2, day) for day in range(6, 14)
    ]
    assert [d for d, k in days.items() if k == DayKind.WORKDAY] == [D(2027, 2, 14), D(2027, 2, 20)]
    assert {d.name for d in notice.days} == {"春节"}
    # The law also gives 除夕 (5 February) off: the preview asks about it.
    assert any("2027-02-05" in w and "春节" in w for w in notice.warnings)


def test_it_reads_one_date_or_range_per_line():
    notice = parse_notice(
        "2027-01-01 元旦\n2027-02-05 至 2027-02-11 春节\n2027-02-20 春节 上班\n", year=2027
    )

    assert notice.errors == []
    days = _days(notice)
    assert days[D(2027, 1, 1)] == DayKind.HOLIDAY
    assert days[D(2027, 2, 11)] == DayKind.HOLIDAY
    assert days[D(2027, 2, 20)] == DayKind.WORKDAY
    assert len(days) == 9


def test_a_range_into_the_new_year_starts_in_the_year_before():
    notice = parse_notice("元旦：12月31日至1月2日放假调休，共3天。", year=2027)

    assert notice.errors == []
    assert sorted(_days(notice)) == [D(2026, 12, 31), D(2027, 1, 1), D(2027, 1, 2)]


def test_it_warns_when_the_stated_total_does_not_match_the_dates():
    notice = parse_notice("国庆节：10月1日至5日放假调休，共7天。", year=2027)

    assert notice.errors == []
    assert any("7" in w and "5" in w for w in notice.warnings)


def test_it_counts_the_adjacent_weekend_in_the_stated_total():
    # 1 January 2027 is a Friday: 与周末连休 makes three days.
    notice = parse_notice("元旦：1月1日（周五）放假，与周末连休，共3天。", year=2027)

    assert notice.errors == []
    assert [w for w in notice.warnings if "元旦" in w] == []


def test_it_warns_about_a_make_up_workday_on_a_weekday():
    notice = parse_notice("春节：2月6日至13日放假。2月15日（星期一）上班。", year=2027)

    assert any("2027-02-15" in w for w in notice.warnings)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2月6日至13日放假", "第1行"),  # no festival
        ("春节：放假调休", "第1行"),  # no date
        ("春节：2月30日放假", "2月30日"),  # no such date
        ("春节：6日至13日放假", "6日"),  # no month
        ("春节：2月6日至2月1日放假", "第1行"),  # backwards
        ("元旦：1月1日放假\n春节：1月1日上班", "第2行"),  # both off and worked
        ("元旦：2030年1月1日放假", "2030"),  # not the notice's year or the one before
    ],
)
def test_it_refuses_what_it_cannot_read_naming_the_line(text, fragment):
    notice = parse_notice(text, year=2027)

    assert notice.errors
    assert fragment in " ".join(notice.errors)
