"""The back-office page that enters or confirms a year from the State Council's notice:
paste → preview (what will be stored, what changes) → save; deadlines to re-check listed."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from calendars.models import CalendarYear, DayKind, Holiday, YearStatus
from calendars.services import count_working_days, ensure_provisional_year
from rectification import services
from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("admin:calendars_calendaryear_notice")
D = datetime.date
TZ = datetime.timezone(datetime.timedelta(hours=8))
TODAY = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=TZ)
NOTICE_2027 = """一、元旦：1月1日（周五）放假，与周末连休，共3天。
二、春节：2月5日（星期五）至13日（星期六）放假调休，共9天。2月14日（星期日）、2月20日（星期六）上班。
三、清明节：4月3日至5日放假，共3天。
四、劳动节：5月1日至5日放假调休，共5天。4月25日（星期日）上班。
五、端午节：6月9日放假，共1天。
六、中秋节：9月15日放假，共1天。
七、国庆节：10月1日至7日放假调休，共7天。9月26日（星期日）、10月9日（星期六）上班。
"""


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def _data(**overrides: str) -> dict[str, str]:
    return {"year": "2027", "source": "国办发明电〔2026〕7号", "text": NOTICE_2027, **overrides}


def test_it_offers_the_provisional_year_and_shows_its_days(client, staff):
    ensure_provisional_year(year=2027)

    page = client.get(URL).content.decode()

    assert 'name="year" value="2027"' in page
    assert "暂定" in page
    assert "2027-02-05 春节" in page


def test_the_preview_shows_what_will_be_stored_and_saves_nothing(client, staff):
    ensure_provisional_year(year=2027)

    response = client.post(URL, _data(preview="1"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="notice-preview"' in page
    assert "2027-02-14" in page and "星期日" in page
    assert 'name="confirm"' in page
    # What changes for deadlines already counted on the provisional calendar:
    assert 'id="notice-changes"' in page
    assert "2027-02-09" in page  # a weekday now off
    calendar = CalendarYear.objects.get(year=2027)
    assert calendar.status == YearStatus.PROVISIONAL
    assert not Holiday.objects.filter(date=D(2027, 2, 14)).exists()


def test_saving_confirms_the_year_and_links_to_the_deadlines_to_re_check(client, staff):
    calendar = ensure_provisional_year(year=2027)
    assert calendar is not None
    item = factories.ItemFactory()
    with time_machine.travel(TODAY + datetime.timedelta(hours=1), tick=False):
        count = count_working_days(start=TODAY.date(), days=60)
        services.assign(
            item=item,
            actor=services.Actor(user=staff),
            owner=None,
            deadline=count.date,
            count=count,
        )
        client.force_login(staff)
        preview = client.post(URL, _data(preview="1")).context["digest"]
        response = client.post(URL, _data(confirm="1", digest=preview))
        recheck = client.get(f"{reverse('rectification:ledger')}?recheck=2027")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="notice-done"' in page
    assert f'href="{reverse("rectification:ledger")}?recheck=2027"' in page
    assert [row.pk for row in recheck.context["object_list"]] == [item.pk]
    calendar.refresh_from_db()
    assert calendar.status == YearStatus.CONFIRMED
    assert calendar.source == "国办发明电〔2026〕7号"
    assert Holiday.objects.get(date=D(2027, 2, 14)).kind == DayKind.WORKDAY
    deadline = item.deadline
    item.refresh_from_db()
    assert item.deadline == deadline  # listed, never moved


def test_a_text_changed_after_the_preview_is_previewed_again_not_saved(client, staff):
    ensure_provisional_year(year=2027)
    digest = client.post(URL, _data(preview="1")).context["digest"]

    changed = NOTICE_2027.replace("2月20日（星期六）", "2月21日（星期日）")
    response = client.post(URL, _data(text=changed, confirm="1", digest=digest))

    assert 'id="notice-preview"' in response.content.decode()
    assert CalendarYear.objects.get(year=2027).status == YearStatus.PROVISIONAL


def test_an_unreadable_notice_is_refused_with_the_line_and_nothing_changes(client, staff):
    ensure_provisional_year(year=2027)

    response = client.post(URL, _data(text="春节：2月30日放假", preview="1"))

    page = response.content.decode()
    assert 'id="notice-errors"' in page
    assert "2月30日" in page
    assert 'id="notice-preview"' not in page
    assert CalendarYear.objects.get(year=2027).status == YearStatus.PROVISIONAL


def test_a_provisional_years_days_are_not_editable_one_by_one(client, staff):
    calendar = ensure_provisional_year(year=2027)
    assert calendar is not None

    page = client.get(reverse("admin:calendars_calendaryear_change", args=[calendar.pk]))

    html = page.content.decode()
    assert 'name="days-0-date"' not in html
    assert f"{URL}?year=2027" in html  # the way to change it: confirm from the notice


@pytest.mark.parametrize("factory", [factories.UnitStaffFactory, factories.OversightFactory])
def test_others_cannot_open_it(client, factory):
    user = factory()
    user.is_staff = True
    user.save()
    client.force_login(user)

    assert client.get(URL).status_code in {302, 403}
    assert client.post(URL, _data(confirm="1")).status_code in {302, 403}
    assert not CalendarYear.objects.filter(year=2027).exists()
