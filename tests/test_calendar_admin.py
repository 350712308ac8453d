"""The working-day calendar in the back-office: staff add a year the package does not know."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from calendars.models import CalendarYear, Holiday
from calendars.services import add_working_days
from tests import factories

pytestmark = pytest.mark.django_db
ADD = reverse("admin:calendars_calendaryear_add")
YEAR = 2099  # beyond any calendar the package will know for a long time


def _form(year: int, days: list[tuple[str, str, str]]) -> dict[str, str]:
    data = {
        "year": str(year),
        "source": "国办发明电〔2098〕7号",
        "days-TOTAL_FORMS": str(len(days)),
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
    }
    for index, (date, kind, name) in enumerate(days):
        data |= {f"days-{index}-date": date, f"days-{index}-kind": kind, f"days-{index}-name": name}
    return data


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def test_staff_add_a_year_with_its_days_and_deadlines_can_reach_it(client, staff):
    response = client.post(
        ADD,
        _form(
            YEAR,
            [
                ("2099-01-01", "holiday", "元旦"),
                ("2099-01-02", "holiday", "元旦"),
                ("2099-01-10", "workday", "元旦"),  # a Saturday worked
            ],
        ),
    )

    assert response.status_code == 302
    calendar = CalendarYear.objects.get(year=YEAR)
    assert calendar.days.count() == 3
    CalendarYear.objects.get_or_create(year=YEAR - 1)  # the year before, for the count to start
    # From Wednesday 31 December 2098: 1 and 2 January are off, 5–9 and the Saturday 10th count.
    assert add_working_days(start=datetime.date(YEAR - 1, 12, 31), days=6) == datetime.date(
        YEAR, 1, 10
    )


def test_a_year_without_holidays_is_refused(client, staff):
    response = client.post(ADD, _form(YEAR, [("2099-01-10", "workday", "元旦")]))

    assert response.status_code == 200
    assert "请先录入该年度的法定节假日" in response.content.decode()
    assert not CalendarYear.objects.filter(year=YEAR).exists()


def test_a_date_of_another_year_is_refused(client, staff):
    response = client.post(ADD, _form(YEAR, [("2098-12-31", "holiday", "元旦")]))

    assert response.status_code == 200
    assert "不在 2099 年内" in response.content.decode()
    assert not Holiday.objects.filter(date=datetime.date(2098, 12, 31)).exists()


@pytest.mark.parametrize("factory", [factories.UnitStaffFactory, factories.OversightFactory])
def test_others_cannot_open_it(client, factory):
    client.force_login(factory())
    response = client.get(reverse("admin:calendars_calendaryear_changelist"))
    assert response.status_code == 302
    assert "login" in response["Location"]
