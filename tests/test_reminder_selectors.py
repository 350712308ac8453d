"""Reads of reminders: the item page's list."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rectification.choices import RESTARTING_ACTIONS
from rectification.models import Event
from reminders import services
from reminders.selectors import reminders_for_item
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def item():
    owner = factories.UnitStaffFactory(full_name="陈晓敏")
    factories.UnitHeadFactory(unit=owner.unit, full_name="周建国")
    return factories.ItemFactory(
        recommendation__finding__result__project__unit=owner.unit,
        owner=owner,
        deadline=datetime.date(2024, 6, 30),
    )


def sweep_on(day: datetime.date) -> None:
    moment = datetime.datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        services.sweep()


def test_it_lists_an_items_reminders_newest_first_in_one_query(item):
    other = factories.ItemFactory(owner=factories.UnitStaffFactory(), deadline=item.deadline)
    sweep_on(datetime.date(2024, 6, 30))
    sweep_on(datetime.date(2024, 7, 1))
    with CaptureQueriesContext(connection) as queries:
        shown = [str(r) for r in reminders_for_item(item)]
    assert len(queries) == 1
    assert len(shown) == 3
    assert shown[0].endswith("· 已发送")
    assert "逾期催办 → 周建国（抄送）" in " ".join(shown[:2])
    assert shown[-1] == "2024-06-30 09:00 今日到期 → 陈晓敏 · 已发送"
    assert all(r.item_id == other.pk for r in reminders_for_item(other))


def test_the_item_page_shows_its_reminders(client, item):
    sweep_on(datetime.date(2024, 6, 30))
    client.force_login(item.owner)
    response = client.get(reverse("rectification:item-detail", kwargs={"pk": item.pk}))
    assert response.status_code == 200
    assert "今日到期 → 陈晓敏 · 已发送" in response.content.decode()


@pytest.mark.postgres
def test_an_items_latest_restart_is_one_probe_of_its_partial_index(item):
    """The sweep asks every open item of a city for its latest record that restarted the
    unit's work: a probe of ``event_item_restart``, not a walk through the item's other
    records. Planned with sequential scans priced out, as on a large table."""
    latest = (
        Event.objects.filter(item=item, action__in=RESTARTING_ACTIONS)
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        assert "event_item_restart" in latest.explain()


@pytest.mark.postgres
def test_an_items_and_a_persons_reminders_are_read_from_the_composite_indexes(item):
    """The item and the recipient have no index of their own (every planned reminder would
    write it): the item page's list reads ``reminder_item_list`` and a person's reminders
    ``reminder_sent_per_day``. Planned with sequential scans priced out, as on a large
    table."""
    sweep_on(datetime.date(2024, 7, 2))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        assert "reminder_item_list" in reminders_for_item(item).explain()
        assert "reminder_sent_per_day" in item.owner.reminders.order_by().explain()
