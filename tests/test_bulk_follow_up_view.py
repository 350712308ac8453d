"""批量安排回头看: staff select closed items (ticked or by the ledger's filters), preview each
re-check date some months after the closure, and schedule them all in one action."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rectification.choices import EventAction, FollowUpStatus, ItemStatus
from rectification.models import Event, FollowUp
from tests import factories, workflow

pytestmark = pytest.mark.django_db
URL = reverse("rectification:bulk-follow-up")
CHINA = datetime.timezone(datetime.timedelta(hours=8))
CLOSED_ON = datetime.datetime(2026, 3, 31, 10, 0, tzinfo=CHINA)
TODAY = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=CHINA)


@pytest.fixture
def ledger():
    """Two items closed on 31 March, one still open, one closed with a re-check scheduled."""
    owner = factories.UnitStaffFactory()
    staff = factories.StaffUserFactory()

    def item():  # type: ignore[no-untyped-def]
        return factories.ItemFactory(
            recommendation__finding__result__project__unit=owner.unit,
            owner=owner,
            deadline=datetime.date(2026, 12, 31),
        )

    with time_machine.travel(CLOSED_ON - datetime.timedelta(days=10), tick=False):
        closed = [workflow.submitted(item(), owner, staff) for _ in range(3)]
        still_open = item()
    with time_machine.travel(CLOSED_ON, tick=False):
        closed = [workflow.closed(each) for each in closed]
    with time_machine.travel(TODAY - datetime.timedelta(days=1), tick=False):
        FollowUp.objects.create(
            item=closed[2], due_on=datetime.date(2026, 7, 1), scheduled_by=staff
        )
    return {"closed": closed[:2], "scheduled": closed[2], "open": still_open, "staff": staff}


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def staff(client):  # type: ignore[no-untyped-def]
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def _ticked(*items) -> str:  # type: ignore[no-untyped-def]
    return "?" + "&".join(f"items={item.pk}" for item in items)


def _rows(page: str) -> dict[int, str]:
    rows = re.findall(r'<tr data-item="(\d+)"[^>]*>(.*?)</tr>', page, re.S)
    return {
        int(pk): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip() for pk, body in rows
    }


def test_it_previews_a_date_per_closed_item_and_says_why_others_are_left_out(client, staff, ledger):
    items = [*ledger["closed"], ledger["open"], ledger["scheduled"]]

    page = client.get(URL + _ticked(*items) + "&months=6").content.decode()

    rows = _rows(page)
    for item in ledger["closed"]:
        assert "2026-03-31" in rows[item.pk] and "2026-09-30" in rows[item.pk]
    assert "未销号" in rows[ledger["open"].pk]
    assert "已安排回头看" in rows[ledger["scheduled"].pk]
    assert "安排 2 项回头看" in page
    assert not FollowUp.objects.filter(item__in=ledger["closed"]).exists()


def test_it_schedules_the_closed_items_and_records_an_event_each(client, staff, ledger):
    items = [*ledger["closed"], ledger["open"], ledger["scheduled"]]

    response = client.post(URL + _ticked(*items), {"months": "3"})

    assert response.status_code == 302
    for item in ledger["closed"]:
        follow_up = FollowUp.objects.get(item=item)
        assert follow_up.status == FollowUpStatus.SCHEDULED
        assert follow_up.due_on == datetime.date(2026, 6, 30)
        assert follow_up.scheduled_by == staff
        assert Event.objects.filter(
            item=item, action=EventAction.FOLLOW_UP_SCHEDULED, actor=staff
        ).exists()
    assert not FollowUp.objects.filter(item=ledger["open"]).exists()
    assert FollowUp.objects.filter(item=ledger["scheduled"]).count() == 1


def test_a_re_check_already_past_is_due_tomorrow(client, staff, ledger):
    client.post(URL + _ticked(*ledger["closed"]), {"months": "1"})

    assert {f.due_on for f in FollowUp.objects.filter(item__in=ledger["closed"])} == {
        datetime.date(2026, 6, 2)
    }


def test_it_selects_by_the_ledgers_filters_too(client, staff, ledger):
    page = client.get(URL + "?status=closed&months=6").content.decode()

    assert set(_rows(page)) == {*(i.pk for i in ledger["closed"]), ledger["scheduled"].pk}


@pytest.mark.parametrize("months", ["0", "37", "six", ""])
def test_an_invalid_number_of_months_changes_nothing(client, staff, ledger, months):
    response = client.post(URL + _ticked(*ledger["closed"]), {"months": months})

    assert response.status_code == 400
    assert not FollowUp.objects.filter(item__in=ledger["closed"]).exists()


def test_without_a_selection_it_asks_for_one(client, staff, ledger):
    assert 'id="select-items"' in client.get(URL).content.decode()
    response = client.post(URL, {"months": "6"})
    assert response.status_code == 400
    assert not FollowUp.objects.filter(item__in=ledger["closed"]).exists()


def test_it_is_for_evaluation_staff_only(client, ledger):
    client.force_login(factories.UnitHeadFactory(unit=ledger["open"].unit))

    assert client.get(URL + _ticked(*ledger["closed"])).status_code == 403
    assert client.post(URL + _ticked(*ledger["closed"]), {"months": "6"}).status_code == 403
    assert not FollowUp.objects.filter(item__in=ledger["closed"]).exists()


def test_the_ledger_offers_it_to_staff_beside_bulk_assignment(client, staff, ledger):
    page = client.get(reverse("rectification:ledger")).content.decode()

    assert f'formaction="{URL}"' in page


def test_its_preview_query_count_does_not_grow_with_the_items(client, staff, ledger):
    client.get(URL + _ticked(*ledger["closed"][:1]) + "&months=6")
    with CaptureQueriesContext(connection) as one:
        client.get(URL + _ticked(*ledger["closed"][:1]) + "&months=6")
    with CaptureQueriesContext(connection) as four:
        page = client.get(
            URL + _ticked(*ledger["closed"], ledger["open"], ledger["scheduled"]) + "&months=6"
        ).content.decode()

    assert len(_rows(page)) == 4
    assert len(four) == len(one)
    assert ledger["open"].status == ItemStatus.OPEN
