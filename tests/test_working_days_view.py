"""GET /calendar/working-days/?days=N&from=DATE: the date a number of working days gives,
shown beside the deadline field before saving (static/js/deadline.js)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from calendars.models import CalendarYear, YearStatus
from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("calendars:working-days")
TODAY = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def staff_client(client):
    with time_machine.travel(TODAY, tick=False):
        client.force_login(factories.StaffUserFactory())
        yield client


def test_30_working_days_from_today_give_a_provisional_date_naming_its_holidays(staff_client):
    response = staff_client.get(URL, {"days": "30"})

    assert response.status_code == 200
    data = response.json()
    assert data["date"] == "2027-01-15"
    assert data["start"] == "2026-12-03"
    assert data["provisional"] is True
    assert data["provisional_years"] == [2027]
    assert data["holidays"] == [{"date": "2027-01-01", "name": "元旦"}]
    assert data["summary"] == "= 2027-01-15（暂定：含 2027 年暂定节假日 元旦（2027-01-01））"
    assert CalendarYear.objects.get(year=2027).status == YearStatus.PROVISIONAL


def test_a_count_on_a_confirmed_calendar_is_not_marked(staff_client):
    data = staff_client.get(URL, {"days": "30", "from": "2020-09-28"}).json()

    assert data == {
        "date": "2020-11-16",
        "start": "2020-09-28",
        "days": 30,
        "provisional": False,
        "provisional_years": [],
        "holidays": [],
        "summary": "= 2020-11-16",
    }


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "1"),
        ({"days": "abc"}, "1"),
        ({"days": "0"}, "1"),
        ({"days": "9999"}, "750"),
        ({"days": "5", "from": "2026-02-30"}, "YYYY-MM-DD"),
        ({"days": "30", "from": "2099-06-01"}, "2099年"),
    ],
)
def test_bad_input_is_a_400_with_a_chinese_message(staff_client, params, fragment):
    response = staff_client.get(URL, params)

    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert not CalendarYear.objects.filter(year=2099).exists()


@pytest.mark.parametrize(
    "factory", [factories.UnitStaffFactory, factories.UnitHeadFactory, factories.OversightFactory]
)
def test_only_evaluation_staff_may_ask(client, factory):
    client.force_login(factory())

    assert client.get(URL, {"days": "30"}).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(URL, {"days": "30"})

    assert response.status_code == 302
    assert "login" in response["Location"]
