"""The item page's owner-and-deadline form: a date, or N working days (工作日) from a start."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from rectification.choices import EventAction
from rectification.models import Event
from tests import factories

pytestmark = pytest.mark.django_db
# Monday 28 September 2020, before the National Day holidays (1–8 October).
MONDAY = datetime.datetime(2020, 9, 28, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture
def item():
    return factories.ItemFactory()


@pytest.fixture
def staff_client(client):
    client.force_login(factories.StaffUserFactory())
    return client


def _post(client, item, **data):  # type: ignore[no-untyped-def]
    url = reverse("rectification:item-assign", kwargs={"pk": item.pk})
    return client.post(url, {"version": item.version, "owner": "", **data})


def test_it_offers_working_days_beside_the_date(staff_client, item):
    page = staff_client.get(reverse("rectification:item-detail", args=[item.pk])).content.decode()
    assert 'name="working_days"' in page
    assert 'name="working_days_from"' in page
    assert "工作日" in page


def test_it_turns_30_working_days_from_today_into_the_deadline(staff_client, item):
    response = _post(staff_client, item, working_days=30)

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.deadline == datetime.date(2020, 11, 16)
    [event] = Event.objects.filter(item=item, action=EventAction.ASSIGNED)
    assert event.after["deadline"] == "2020-11-16"


def test_it_counts_from_the_start_date_given(staff_client, item):
    # From Wednesday 30 September: 9 October (Friday), then the 调休 Saturday 10 October.
    _post(staff_client, item, working_days=2, working_days_from="2020-09-30")

    item.refresh_from_db()
    assert item.deadline == datetime.date(2020, 10, 10)


def test_it_refuses_a_date_and_working_days_together(staff_client, item):
    response = _post(staff_client, item, deadline="2020-12-31", working_days=5)

    assert response.status_code == 400
    assert "二选一" in response.content.decode()
    item.refresh_from_db()
    assert item.deadline is None


def test_it_refuses_to_count_into_a_year_without_a_calendar(staff_client, item):
    response = _post(staff_client, item, working_days=30, working_days_from="2099-12-01")

    assert response.status_code == 400
    assert "2099年的节假日安排尚未录入" in response.content.decode()
    assert not Event.objects.filter(item=item).exists()


def test_a_plain_date_still_works(staff_client, item):
    _post(staff_client, item, deadline="2020-12-31")

    item.refresh_from_db()
    assert item.deadline == datetime.date(2020, 12, 31)


def test_working_days_replace_the_prefilled_date_left_as_it_was(staff_client):
    # The form shows the current deadline in the date field; the browser sends it back as it
    # was, with the number of working days typed below it.
    item = factories.ItemFactory(deadline=datetime.date(2020, 10, 30))

    response = _post(staff_client, item, deadline="2020-10-30", working_days=30)

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.deadline == datetime.date(2020, 11, 16)


def test_a_changed_date_with_working_days_is_still_refused(staff_client):
    item = factories.ItemFactory(deadline=datetime.date(2020, 10, 30))

    response = _post(staff_client, item, deadline="2020-12-31", working_days=30)

    assert response.status_code == 400
    assert "二选一" in response.content.decode()
    item.refresh_from_db()
    assert item.deadline == datetime.date(2020, 10, 30)


def test_the_page_shows_the_computed_date_while_typing(staff_client, item):
    page = staff_client.get(reverse("rectification:item-detail", args=[item.pk])).content.decode()

    assert f'data-working-days-url="{reverse("calendars:working-days")}"' in page
    assert "js/deadline.js" in page
    assert "<script>" not in page  # no inline script under the Content-Security-Policy


def test_30_working_days_from_december_2026_reach_a_provisional_2027(client, item):
    with time_machine.travel(
        datetime.datetime(2026, 12, 3, 9, 0, tzinfo=MONDAY.tzinfo), tick=False
    ):
        client.force_login(factories.StaffUserFactory())
        response = _post(client, item, working_days=30)

    assert response.status_code == 302
    item.refresh_from_db()
    # 2027-01-01 (元旦, a Friday) is the one provisional holiday on the way.
    assert item.deadline == datetime.date(2027, 1, 15)
