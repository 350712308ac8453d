"""calendars.services.add_working_days: 工作日 across Chinese public holidays and 调休 days."""

from __future__ import annotations

import datetime

import chinese_calendar
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from calendars.models import CalendarYear, DayKind, Holiday
from calendars.services import MAX_WORKING_DAYS, add_working_days

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # National Day 2020: 1–8 October off; Sunday 27 September and Saturday 10 October worked.
        (D(2020, 9, 25), 1, D(2020, 9, 27)),  # Friday → the make-up Sunday
        (D(2020, 9, 30), 1, D(2020, 10, 9)),  # over the eight days off
        (D(2020, 9, 30), 2, D(2020, 10, 10)),  # the 调休 Saturday counts
        (D(2020, 9, 30), 3, D(2020, 10, 12)),  # the Sunday after it does not
        # Spring Festival 2021: 11–17 February off; Sunday 7 and Saturday 20 February worked.
        (D(2021, 2, 5), 1, D(2021, 2, 7)),
        (D(2021, 2, 10), 1, D(2021, 2, 18)),
        (D(2021, 2, 10), 3, D(2021, 2, 20)),
        (D(2021, 2, 10), 4, D(2021, 2, 22)),
        # An ordinary week: Friday + 1 is Monday.
        (D(2020, 11, 20), 1, D(2020, 11, 23)),
    ],
)
def test_it_counts_working_days_across_holidays_and_make_up_days(start, days, expected):
    assert add_working_days(start=start, days=days) == expected


def test_it_gives_30_working_days_from_the_monday_before_national_day_2020():
    # By hand: 29, 30 Sep (2); 9, 10 Oct (4); then five-day weeks from 12 Oct: 12–16 (9),
    # 19–23 (14), 26–30 (19), 2–6 Nov (24), 9–13 (29); Monday 16 November is the 30th.
    assert add_working_days(start=D(2020, 9, 28), days=30) == D(2020, 11, 16)


def test_it_agrees_with_the_chinesecalendar_package_on_the_days_it_seeded():
    start = D(2019, 1, 1)
    while start < D(2024, 12, 1):
        for days in (1, 7, 30):
            # The package counts from the first working day on or after the start; we count
            # the days after the start, so from a day off our 1st is its 0th.
            offset = 0 if chinese_calendar.is_workday(start) else 1
            expected = chinese_calendar.find_workday(days - offset, start)
            assert add_working_days(start=start, days=days) == expected, (start, days)
        start += datetime.timedelta(days=5)


def test_it_refuses_to_count_into_a_year_too_far_ahead_to_be_provisional():
    # 2099 has no calendar and is far beyond the years the law may stand in for.
    with pytest.raises(ValidationError) as refused:
        add_working_days(start=D(2098, 12, 20), days=30)

    assert refused.value.code == "calendar_unknown"
    message = refused.value.messages[0]
    assert "2098年" in message
    assert "后台" in message
    assert not CalendarYear.objects.filter(year__gte=2098).exists()


def test_it_counts_into_a_year_once_staff_have_entered_it():
    last = CalendarYear.objects.aggregate(Max("year"))["year__max"]
    year = last + 1
    calendar = CalendarYear.objects.create(year=year, source="国务院办公厅通知")
    # New Year's Day off, whatever weekday it is, and a Saturday of the second week worked.
    Holiday.objects.create(calendar=calendar, date=D(year, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    saturday = D(year, 1, 1) + datetime.timedelta(days=(5 - D(year, 1, 1).weekday()) % 7 + 7)
    Holiday.objects.create(calendar=calendar, date=saturday, kind=DayKind.WORKDAY, name="元旦")

    deadline = add_working_days(start=D(last, 12, 31), days=10)

    expected, counted, day = None, 0, D(last, 12, 31)
    while counted < 10:
        day += datetime.timedelta(days=1)
        if day == saturday or (day.weekday() < 5 and day != D(year, 1, 1)):
            counted += 1
            expected = day
    assert deadline == expected


def test_it_refuses_when_the_start_lies_in_a_year_without_a_calendar():
    with pytest.raises(ValidationError) as refused:
        add_working_days(start=D(2003, 6, 2), days=3)
    assert refused.value.code == "calendar_unknown"


@pytest.mark.parametrize("days", [0, -1, MAX_WORKING_DAYS + 1])
def test_it_refuses_a_number_of_days_out_of_range(days):
    with pytest.raises(ValidationError) as refused:
        add_working_days(start=D(2020, 9, 28), days=days)
    assert refused.value.code == "days"


def test_it_reads_the_calendar_in_a_few_queries():
    with CaptureQueriesContext(connection) as queries:
        add_working_days(start=D(2020, 9, 28), days=250)
    assert len(queries) <= 4
