"""seed_holidays, and the seeding that every migrate runs (calendars.apps.seed_calendar)."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from calendars import sources
from calendars.models import CalendarYear, DayKind, Holiday
from evaluations.categories import DEFAULT_CATEGORIES
from evaluations.models import FindingCategory

pytestmark = pytest.mark.django_db


def test_migrate_seeded_every_year_the_package_knows():
    known = sources.package_calendar()
    assert sorted(CalendarYear.objects.values_list("year", flat=True)) == sorted(known)
    national_day = Holiday.objects.get(date=datetime.date(2020, 10, 8))
    assert (national_day.kind, national_day.name) == (DayKind.HOLIDAY, "国庆节")
    make_up = Holiday.objects.get(date=datetime.date(2020, 10, 10))
    assert (make_up.kind, make_up.name) == (DayKind.WORKDAY, "国庆节")
    assert CalendarYear.objects.get(year=2020).source.startswith("chinesecalendar ")


def test_it_adds_a_missing_year_and_leaves_the_others_alone():
    CalendarYear.objects.filter(year=2021).delete()
    corrected = Holiday.objects.get(date=datetime.date(2020, 10, 1))
    corrected.name = "国庆节、中秋节"
    corrected.save()
    out = StringIO()

    call_command("seed_holidays", stdout=out)

    assert CalendarYear.objects.filter(year=2021).exists()
    assert Holiday.objects.filter(calendar__year=2021).count() == len(
        sources.package_calendar()[2021]
    )
    corrected.refresh_from_db()
    assert corrected.name == "国庆节、中秋节"
    assert "新增日历年度 1 个（2021）" in out.getvalue()


def test_it_changes_nothing_when_the_table_is_complete():
    before = Holiday.objects.count()
    out = StringIO()

    call_command("seed_holidays", stdout=out)

    assert Holiday.objects.count() == before
    assert "新增日历年度 0 个" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_its_reference_data_back():
    # The test runner empties the tables after a transactional test (flush, which sends
    # post_migrate without the migration state): the calendar and the categories come back.
    call_command("flush", interactive=False, verbosity=0)

    assert CalendarYear.objects.filter(year=2020).exists()
    assert FindingCategory.objects.count() == len(DEFAULT_CATEGORIES)
