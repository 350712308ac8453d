"""calendars.services: provisional years (暂定) computed from the law, counted on, confirmed.

The law (《全国年节及纪念日放假办法》 as amended in 2024): 元旦 1 day, 春节 4 (除夕 to 初三),
清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆节 3. The lunar dates below were checked by hand against a
printed almanac, not taken from the code under test: 2027 春节 (正月初一) is Saturday 6
February, so 除夕 is Friday 5 February; 端午 is 9 June, 中秋 15 September; 清明 falls on
5 April (checked against chinesecalendar's solar terms too).
"""

from __future__ import annotations

import datetime

import chinese_calendar
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendars import sources
from calendars.models import CalendarYear, DayKind, Holiday, YearStatus
from calendars.services import (
    CountedHoliday,
    NoticeDay,
    confirm_year,
    count_working_days,
    ensure_provisional_year,
    notice_changes,
    provisional_changes,
    seed_from_package,
)
from rectification import services
from rectification.choices import ClosureOutcome, ItemStatus
from rectification.models import RectificationItem
from rectification.selectors import ledger
from tests import factories

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))

LAW_2027 = [
    (D(2027, 1, 1), "元旦"),
    (D(2027, 2, 5), "春节"),  # 除夕
    (D(2027, 2, 6), "春节"),  # 初一
    (D(2027, 2, 7), "春节"),
    (D(2027, 2, 8), "春节"),  # 初三
    (D(2027, 4, 5), "清明"),
    (D(2027, 5, 1), "劳动节"),
    (D(2027, 5, 2), "劳动节"),
    (D(2027, 6, 9), "端午"),
    (D(2027, 9, 15), "中秋"),
    (D(2027, 10, 1), "国庆节"),
    (D(2027, 10, 2), "国庆节"),
    (D(2027, 10, 3), "国庆节"),
]


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_it_computes_the_statutory_days_off_of_2027_from_the_law():
    assert sources.statutory_days_off(2027) == LAW_2027


def test_its_qingming_is_the_solar_term():
    for year in (2027, 2028, 2029):
        start, end = D(year, 4, 1), D(year, 4, 10)
        [(qingming, _name)] = [t for t in chinese_calendar.get_solar_terms(start, end)]
        assert (qingming, "清明") in sources.statutory_days_off(year)


def test_a_festival_falling_on_another_is_one_day_with_both_names():
    # 2028: 中秋 (八月十五) is 3 October, a day of 国庆节 already.
    days = dict(sources.statutory_days_off(2028))
    assert days[D(2028, 10, 3)] == "中秋、国庆节"
    assert len(days) == 12


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_is_a_day_off_in_the_notices_of_2025_and_2026(year):
    # The years under the amended law whose notices chinesecalendar carries: each day the law
    # gives must be a day off there, for the same festival.
    for day, name in sources.statutory_days_off(year):
        assert chinese_calendar.is_holiday(day), day
        _on_holiday, festival = chinese_calendar.get_holiday_detail(day)
        chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}
        assert chinese[festival] in name.split("、"), (day, name, festival)


def test_it_refuses_to_apply_the_law_to_a_year_before_it_was_in_force():
    with pytest.raises(ValueError):
        sources.statutory_days_off(2024)


def test_30_working_days_from_today_create_a_provisional_2027_and_say_so():
    assert not CalendarYear.objects.filter(year=2027).exists()

    count = count_working_days(start=D(2026, 12, 3), days=30)

    # Thursday 3 December: 20 working days to 31 December, 1 January (Friday) off, then
    # 4–8 and 11–15 January.
    assert count.date == D(2027, 1, 15)
    assert count.provisional
    assert count.provisional_years == (2027,)
    assert count.provisional_holidays == (CountedHoliday(D(2027, 1, 1), "元旦"),)
    calendar = CalendarYear.objects.get(year=2027)
    assert calendar.status == YearStatus.PROVISIONAL
    assert "全国年节及纪念日放假办法" in calendar.source
    rows = list(calendar.days.values_list("date", "kind", "name"))
    assert rows == [(day, DayKind.HOLIDAY, name) for day, name in LAW_2027]  # no 调休 days


def test_it_lists_only_the_provisional_holidays_that_moved_the_count():
    count = count_working_days(start=D(2026, 12, 3), days=60)

    # 春节: 5 February (Friday) and 8 February (Monday) are skipped; 6 and 7 February are a
    # weekend anyway.
    assert [h.date for h in count.provisional_holidays] == [
        D(2027, 1, 1),
        D(2027, 2, 5),
        D(2027, 2, 8),
    ]
    assert count.date == D(2027, 3, 2)


def test_a_count_on_confirmed_calendars_is_not_provisional():
    count = count_working_days(start=D(2020, 9, 28), days=30)

    assert count.date == D(2020, 11, 16)
    assert not count.provisional
    assert count.provisional_years == ()
    assert count.provisional_holidays == ()


def test_a_count_that_only_starts_in_a_provisional_year_reaches_the_next():
    count = count_working_days(start=D(2027, 12, 20), days=15)

    assert count.provisional_years == (2027, 2028)
    assert CalendarYear.objects.get(year=2028).status == YearStatus.PROVISIONAL


def test_it_is_idempotent():
    first = ensure_provisional_year(year=2027)
    again = ensure_provisional_year(year=2027)
    count_working_days(start=D(2026, 12, 3), days=30)

    assert first is not None and again is not None
    assert first.pk == again.pk
    assert CalendarYear.objects.filter(year=2027).count() == 1
    assert Holiday.objects.filter(date__year=2027).count() == len(LAW_2027)


def test_it_never_touches_a_year_already_in_the_table():
    entered = CalendarYear.objects.create(year=2027, source="国办发明电〔2026〕7号")
    Holiday.objects.create(calendar=entered, date=D(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦")

    assert ensure_provisional_year(year=2027) == entered
    count = count_working_days(start=D(2026, 12, 3), days=30)

    assert not count.provisional
    assert list(entered.days.values_list("date", flat=True)) == [D(2027, 1, 1)]


def test_a_year_too_far_ahead_stays_refused():
    # Today is in 2026: 2029 may be provisional, 2030 may not.
    assert ensure_provisional_year(year=2029) is not None
    assert ensure_provisional_year(year=2030) is None

    with pytest.raises(ValidationError) as refused:
        count_working_days(start=D(2029, 12, 20), days=30)

    assert refused.value.code == "calendar_unknown"
    assert refused.value.params["year"] == 2030


def test_creating_a_provisional_year_takes_a_few_queries():
    with CaptureQueriesContext(connection) as queries:
        count_working_days(start=D(2026, 12, 3), days=250)
    # Years, then per new year (2027): look up, insert the year and its days (in a savepoint);
    # then the holiday windows.
    assert len(queries) <= 12


# --- confirming from the notice ------------------------------------------------------------


def _notice_2027() -> list[NoticeDay]:
    """A 2027 notice as the brief's example has it: 春节 6–13 February off (not 除夕),
    Sunday 14 and Saturday 20 February worked; the other festivals as the law gives them."""
    days = [NoticeDay(d, DayKind.HOLIDAY, n) for d, n in LAW_2027 if n != "春节"]
    days += [NoticeDay(D(2027, 2, d), DayKind.HOLIDAY, "春节") for d in range(6, 14)]
    days += [
        NoticeDay(D(2027, 2, 14), DayKind.WORKDAY, "春节"),
        NoticeDay(D(2027, 2, 20), DayKind.WORKDAY, "春节"),
    ]
    return sorted(days, key=lambda d: d.date)


def test_confirming_replaces_the_provisional_days_and_says_which_dates_changed():
    ensure_provisional_year(year=2027)
    before = count_working_days(start=D(2027, 1, 29), days=10)

    changes = confirm_year(year=2027, days=_notice_2027(), source="国办发明电〔2026〕7号")

    assert changes.was_provisional
    # Counted as working days on the provisional calendar, days off now:
    assert changes.now_off == (D(2027, 2, 9), D(2027, 2, 10), D(2027, 2, 11), D(2027, 2, 12))
    # Days off on the provisional calendar, working now: 除夕 (not in this notice) and the
    # two 调休 weekend days.
    assert changes.now_working == (D(2027, 2, 5), D(2027, 2, 14), D(2027, 2, 20))
    calendar = CalendarYear.objects.get(year=2027)
    assert calendar.status == YearStatus.CONFIRMED
    assert calendar.confirmed_at is not None
    assert calendar.source == "国办发明电〔2026〕7号"
    assert calendar.days.count() == len(_notice_2027())
    # The same count now gives another date, on a confirmed calendar.
    after = count_working_days(start=D(2027, 1, 29), days=10)
    assert before.provisional and not after.provisional
    # From Friday 29 January: provisionally 1–4, 9–12, 15, 16 February (5 and 8 are off);
    # confirmed 1–5 February, the 调休 Sunday 14th, then 15–18 February.
    assert before.date == D(2027, 2, 16)
    assert after.date == D(2027, 2, 18)


def test_the_changes_can_be_asked_again_after_confirming():
    ensure_provisional_year(year=2027)
    reported = confirm_year(year=2027, days=_notice_2027(), source="通知")

    assert provisional_changes(year=2027) == reported


def test_a_year_that_was_never_provisional_has_no_provisional_changes():
    # 2026 comes from chinesecalendar (the notice), with 调休 days the law does not have.
    assert CalendarYear.objects.get(year=2026).provisional_since is None
    assert not provisional_changes(year=2026)
    confirm_year(year=2027, days=_notice_2027(), source="通知")  # entered straight away
    assert not provisional_changes(year=2027)


def test_the_preview_reports_the_same_changes_and_writes_nothing():
    ensure_provisional_year(year=2027)

    previewed = notice_changes(year=2027, days=_notice_2027())

    assert CalendarYear.objects.get(year=2027).status == YearStatus.PROVISIONAL
    assert previewed == confirm_year(year=2027, days=_notice_2027(), source="通知")


def test_a_notice_that_gives_exactly_the_law_changes_nothing():
    ensure_provisional_year(year=2027)
    days = [NoticeDay(d, DayKind.HOLIDAY, n) for d, n in LAW_2027]

    changes = confirm_year(year=2027, days=days, source="通知")

    assert not changes
    assert changes.first is None


def test_entering_a_year_not_in_the_table_reports_no_changes():
    changes = confirm_year(year=2027, days=_notice_2027(), source="通知")

    assert not changes.was_provisional
    assert not changes
    assert CalendarYear.objects.get(year=2027).status == YearStatus.CONFIRMED


def test_a_date_of_the_year_before_goes_into_that_years_calendar():
    ensure_provisional_year(year=2027)
    days = [*_notice_2027(), NoticeDay(D(2026, 12, 31), DayKind.HOLIDAY, "元旦")]

    changes = confirm_year(year=2027, days=days, source="通知")

    row = Holiday.objects.get(date=D(2026, 12, 31))
    assert row.calendar.year == 2026
    assert D(2026, 12, 31) in changes.now_off


def test_a_date_of_a_year_without_a_calendar_is_refused_and_nothing_changes():
    ensure_provisional_year(year=2027)
    days = [*_notice_2027(), NoticeDay(D(2028, 1, 1), DayKind.HOLIDAY, "元旦")]

    with pytest.raises(ValidationError) as refused:
        confirm_year(year=2027, days=days, source="通知")

    assert refused.value.code == "neighbour_unknown"
    assert CalendarYear.objects.get(year=2027).status == YearStatus.PROVISIONAL


def test_a_notice_without_a_holiday_in_its_year_is_refused():
    with pytest.raises(ValidationError) as refused:
        confirm_year(
            year=2027, days=[NoticeDay(D(2027, 2, 14), DayKind.WORKDAY, "春节")], source="通知"
        )
    assert refused.value.code == "no_holidays"
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_package_does_not_replace_a_provisional_year_but_asks_for_confirmation():
    CalendarYear.objects.filter(year=2026).delete()
    ensure_provisional_year(year=2026)

    report = seed_from_package()

    assert report.to_confirm == [2026]
    assert CalendarYear.objects.get(year=2026).status == YearStatus.PROVISIONAL
    assert "2026 年为暂定日历" in report.summary()


# --- which deadlines to re-check ----------------------------------------------------------------


def _assign(item, deadline, *, counted=None):  # type: ignore[no-untyped-def]
    """Assign ``deadline`` as staff do: typed as a date, or counted (``counted``: the count)."""
    actor = services.Actor(user=factories.StaffUserFactory())
    services.assign(item=item, actor=actor, owner=None, deadline=deadline, count=counted)


def _counted(item, *, days):  # type: ignore[no-untyped-def]
    count = count_working_days(start=TODAY.date(), days=days)
    _assign(item, count.date, counted=count)
    return count


def test_the_ledger_lists_the_deadlines_counted_across_dates_the_notice_changed():
    with time_machine.travel(TODAY, tick=False):
        affected = factories.ItemFactory()
        count = _counted(affected, days=60)  # across 春节 2027
        assert count.provisional and count.date > D(2027, 2, 13)
        too_early = factories.ItemFactory()
        _counted(too_early, days=25)  # into 2027, before the first changed date
        typed = factories.ItemFactory()
        _assign(typed, D(2027, 3, 2))  # a date typed by hand: nothing was counted
        closed = factories.ItemFactory()
        _counted(closed, days=60)
        factories.force_update(
            RectificationItem.objects.filter(pk=closed.pk),
            status=ItemStatus.CLOSED,
            closure_outcome=ClosureOutcome.RECTIFIED,
        )
        staff = factories.StaffUserFactory()
        assert (
            ledger(viewer=staff, params={"recheck": 2027}, today=TODAY.date()).counts["total"] == 0
        ), "nothing to re-check while the year is still provisional"
        tentative = (
            RectificationItem.objects.with_tentative_deadline()
            .filter(deadline_tentative=True)
            .order_by("pk")
        )
        assert list(tentative) == [affected, too_early, closed]

        confirm_year(year=2027, days=_notice_2027(), source="通知")

        listed = ledger(viewer=staff, params={"recheck": 2027}, today=TODAY.date())
        assert list(listed.rows) == [affected]
        assert not RectificationItem.objects.with_tentative_deadline().filter(
            deadline_tentative=True
        )
