"""Group-robot delivery (企业微信 / 粤政易 / 钉钉) against a real HTTP server on 127.0.0.1
(``tests/robots.py``), through the real sweep: what is posted, how often, and what a robot's
refusal does to the row. The robots answer HTTP 200 with ``{"errcode": 0}`` on success.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from evaluations.models import WebhookKind
from rectification import services as ledger
from rectification.choices import ItemStatus
from reminders import services
from reminders.choices import Channel, ReminderStatus, Rule, SkipReason
from reminders.models import Reminder
from tests import factories
from tests.robots import running_robot

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2024, 6, 3)
FAR = datetime.date(2024, 12, 31)


def moment(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> time_machine.travel:
    return time_machine.travel(moment(day, hour, minute), tick=False)


def sweep_at(when: datetime.datetime) -> services.SweepResult:
    with time_machine.travel(when, tick=False):
        return services.sweep()


@pytest.fixture
def robot():
    with running_robot() as server:
        yield server


@pytest.fixture
def unit(robot):
    """A unit whose only channel is its WeCom group robot (no accounts)."""
    return factories.UnitFactory(
        name="广州市荔湾区市政园林绿化管理中心",
        short_name="区市政绿化中心",
        webhook_kind=WebhookKind.WECOM,
        webhook_url=robot.url,
    )


@pytest.fixture
def staff():
    return factories.StaffUserFactory(username="pingjia", full_name="王珊")


def make_item(unit, *, deadline=FAR, title="完善绩效指标体系。", **fields):
    with at(TODAY - datetime.timedelta(days=7)):
        return factories.ItemFactory(
            recommendation__finding__result__project__unit=unit,
            recommendation__finding__result__project__name=f"荔湾区城市绿化养护项目（{title}）",
            recommendation__title=title,
            deadline=deadline,
            **fields,
        )


def returned(unit, staff, *, when: datetime.datetime, reason: str = "请补充材料。"):
    """An item the bureau returns at ``when`` (the event a notification is about)."""
    item = make_item(unit, status=ItemStatus.SUBMITTED, title=reason)
    with time_machine.travel(when, tick=False):
        ledger.return_item(item=item, actor=ledger.Actor(user=staff), reason=reason)
    return item


def robot_row() -> Reminder:
    return Reminder.objects.get(channel=Channel.WEBHOOK)


# --- 12. posted once, as the robots' JSON --------------------------------------------------------


def test_it_posts_a_notification_once_as_the_robots_json_naming_unit_and_item(robot, unit, staff):
    item = returned(unit, staff, when=moment(TODAY, 10), reason="佐证材料未加盖公章。")
    sweep_at(moment(TODAY, 10, 2))
    sweep_at(moment(TODAY, 10, 4))
    sweep_at(moment(TODAY + datetime.timedelta(days=1), 0, 2))

    [posted] = robot.requests
    assert posted.method == "POST"
    assert posted.path == "/cgi-bin/webhook/send"
    assert posted.query == {"key": ["test-key"]}
    assert posted.headers["content-type"] == "application/json; charset=utf-8"
    assert set(posted.json()) == {"msgtype", "text"}
    assert posted.json()["msgtype"] == "text"
    assert set(posted.json()["text"]) == {"content"}
    content = posted.content
    # The unit by the name it goes by (its short name), the day, then the item.
    assert content.startswith("【整改台账】区市政绿化中心（2024年06月03日）\n")
    assert "【已退回单位】" in content
    assert "佐证材料未加盖公章。" in content
    assert f"http://testserver/items/{item.pk}/" in content
    row = robot_row()
    assert (row.rule, row.unit_id, row.status, row.attempts) == (
        Rule.RETURNED,
        unit.pk,
        ReminderStatus.SENT,
        1,
    )
    assert mail.outbox == [], "the unit has no accounts: the robot is its only channel"


# --- 13. HTTP 500: back off, then once ------------------------------------------------------------


def test_it_retries_a_robot_that_answered_500_after_a_backoff_and_posts_once(
    robot, unit, staff, settings
):
    settings.LIWAN_REMINDER_RETRY_BASE_SECONDS = 60
    robot.answer(500, b"Internal Server Error")
    returned(unit, staff, when=moment(TODAY, 10))
    first = sweep_at(moment(TODAY, 10, 2))

    assert (first.delivery.retrying, first.delivery.sent) == (1, 0)
    row = robot_row()
    assert (row.status, row.attempts, row.last_error) == (ReminderStatus.PENDING, 1, "HTTP 500")
    # 50–100 % of the base delay after the failure.
    waited = row.next_attempt_at - moment(TODAY, 10, 2)
    assert datetime.timedelta(seconds=30) <= waited <= datetime.timedelta(seconds=60)

    sweep_at(moment(TODAY, 10, 2) + datetime.timedelta(seconds=25))
    assert len(robot.requests) == 1, "not before the backoff has passed"
    sweep_at(moment(TODAY, 10, 4))
    assert len(robot.requests) == 2
    for minute in (6, 8, 30):
        sweep_at(moment(TODAY, 10, minute))
    assert len(robot.requests) == 2, "posted once it got through, never again"
    assert robot.requests[0].body == robot.requests[1].body
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (ReminderStatus.SENT, 2, "")


# --- 14. errcode, rate limits and 4xx -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "outcome", "error"),
    [
        # A wrong or revoked key: sending again cannot help.
        (200, {"errcode": 93000, "errmsg": "invalid webhook url"}, ReminderStatus.FAILED, "93000"),
        (200, {"errcode": 310000, "errmsg": "sign not match"}, ReminderStatus.FAILED, "310000"),
        # Too many messages this minute (企业微信 45009, 钉钉 130101): later.
        (
            200,
            {"errcode": 45009, "errmsg": "api freq out of limit"},
            ReminderStatus.PENDING,
            "45009",
        ),
        (200, {"errcode": 130101, "errmsg": "send too fast"}, ReminderStatus.PENDING, "130101"),
        (404, {"errmsg": "not found"}, ReminderStatus.FAILED, "HTTP 404"),
        (400, b"bad request", ReminderStatus.FAILED, "HTTP 400"),
        (429, b"slow down", ReminderStatus.PENDING, "HTTP 429"),
    ],
    ids=["errcode", "sign", "wecom-rate", "dingtalk-rate", "404", "400", "429"],
)
def test_it_fails_a_refused_robot_message_for_good_and_retries_a_rate_limited_one(
    robot, unit, staff, settings, status, body, outcome, error
):
    settings.LIWAN_REMINDER_RETRY_BASE_SECONDS = 60
    robot.answer(status, body)
    returned(unit, staff, when=moment(TODAY, 10))
    sweep_at(moment(TODAY, 10, 2))

    row = robot_row()
    assert row.status == outcome
    assert error in row.last_error
    # An hour later: a permanent failure stays as it is; a rate-limited message goes, once.
    for minute in (30, 40):
        sweep_at(moment(TODAY, 11, minute))
    row.refresh_from_db()
    if outcome == ReminderStatus.FAILED:
        assert len(robot.requests) == 1
        assert (row.status, row.attempts) == (ReminderStatus.FAILED, 1)
    else:
        assert len(robot.requests) == 2
        assert (row.status, row.attempts) == (ReminderStatus.SENT, 2)


def test_a_robot_that_is_no_longer_configured_is_skipped_with_the_reason(robot, unit, staff):
    returned(unit, staff, when=moment(TODAY, 10))
    with at(TODAY, 10, 1):
        services.plan_notifications(now=moment(TODAY, 10, 1))
    unit.webhook_url = ""
    unit.save()
    sweep_at(moment(TODAY, 10, 2))

    assert robot.requests == []
    row = robot_row()
    assert (row.status, row.skip_reason) == (ReminderStatus.SKIPPED, SkipReason.NO_WEBHOOK)


# --- 15. DingTalk's signature ---------------------------------------------------------------------


def test_it_signs_a_dingtalk_robots_address_with_timestamp_and_hmac(staff):
    secret = "SEC0123456789abcdef"
    with running_robot("/robot/send?access_token=test-token") as robot:
        unit = factories.UnitFactory(
            name="广州市荔湾区教育局",
            webhook_kind=WebhookKind.DINGTALK,
            webhook_url=robot.url,
            webhook_secret=secret,
        )
        returned(unit, staff, when=moment(TODAY, 10))
        sending = moment(TODAY, 10, 2)
        sweep_at(sending)

    [posted] = robot.requests
    assert posted.path == "/robot/send"
    assert set(posted.query) == {"access_token", "timestamp", "sign"}
    assert posted.query["access_token"] == ["test-token"], "the robot's own token is kept"
    [timestamp] = posted.query["timestamp"]
    assert timestamp == str(int(sending.timestamp() * 1000)), "milliseconds, now"
    # DingTalk's recipe: Base64(HMAC-SHA256(key=secret, message=timestamp + "\n" + secret)),
    # URL-encoded (parse_qs has decoded it again).
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert posted.query["sign"] == [expected]
    assert posted.json()["msgtype"] == "text"


def test_it_does_not_sign_a_dingtalk_robot_without_a_secret(staff):
    with running_robot("/robot/send?access_token=test-token") as robot:
        unit = factories.UnitFactory(
            name="广州市荔湾区教育局", webhook_kind=WebhookKind.DINGTALK, webhook_url=robot.url
        )
        returned(unit, staff, when=moment(TODAY, 10))
        sweep_at(moment(TODAY, 10, 2))
    [posted] = robot.requests
    assert posted.query == {"access_token": ["test-token"]}


# --- 16. one reminder post a day, notifications at once -----------------------------------------


def test_a_units_group_gets_one_reminder_post_a_day_and_notifications_at_once(robot, unit, staff):
    make_item(unit, deadline=TODAY + datetime.timedelta(days=3), title="加强资金支出管理。")
    make_item(unit, deadline=TODAY + datetime.timedelta(days=1), title="规范政府采购程序。")
    sweep_at(moment(TODAY, 0, 2))
    assert len(robot.requests) == 1, "the day's reminders in one post"
    assert "加强资金支出管理。" in robot.requests[0].content
    assert "规范政府采购程序。" in robot.requests[0].content

    # Later that day an item gets today as its deadline: its reminder waits for tomorrow.
    make_item(unit, deadline=TODAY, title="健全绩效评价机制。")
    later = sweep_at(moment(TODAY, 11))
    assert later.planned == 1
    assert len(robot.requests) == 1
    # A return is news: it goes at once, alone.
    returned(unit, staff, when=moment(TODAY, 14), reason="佐证材料未加盖公章。")
    sweep_at(moment(TODAY, 14, 2))
    assert len(robot.requests) == 2
    news = robot.requests[1].content
    assert "佐证材料未加盖公章。" in news
    assert "健全绩效评价机制。" not in news
    sweep_at(moment(TODAY, 23, 58))
    assert len(robot.requests) == 2

    # Tomorrow's first sweep: one post with what is due then (yesterday's "due today" has become
    # "overdue" and is posted as such).
    sweep_at(moment(TODAY + datetime.timedelta(days=1), 0, 2))
    assert len(robot.requests) == 3
    tomorrow = robot.requests[2].content
    assert "健全绩效评价机制。" in tomorrow
    assert "逾期催办" in tomorrow
    assert "规范政府采购程序。" in tomorrow
    skipped = Reminder.objects.get(rule=Rule.DUE_TODAY, period=TODAY, channel=Channel.WEBHOOK)
    assert skipped.skip_reason == SkipReason.SUPERSEDED
