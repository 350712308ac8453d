"""The history in words (rectification.history): what each event changed, on the item page.

Today is Thursday 3 December 2026.
"""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.services import TextChange
from rectification import bulk, services
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    EventAction,
    RectificationType,
    VerificationMethod,
)
from rectification.history import describe, describe_all
from rectification.models import Event, RectificationItem
from rectification.uploads import check_evidence
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def item():
    return factories.ItemFactory()


@pytest.fixture
def staff():
    return services.Actor(user=factories.StaffUserFactory(full_name="王审核"))


@pytest.fixture
def member(item):
    return services.Actor(user=factories.UnitStaffFactory(unit=item.unit, full_name="李经办"))


def _pdf(name: str):  # type: ignore[no-untyped-def]
    return check_evidence(SimpleUploadedFile(name, PDF, "application/pdf"))


def _last(item: RectificationItem, action: str | None = None) -> Event:
    events = Event.objects.filter(item=item)
    if action:
        events = events.filter(action=action)
    return events.order_by("-id").first()


def _words(event: Event) -> list[str]:
    described = describe(event)
    return [*described.changes, described.text, *described.files]


# --- 12. every event in words ------------------------------------------------------------------------


def test_it_names_the_owners_of_an_assignment(item, staff):
    zhang = factories.UnitStaffFactory(unit=item.unit, full_name="张三")
    li = factories.UnitStaffFactory(unit=item.unit, full_name="李四")
    services.assign(item=item, actor=staff, owner=zhang, deadline=None)
    services.assign(item=item, actor=staff, owner=li, deadline=None)
    first, second = Event.objects.filter(item=item).order_by("id")

    assert describe(first).changes == ["责任人：无 → 张三"]
    assert describe(second).changes == ["责任人：张三 → 李四"]
    # Renamed later: the history keeps the name of the day.
    zhang.full_name = "张三丰"
    zhang.save()
    assert describe(second).changes == ["责任人：张三 → 李四"]


def test_it_names_the_owners_of_old_events_that_stored_ids_only_in_one_query(item, staff):
    people = [
        factories.UnitStaffFactory(unit=item.unit, full_name=name)
        for name in ("张三", "李四", "王五", "赵六")
    ]
    for old, new in zip([None, *people], people, strict=False):
        Event.objects.create(
            item=item,
            action=EventAction.ASSIGNED,
            actor=staff.user,
            before={"owner": old.pk if old else None, "deadline": None},
            after={"owner": new.pk, "deadline": None},
        )
    events = list(Event.objects.filter(item=item).order_by("id"))

    with CaptureQueriesContext(connection) as queries:
        described = describe_all(events)

    assert len(queries) == 1
    assert [d.changes for _event, d in described] == [
        ["责任人：无 → 张三"],
        ["责任人：张三 → 李四"],
        ["责任人：李四 → 王五"],
        ["责任人：王五 → 赵六"],
    ]
    # Without the names looked up, an id still says whose it was.
    assert describe(events[1]).changes == [f"责任人：#{people[0].pk} → #{people[1].pk}"]


def test_it_says_how_a_deadline_changed_by_whom_from_what_and_why(item, staff, member):
    services.assign(item=item, actor=staff, owner=None, deadline=datetime.date(2026, 12, 31))
    assert describe(_last(item)).changes == [
        "整改时限：无 → 2026-12-31",
        "时限依据：评价管理员设定",
    ]

    request = services.request_extension(
        item=item,
        actor=member,
        requested_deadline=datetime.date(2027, 2, 28),
        reason="需跨部门协调",
    )
    assert describe(_last(item)).changes == ["申请将整改时限延至：2027-02-28"]
    assert describe(_last(item)).text == "需跨部门协调"

    services.decide_extension(extension=request, actor=staff, approve=True, note="同意")
    described = describe(_last(item))
    assert described.changes == [
        "整改时限：2026-12-31 → 2027-02-28",
        "时限依据：批准延期",
        "原因：需跨部门协调",
    ]
    assert described.text == "同意"

    bulk.bulk_assign(
        items=[RectificationItem.objects.get(pk=item.pk)],
        actor=staff,
        deadline=datetime.date(2027, 1, 15),
        include=[item.pk],
        reason="区政府要求春节前完成",
    )
    described = describe(_last(item))
    assert described.changes == [
        "整改时限：2027-02-28 → 2027-01-15",
        "时限依据：批量分派设定",
        "须说明原因：将缩短已批准的延期",
    ]
    assert described.text == "区政府要求春节前完成"  # the reason is the event's note


def test_it_says_what_a_rejection_decided_without_a_deadline_change(item, staff, member):
    services.assign(item=item, actor=staff, owner=None, deadline=datetime.date(2026, 12, 31))
    request = services.request_extension(
        item=item, actor=member, requested_deadline=datetime.date(2027, 2, 28), reason="需协调"
    )

    services.decide_extension(extension=request, actor=staff, approve=False, note="理由不充分")

    described = describe(_last(item))
    assert described.changes == []
    assert described.text == "理由不充分"


def test_it_shows_the_plan_the_evidence_the_submission_the_reviews_and_the_closure(
    item, staff, member, frozen
):
    services.assign(item=item, actor=staff, owner=member.user, deadline=None)
    plan = services.submit_plan(
        item=item,
        actor=member,
        rectification_type=RectificationType.IMMEDIATE,
        measures="一是成立专班；二是修订制度。",
        agreement=Agreement.AGREE,
    )
    described = describe(_last(item))
    assert described.changes == ["整改方案第 1 版：立行立改", "对问题的认同：认同"]
    assert described.text == "一是成立专班；二是修订制度。"

    services.decide_plan(plan=plan, actor=staff, accept=True)
    assert describe(_last(item)).changes == ["状态：待整改 → 整改中", "整改方案第 1 版"]

    services.add_progress(
        item=item, actor=member, note="已印发制度", files=[_pdf("制度.pdf"), _pdf("纪要.pdf")]
    )
    described = describe(_last(item))
    assert described.files == ["制度.pdf", "纪要.pdf"]
    assert described.text == "已印发制度"

    services.submit(item=item, actor=member, result="制度已修订并执行")
    described = describe(_last(item))
    assert described.changes == ["状态：整改中 → 待销号"]
    assert described.text == "制度已修订并执行"

    services.return_item(item=item, actor=staff, reason="缺少执行记录")
    described = describe(_last(item))
    assert described.changes == ["状态：待销号 → 整改中"]
    assert described.text == "缺少执行记录"

    frozen.shift(datetime.timedelta(hours=1))  # new evidence comes after the return
    services.add_progress(item=item, actor=member, note="补充执行记录", files=[_pdf("记录.pdf")])
    services.submit(item=item, actor=member)

    services.first_review(
        item=item,
        actor=staff,
        outcome=ClosureOutcome.ONGOING,
        method=VerificationMethod.SITE_CHECK,
        verified_by="王珊",
        verified_on=datetime.date(2026, 12, 2),
        note="阶段任务已完成，其余按路线图推进",
    )
    described = describe(_last(item))
    assert described.changes == ["状态：待销号 → 待复核", "拟定结论：持续整改（阶段性完成）"]
    assert described.text == "阶段任务已完成，其余按路线图推进"

    second = services.Actor(user=factories.StaffUserFactory(full_name="陈复核"))
    services.second_review(item=item, actor=second, confirm=True)
    described = describe(_last(item))
    assert described.changes == [
        "状态：待复核 → 已销号",
        "销号结论：持续整改（阶段性完成）",
        "核查方式：实地核查，核查人 王珊，2026-12-02",
    ]
    assert described.text == "阶段任务已完成，其余按路线图推进"  # the first review's note

    services.reopen(
        item=item, actor=staff, reason="复查发现整改不实", new_deadline=datetime.date(2027, 3, 31)
    )
    described = describe(_last(item))
    assert described.changes == [
        "整改时限：无 → 2027-03-31",
        "时限依据：重新打开时设定",
        "状态：已销号 → 待整改",
    ]
    assert described.text == "复查发现整改不实"


def test_it_says_which_texts_an_import_changed(item):
    recommendation = item.recommendation
    services.record_evaluation_changes(
        changes=[
            TextChange(
                recommendation_id=recommendation.pk,
                before={
                    "finding": {"title": "指标不规范。", "body": "一是……"},
                    "recommendation": {"title": "完善指标。", "body": "一是……"},
                },
                after={
                    "finding": {"title": "绩效指标设置不够规范。", "body": "一是……"},
                    "recommendation": {"title": "完善指标。", "body": "一是完善指标体系。"},
                },
            )
        ],
        actor=None,
        note="重新导入 2020.xlsx 更新了评价内容",
    )

    described = describe(_last(item))

    assert "问题：指标不规范。 → 绩效指标设置不够规范。" in described.changes
    # Only the recommendation's body changed: the history shows that text, not its title twice.
    assert "建议：完善指标。 → 完善指标。" not in described.changes
    assert any("一是完善指标体系。" in line for line in described.changes)
    assert described.text == "重新导入 2020.xlsx 更新了评价内容"


def test_it_says_the_first_deadline_of_a_new_item_once(item):
    services.open_items(
        items=[
            {
                "recommendation": factories.RecommendationFactory(),
                "unit": item.unit,
                "deadline": datetime.date(2026, 12, 31),
            }
        ],
        actor=None,
        note="由 2020.xlsx 导入生成",
    )
    created = Event.objects.filter(action=EventAction.CREATED).get()

    changes = describe(created).changes

    assert [line for line in changes if "整改时限" in line] == ["整改时限：2026-12-31"]
    assert "时限依据：导入时设定" in changes


def test_it_does_not_call_an_escalation_a_deadline_change():
    late = factories.ItemFactory(
        deadline=datetime.date(2026, 11, 1), original_deadline=datetime.date(2026, 11, 1)
    )
    services.escalate_overdue(item_ids=[late.pk], today=TODAY, escalate_after=15)

    described = describe(_last(late, EventAction.ESCALATED))

    assert not [line for line in described.changes if "整改时限" in line]
    assert described.text == "逾期 32 天未销号，已转评价管理员督办"


# --- the item page -----------------------------------------------------------------------------------


def _history(client, item) -> list[str]:  # type: ignore[no-untyped-def]
    page = client.get(reverse("rectification:item-detail", args=[item.pk])).content.decode()
    block = page.split('id="events"')[1].split("</ol>")[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", li).split()) for li in block.split("<li")[1:]]


def test_it_shows_the_history_in_words_on_the_item_page(client, item, staff, member):
    zhang = factories.UnitStaffFactory(unit=item.unit, full_name="张三")
    Event.objects.create(  # an old event: ids only
        item=item, action=EventAction.ASSIGNED, before={"owner": None}, after={"owner": zhang.pk}
    )
    services.assign(item=item, actor=staff, owner=member.user, deadline=datetime.date(2026, 12, 31))
    plan = services.submit_plan(
        item=item,
        actor=member,
        rectification_type=RectificationType.IMMEDIATE,
        measures="成立专班",
        agreement=Agreement.AGREE,
    )
    services.decide_plan(plan=plan, actor=staff, accept=True)
    services.add_progress(item=item, actor=member, note="已印发方案", files=[_pdf("方案.pdf")])
    request = services.request_extension(
        item=item, actor=member, requested_deadline=datetime.date(2027, 2, 28), reason="需协调"
    )
    services.decide_extension(extension=request, actor=staff, approve=True, note="同意")
    client.force_login(member.user)

    entries = _history(client, item)

    assert len(entries) == 7
    approved, requested, progress, accepted, measures, assigned, old = entries
    assert "整改方案通过" in accepted and "待整改 → 整改中" in accepted
    assert "王审核" in approved
    assert "整改时限：2026-12-31 → 2027-02-28" in approved
    assert "时限依据：批准延期" in approved
    assert "原因：需协调" in approved
    assert "申请将整改时限延至：2027-02-28" in requested
    assert "佐证材料：方案.pdf" in progress
    assert "成立专班" in measures
    assert "责任人：无 → 李经办" in assigned
    assert "整改时限：无 → 2026-12-31" in assigned
    assert "责任人：无 → 张三" in old


def test_it_keeps_the_item_page_queries_constant_with_many_events(client, item, staff):
    viewer = factories.StaffUserFactory()
    client.force_login(viewer)
    url = reverse("rectification:item-detail", args=[item.pk])
    client.get(url)

    def add_events(n: int) -> None:
        for _ in range(n):
            person = factories.UnitStaffFactory(unit=item.unit)
            Event.objects.create(  # old events: each names another person by id
                item=item, action=EventAction.ASSIGNED, after={"owner": person.pk}
            )
            services.assign(item=item, actor=staff, owner=person, deadline=None)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add_events(1)
    one = count()
    add_events(29)
    assert count() == one
