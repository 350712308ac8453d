"""Deadline governance (services._move_deadline, rules.deadline_concerns): every change of a
deadline keeps the original one, records its source and reason, refuses a date in the past, and
asks for a reason where the change would override a decision or let an overdue item off.

Today is Thursday 3 December 2026, the day the issue's defects were seen in a browser: an
approved extension to 2027-02-28 silently replaced by a bulk assignment of 30 working days
(2027-01-15), and a pending request to 2027-01-08 later approved back over it.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from calendars.services import count_working_days
from evaluations.importing import read_table
from rectification import bulk, services
from rectification.choices import (
    ClosureOutcome,
    DeadlineConcern,
    DeadlineSource,
    EventAction,
    ExtensionStatus,
)
from rectification.imports import import_evaluation_table
from rectification.models import Event, ExtensionRequest, RectificationItem
from tests import factories, workflow

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
FIRST = datetime.date(2026, 12, 31)  # the deadline staff first set
EXTENDED = datetime.date(2027, 2, 28)  # the extension approved
BULK = datetime.date(2027, 1, 15)  # 30 working days from today
REQUESTED = datetime.date(2027, 1, 8)  # what the pending requests ask for
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "liwan_2020.yaml"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff():
    return services.Actor(user=factories.StaffUserFactory(), ip="10.0.0.9")


@pytest.fixture
def item():
    return factories.ItemFactory()


def _closed_by_decision(item: RectificationItem, staff: services.Actor, *, note: str) -> None:
    """Closed as 未整改 by staff without a submission: 初审 by ``staff``, 复核 by another."""
    if item.owner_id is None:
        item.owner = _member(item).user
        item.save(update_fields=["owner"])
    workflow.closed(
        item,
        staff,
        factories.StaffUserFactory(),
        outcome=ClosureOutcome.NOT_RECTIFIED,
        note=note,
    )


def _member(item: RectificationItem) -> services.Actor:
    user = item.unit.users.filter(is_active=True).first() or factories.UnitStaffFactory(
        unit=item.unit
    )
    return services.Actor(user=user, ip="10.0.0.1")


def _assigned(item: RectificationItem, staff: services.Actor, deadline=FIRST, reason=""):  # type: ignore[no-untyped-def]
    services.assign(item=item, actor=staff, owner=None, deadline=deadline, reason=reason)
    item.refresh_from_db()
    return item


def _request(item: RectificationItem, to: datetime.date = REQUESTED) -> ExtensionRequest:
    return services.request_extension(
        item=item, actor=_member(item), requested_deadline=to, reason="需跨部门协调，申请延期。"
    )


def _extended(item: RectificationItem, staff: services.Actor) -> RectificationItem:
    """First deadline 2026-12-31, then an approved extension to 2027-02-28."""
    _assigned(item, staff)
    services.decide_extension(extension=_request(item, EXTENDED), actor=staff, approve=True)
    item.refresh_from_db()
    return item


def _overdue(**kwargs) -> RectificationItem:  # type: ignore[no-untyped-def]
    """An item whose deadline (set by the import, as items get theirs) passed three days ago."""
    late = datetime.date(2026, 11, 30)
    return factories.ItemFactory(
        deadline=late, original_deadline=late, deadline_source=DeadlineSource.IMPORT, **kwargs
    )


def _last_event(item: RectificationItem) -> Event:
    return Event.objects.filter(item=item).order_by("-id").first()


def _snapshot(item: RectificationItem) -> tuple:
    item.refresh_from_db()
    return (
        item.deadline,
        item.original_deadline,
        item.deadline_source,
        item.deadline_reason,
        item.extensions_approved,
        item.version,
        Event.objects.filter(item=item).count(),
    )


# --- 1. original and current deadline, the source and reason of every change -------------------


def test_it_records_the_deadline_set_by_the_import_as_original_with_its_source():
    import_evaluation_table(table=read_table(FIXTURE.name, FIXTURE.read_bytes()), deadline=FIRST)

    items = list(RectificationItem.objects.all())
    assert len(items) == 22
    for item in items:
        assert (item.deadline, item.original_deadline) == (FIRST, FIRST)
        assert item.deadline_source == DeadlineSource.IMPORT
        assert item.deadline_reason == ""
        [created] = Event.objects.filter(item=item)
        assert created.action == EventAction.CREATED
        assert created.after["deadline"] == "2026-12-31"
        assert created.after["deadline_source"] == "import"


def test_it_keeps_the_original_deadline_and_records_source_and_reason_of_each_change(item, staff):
    member = _member(item)

    # Assignment: the first deadline the item gets is its original one.
    _assigned(item, staff, reason="按评价报告要求设定")
    assert (item.deadline, item.original_deadline) == (FIRST, FIRST)
    assert (item.deadline_source, item.deadline_reason) == ("assignment", "按评价报告要求设定")
    after = _last_event(item).after
    assert after["deadline"] == "2026-12-31"
    assert (after["deadline_source"], after["deadline_reason"]) == (
        "assignment",
        "按评价报告要求设定",
    )

    # Bulk assignment, with the working days it was counted from.
    count = count_working_days(start=TODAY, days=30)
    assert count.date == BULK
    bulk.bulk_assign(
        items=[item], actor=staff, deadline=BULK, reason="统一按30个工作日整改", count=count
    )
    item.refresh_from_db()
    assert (item.deadline, item.original_deadline) == (BULK, FIRST)
    assert (item.deadline_source, item.deadline_reason) == ("bulk", "统一按30个工作日整改")
    assert (item.deadline_working_days, item.deadline_counted_from) == (30, TODAY)
    event = _last_event(item)
    assert event.action == EventAction.ASSIGNED
    assert event.before == {"deadline": "2026-12-31", "deadline_source": "assignment"}
    assert event.after["deadline_source"] == "bulk"
    assert event.after["deadline_reason"] == "统一按30个工作日整改"
    assert event.after["working_days"] == 30
    assert event.after["counted_from"] == "2026-12-03"

    # Extension approval: the request's reason is the deadline's reason; approvals are counted.
    services.decide_extension(
        extension=services.request_extension(
            item=item, actor=member, requested_deadline=EXTENDED, reason="跨部门协调需要时间"
        ),
        actor=staff,
        approve=True,
        note="同意",
    )
    item.refresh_from_db()
    assert (item.deadline, item.original_deadline) == (EXTENDED, FIRST)
    assert (item.deadline_source, item.deadline_reason) == ("extension", "跨部门协调需要时间")
    assert item.extensions_approved == 1
    assert item.deadline_working_days is None  # a plain date now
    event = _last_event(item)
    assert event.action == EventAction.EXTENSION_APPROVED
    assert event.before == {"deadline": "2027-01-15", "deadline_source": "bulk"}
    assert event.after["deadline"] == "2027-02-28"
    assert event.after["deadline_source"] == "extension"
    assert event.after["deadline_reason"] == "跨部门协调需要时间"

    # A second approval counts two.
    services.decide_extension(
        extension=services.request_extension(
            item=item,
            actor=member,
            requested_deadline=datetime.date(2027, 3, 31),
            reason="再次申请",
        ),
        actor=staff,
        approve=True,
    )
    item.refresh_from_db()
    assert item.extensions_approved == 2
    assert item.original_deadline == FIRST

    # Reopening with a new deadline: the reopening's reason is the deadline's reason.
    _closed_by_decision(item, staff, note="逾期未整改，按未整改销号")
    services.reopen(
        item=item,
        actor=staff,
        reason="复查发现整改不实",
        new_deadline=datetime.date(2027, 6, 30),
    )
    item.refresh_from_db()
    assert (item.deadline, item.original_deadline) == (datetime.date(2027, 6, 30), FIRST)
    assert (item.deadline_source, item.deadline_reason) == ("reopening", "复查发现整改不实")
    assert item.extensions_approved == 2
    event = _last_event(item)
    assert event.action == EventAction.REOPENED
    assert event.after["deadline"] == "2027-06-30"
    assert event.after["deadline_source"] == "reopening"
    assert event.after["deadline_reason"] == "复查发现整改不实"


def test_it_writes_no_deadline_change_when_only_the_owner_changes(item, staff):
    _extended(item, staff)
    owner = factories.UnitStaffFactory(unit=item.unit)

    services.assign(item=item, actor=staff, owner=owner, deadline=EXTENDED)

    item.refresh_from_db()
    assert (item.deadline, item.deadline_source, item.extensions_approved) == (
        EXTENDED,
        "extension",
        1,
    )
    event = _last_event(item)
    assert set(event.after) == {"owner", "owner_name"}


# --- 2. a deadline in the past is refused ---------------------------------------------------------


def test_it_refuses_a_deadline_in_the_past_and_saves_nothing(item, staff):
    _assigned(item, staff)
    before = _snapshot(item)

    with pytest.raises(ValidationError) as refused:
        services.assign(
            item=item, actor=staff, owner=None, deadline=datetime.date(2026, 1, 1), reason="x"
        )

    assert refused.value.code == "past"
    assert "整改时限不能早于今天（2026-01-01）" in refused.value.messages[0]
    assert _snapshot(item) == before


def test_it_accepts_today_as_a_deadline(item, staff):
    _assigned(item, staff, deadline=TODAY)
    assert item.deadline == TODAY


def test_it_refuses_a_past_deadline_on_reopening(item, staff):
    _closed_by_decision(item, staff, note="按未整改销号")
    before = _snapshot(item)

    with pytest.raises(ValidationError, match="整改时限不能早于今天"):
        services.reopen(
            item=item, actor=staff, reason="复查", new_deadline=datetime.date(2026, 11, 1)
        )

    assert _snapshot(item) == before


def test_it_refuses_a_past_deadline_on_the_item_page_with_a_message_and_saves_nothing(client, item):
    client.force_login(factories.StaffUserFactory())
    before = _snapshot(item)

    response = client.post(
        reverse("rectification:item-assign", kwargs={"pk": item.pk}),
        {"version": item.version, "owner": "", "deadline": "2026-01-01"},
    )

    assert response.status_code == 400
    assert "整改时限不能早于今天（2026-01-01）。" in response.content.decode()
    assert _snapshot(item) == before


# --- 3. changes that need a reason ---------------------------------------------------------------


def test_it_needs_a_reason_to_shorten_an_approved_extension(item, staff):
    _extended(item, staff)
    before = _snapshot(item)

    with pytest.raises(ValidationError) as refused:
        services.assign(item=item, actor=staff, owner=None, deadline=BULK)
    assert refused.value.code == "reason_needed"
    assert "调整此整改时限须说明原因：将缩短已批准的延期" in refused.value.messages[0]
    assert _snapshot(item) == before

    services.assign(item=item, actor=staff, owner=None, deadline=BULK, reason="领导要求提前完成")

    item.refresh_from_db()
    assert (item.deadline, item.deadline_source, item.deadline_reason) == (
        BULK,
        "assignment",
        "领导要求提前完成",
    )
    event = _last_event(item)
    assert event.after["concerns"] == [DeadlineConcern.SHORTENS_EXTENSION]
    assert event.after["deadline_reason"] == "领导要求提前完成"
    assert event.note == "领导要求提前完成"


def test_it_needs_no_reason_to_go_beyond_an_approved_extension(item, staff):
    _extended(item, staff)

    services.assign(item=item, actor=staff, owner=None, deadline=datetime.date(2027, 3, 31))

    item.refresh_from_db()
    assert item.deadline == datetime.date(2027, 3, 31)


@pytest.mark.parametrize("new", [datetime.date(2026, 12, 20), BULK, None], ids=str)
def test_it_needs_a_reason_for_any_deadline_change_while_an_extension_request_waits(
    item, staff, new
):
    _assigned(item, staff)
    _request(item)
    before = _snapshot(item)

    with pytest.raises(ValidationError, match="有延期申请待审批"):
        services.assign(item=item, actor=staff, owner=None, deadline=new)
    assert _snapshot(item) == before

    services.assign(item=item, actor=staff, owner=None, deadline=new, reason="统一调整")

    item.refresh_from_db()
    assert item.deadline == new
    assert _last_event(item).after["concerns"] == [DeadlineConcern.EXTENSION_PENDING]


@pytest.mark.parametrize("new", [TODAY, BULK, None], ids=str)
def test_it_needs_a_reason_to_give_an_overdue_item_a_later_deadline(staff, new):
    late = _overdue()
    before = _snapshot(late)

    with pytest.raises(ValidationError, match="事项已逾期，延后时限将解除逾期"):
        services.assign(item=late, actor=staff, owner=None, deadline=new)
    assert _snapshot(late) == before

    services.assign(item=late, actor=staff, owner=None, deadline=new, reason="单位已说明情况")

    late.refresh_from_db()
    assert late.deadline == new
    assert late.original_deadline == datetime.date(2026, 11, 30)
    assert _last_event(late).after["concerns"] == [DeadlineConcern.ENDS_OVERDUE]


def test_it_needs_no_reason_to_change_only_the_owner_of_an_overdue_item(staff):
    late = _overdue()
    owner = factories.UnitStaffFactory(unit=late.unit)

    services.assign(item=late, actor=staff, owner=owner, deadline=late.deadline)

    late.refresh_from_db()
    assert (late.owner, late.deadline) == (owner, datetime.date(2026, 11, 30))


def test_it_asks_for_the_reason_on_the_item_page_and_saves_it(client, item, staff):
    _extended(item, staff)
    client.force_login(staff.user)
    url = reverse("rectification:item-assign", kwargs={"pk": item.pk})

    refused = client.post(url, {"version": item.version, "owner": "", "deadline": "2027-01-15"})
    assert refused.status_code == 400
    assert "调整此整改时限须说明原因" in refused.content.decode()
    item.refresh_from_db()
    assert item.deadline == EXTENDED

    saved = client.post(
        url,
        {"version": item.version, "owner": "", "deadline": "2027-01-15", "reason": "提前完成"},
    )
    assert saved.status_code == 302
    item.refresh_from_db()
    assert (item.deadline, item.deadline_reason) == (BULK, "提前完成")


# --- 4. deciding an extension that is no longer an extension --------------------------------------


def test_it_refuses_to_approve_a_request_no_later_than_the_deadline_but_rejects_it(item, staff):
    _assigned(item, staff)
    request = _request(item)  # 2027-01-08, while the deadline is 2026-12-31
    services.assign(item=item, actor=staff, owner=None, deadline=BULK, reason="统一调整")
    before = _snapshot(item)

    with pytest.raises(ValidationError) as refused:
        services.decide_extension(extension=request, actor=staff, approve=True)

    assert refused.value.code == "moot"
    assert "申请的日期（2027-01-08）已不晚于当前整改时限（2027-01-15）" in refused.value.messages[0]
    assert _snapshot(item) == before
    request.refresh_from_db()
    assert request.status == ExtensionStatus.PENDING

    services.decide_extension(
        extension=request, actor=staff, approve=False, note="整改时限已统一延至2027-01-15"
    )

    request.refresh_from_db()
    item.refresh_from_db()
    assert request.status == ExtensionStatus.REJECTED
    assert (item.deadline, item.extensions_approved) == (BULK, 0)
    assert _last_event(item).action == EventAction.EXTENSION_REJECTED


def test_it_shows_on_the_item_page_why_the_approval_is_refused(client, item, staff):
    _assigned(item, staff)
    request = _request(item)
    services.assign(item=item, actor=staff, owner=None, deadline=BULK, reason="统一调整")
    item.refresh_from_db()
    client.force_login(staff.user)

    response = client.post(
        reverse(
            "rectification:item-extension-decide",
            kwargs={"pk": item.pk},
        ),
        {"version": item.version, "decision": "approve", "note": ""},
    )

    assert response.status_code == 400
    assert "已不晚于当前整改时限" in response.content.decode()
    request.refresh_from_db()
    assert request.status == ExtensionStatus.PENDING


# --- 5. the defects of the issue, as they were seen ----------------------------------------------


@pytest.fixture
def demo(staff):
    """The items of the issue: one with an approved extension to 2027-02-28, two with a request
    to 2027-01-08 pending, one overdue, one plain."""
    unit = factories.UnitFactory()

    def make(**kwargs):  # type: ignore[no-untyped-def]
        return factories.ItemFactory(recommendation__finding__result__project__unit=unit, **kwargs)

    extended = _extended(make(), staff)
    pending = [_assigned(make(), staff) for _ in range(2)]
    requests = [_request(item) for item in pending]
    overdue = _overdue(recommendation__finding__result__project__unit=unit)
    plain = make()
    return {
        "extended": extended,
        "pending": pending,
        "requests": requests,
        "overdue": overdue,
        "plain": plain,
        "all": [extended, *pending, overdue, plain],
    }


def _fresh(items: list[RectificationItem]) -> list[RectificationItem]:
    return list(RectificationItem.objects.filter(pk__in=[i.pk for i in items]).order_by("pk"))


def test_it_warns_in_bulk_about_an_approved_extension_and_leaves_it_unless_ticked(demo, staff):
    plan = {c.item.pk: c for c in bulk.plan_assignments(items=_fresh(demo["all"]), deadline=BULK)}

    assert plan[demo["extended"].pk].concerns == (DeadlineConcern.SHORTENS_EXTENSION,)
    assert plan[demo["extended"].pk].skip == bulk.Skip.NOT_TICKED
    for item in demo["pending"]:
        assert plan[item.pk].concerns == (DeadlineConcern.EXTENSION_PENDING,)
        assert plan[item.pk].skip == bulk.Skip.NOT_TICKED
    assert plan[demo["overdue"].pk].concerns == (DeadlineConcern.ENDS_OVERDUE,)
    assert plan[demo["plain"].pk].concerns == ()
    assert plan[demo["plain"].pk].skip is None

    applied = bulk.bulk_assign(items=_fresh(demo["all"]), actor=staff, deadline=BULK)

    assert [c.item.pk for c in applied] == [demo["plain"].pk]
    extended = RectificationItem.objects.get(pk=demo["extended"].pk)
    assert (extended.deadline, extended.deadline_source) == (EXTENDED, "extension")
    overdue = RectificationItem.objects.get(pk=demo["overdue"].pk)
    assert overdue.deadline == datetime.date(2026, 11, 30)  # still overdue, not let off


def test_it_refuses_a_ticked_item_without_a_reason_and_saves_nothing(demo, staff):
    before = [_snapshot(item) for item in demo["all"]]

    with pytest.raises(ValidationError, match="调整此整改时限须说明原因：将缩短已批准的延期"):
        bulk.bulk_assign(
            items=_fresh(demo["all"]),
            actor=staff,
            deadline=BULK,
            include=[demo["extended"].pk],
        )

    assert [_snapshot(item) for item in demo["all"]] == before  # the plain item neither


def test_it_gives_a_ticked_item_the_new_deadline_and_the_reason(demo, staff):
    bulk.bulk_assign(
        items=_fresh(demo["all"]),
        actor=staff,
        deadline=BULK,
        include=[demo["extended"].pk],
        reason="区政府要求春节前完成整改",
    )

    extended = RectificationItem.objects.get(pk=demo["extended"].pk)
    assert (extended.deadline, extended.original_deadline) == (BULK, FIRST)
    assert (extended.deadline_source, extended.deadline_reason) == (
        "bulk",
        "区政府要求春节前完成整改",
    )
    assert extended.extensions_approved == 1  # the approval happened; the count stays
    event = _last_event(extended)
    assert event.before == {"deadline": "2027-02-28", "deadline_source": "extension"}
    assert event.after["concerns"] == [DeadlineConcern.SHORTENS_EXTENSION]
    assert event.after["deadline_reason"] == "区政府要求春节前完成整改"
    # The items that were not ticked kept their deadlines.
    for item in demo["pending"]:
        assert RectificationItem.objects.get(pk=item.pk).deadline == FIRST


def test_it_refuses_after_a_bulk_change_to_approve_a_request_moving_the_deadline_back(demo, staff):
    bulk.bulk_assign(
        items=_fresh(demo["all"]),
        actor=staff,
        deadline=BULK,
        include=[item.pk for item in demo["pending"]],
        reason="统一延至2027-01-15",
    )
    for item in demo["pending"]:
        assert RectificationItem.objects.get(pk=item.pk).deadline == BULK

    for request in demo["requests"]:
        with pytest.raises(ValidationError, match="批准将缩短"):
            services.decide_extension(extension=request, actor=staff, approve=True)
        services.decide_extension(
            extension=request, actor=staff, approve=False, note="已统一延至2027-01-15"
        )

    for item, request in zip(demo["pending"], demo["requests"], strict=True):
        item.refresh_from_db()
        request.refresh_from_db()
        assert (item.deadline, item.extensions_approved) == (BULK, 0)
        assert request.status == ExtensionStatus.REJECTED
