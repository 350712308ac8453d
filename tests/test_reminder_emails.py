"""The digest e-mail: subject, text and HTML, in Chinese, with absolute links."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from reminders import services
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2024, 7, 1)


@pytest.fixture
def unit():
    return factories.UnitFactory(
        name="广州市荔湾区市政园林绿化管理中心", short_name="区市政绿化中心"
    )


@pytest.fixture
def owner(unit):
    return factories.UnitStaffFactory(unit=unit, full_name="陈晓敏")


@pytest.fixture
def head(unit):
    return factories.UnitHeadFactory(unit=unit, full_name="周建国")


@pytest.fixture
def result(unit):
    project = factories.ProjectFactory(unit=unit, name="荔湾区城市绿化养护项目")
    return factories.ResultFactory(project=project)


def make_item(result, owner, deadline, title):
    number = result.findings.count() + 1
    return factories.ItemFactory(
        recommendation__finding__result=result,
        recommendation__finding__number=number,
        recommendation__title=title,
        owner=owner,
        deadline=deadline,
    )


def sweep():
    with time_machine.travel(
        datetime.datetime(TODAY.year, TODAY.month, TODAY.day, 9, tzinfo=SHANGHAI), tick=False
    ):
        services.sweep()
    return {m.to[0]: m for m in mail.outbox}


def test_the_digest_names_unit_project_item_deadline_and_days_with_a_link(result, owner, head):
    late = make_item(result, owner, datetime.date(2024, 6, 24), "完善绩效指标体系。")
    soon = make_item(result, owner, datetime.date(2024, 7, 4), "加强资金支出管理。")
    message = sweep()[owner.email]

    assert (
        message.subject
        == "【整改台账提醒】2024年7月1日：您有 2 项整改事项需要关注（其中逾期 1 项）"
    )
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    body = message.body
    assert body.startswith("陈晓敏，您好：")
    for text in [
        "广州市荔湾区市政园林绿化管理中心",
        "2020年度 荔湾区城市绿化养护项目",
        "完善绩效指标体系。",
        "整改时限：2024年6月24日（已逾期 7 天）",
        "加强资金支出管理。",
        "整改时限：2024年7月4日（还剩 3 天）",
        f"http://testserver/items/{late.pk}/",
        f"http://testserver/items/{soon.pk}/",
        "当前状态：待整改　责任人：陈晓敏",
    ]:
        assert text in body
    assert body.index("完善绩效指标体系") < body.index("加强资金支出管理"), "overdue first"

    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'<a href="http://testserver/items/{late.pk}/">查看与办理</a>' in html
    assert "已逾期 7 天" in html
    assert "<script" not in html


def test_the_head_gets_the_overdue_items_in_copy(result, owner, head):
    make_item(result, owner, datetime.date(2024, 6, 24), "完善绩效指标体系。")
    make_item(result, owner, datetime.date(2024, 7, 4), "加强资金支出管理。")
    message = sweep()[head.email]
    assert "您有 1 项整改事项需要关注（其中逾期 1 项）" in message.subject
    assert "【逾期催办】（抄送）" in message.body
    assert "加强资金支出管理" not in message.body


def test_the_html_escapes_what_units_typed(result, owner):
    make_item(result, owner, datetime.date(2024, 7, 1), "<b>加强</b>管理 & 考核")
    html = sweep()[owner.email].alternatives[0][0]
    assert "&lt;b&gt;加强&lt;/b&gt;管理 &amp; 考核" in html
    assert "今天到期" in html


def test_a_long_digest_lists_the_most_urgent_items_and_links_to_the_rest(
    result, owner, monkeypatch
):
    from reminders import emails

    monkeypatch.setattr(emails, "DIGEST_MAX_ITEMS", 3)
    for n in range(5):
        make_item(result, owner, TODAY - datetime.timedelta(days=n + 1), f"整改事项{n}")
    message = sweep()[owner.email]
    text = message.body
    html = message.alternatives[0][0]
    assert "以下 5 项整改事项" in text
    assert text.count("查看与办理") == 3
    assert "另有 5 项" not in text and "另有 2 项未在本邮件中列出" in text
    assert f"请登录系统查看：{settings.SITE_BASE_URL}/\n" in text  # the ledger list
    assert html.count("查看与办理") == 3
    assert "另有 <strong>2</strong> 项" in html
    # The most overdue come first.
    assert "整改事项4" in text and "整改事项0" not in text


def test_every_reason_has_its_place_in_a_digest_entry():
    from reminders.choices import Rule
    from reminders.emails import _RULE_ORDER

    assert sorted(_RULE_ORDER) == sorted(Rule)
