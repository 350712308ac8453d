"""python manage.py send_reminders [--dry-run] [--today YYYY-MM-DD]"""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from rectification.choices import EventAction
from rectification.models import Event, RectificationItem
from reminders.choices import Rule
from reminders.models import Reminder
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def owner():
    return factories.UnitStaffFactory(full_name="陈晓敏")


@pytest.fixture
def staff():
    return factories.StaffUserFactory(full_name="王珊")


def make_item(owner, deadline: datetime.date) -> RectificationItem:
    return factories.ItemFactory(
        recommendation__finding__result__project__unit=owner.unit,
        recommendation__finding__result__project__name="城市绿化养护项目",
        owner=owner,
        deadline=deadline,
    )


def run(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(datetime.datetime(2024, 7, 20, 9, tzinfo=SHANGHAI), tick=False):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_it_sends_the_digests_and_nothing_the_second_time_that_day(owner):
    make_item(owner, datetime.date(2024, 7, 19))
    first = run()
    second = run()
    assert "新增提醒 1 条；发送邮件 1 封" in first
    assert "新增提醒 0 条；发送邮件 0 封" in second
    assert len(mail.outbox) == 1


def test_dry_run_prints_who_would_get_what_and_changes_nothing(owner, staff):
    item = make_item(owner, datetime.date(2024, 7, 1))  # 19 days overdue: escalation due
    output = run("--dry-run")
    assert "【演练】将发送邮件 2 封" in output
    assert f"陈晓敏 <{owner.email}>：1 项" in output
    assert f"王珊 <{staff.email}>：1 项" in output
    assert "【逾期督办】" in output
    assert "【逾期催办】" in output
    assert "城市绿化养护项目" in output
    assert "已逾期 19 天" in output
    assert f"http://testserver/items/{item.pk}/" in output
    assert mail.outbox == []
    assert not Reminder.objects.exists()
    assert not Event.objects.filter(action=EventAction.ESCALATED).exists()
    item.refresh_from_db()
    assert item.escalated_at is None


def test_today_computes_the_reminders_of_another_day(owner):
    make_item(owner, datetime.date(2024, 8, 31))
    run("--today", "2024-08-24")
    reminder = Reminder.objects.get()
    assert (reminder.rule, reminder.period) == (Rule.DUE_SOON, datetime.date(2024, 8, 24))
    assert "还剩 7 天" in mail.outbox[0].body


def test_it_refuses_a_malformed_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("--today", "2024/08/24")
