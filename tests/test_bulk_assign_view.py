"""The bulk assignment page: select (filters or ticked rows) → choose → preview → confirm."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from rectification import services
from rectification.choices import EventAction, ItemStatus
from rectification.models import Event, RectificationItem
from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("rectification:bulk-assign")
# Monday 28 September 2020, the week before the National Day holidays (1–8 October).
MONDAY = datetime.datetime(2020, 9, 28, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture
def year_2020():
    """Two units with two 2020 items each, one 2019 item; each unit has one staff member."""
    units = [factories.UnitFactory(), factories.UnitFactory()]
    items = [
        factories.ItemFactory(recommendation__finding__result__project__unit=unit)
        for unit in units
        for _ in range(2)
    ]
    old = factories.ItemFactory(
        recommendation__finding__result__round=factories.RoundFactory(year=2019)
    )
    members = [factories.UnitStaffFactory(unit=unit) for unit in units]
    return {"units": units, "items": items, "old": old, "members": members}


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def _owner_fields(year_2020: dict, *, keep: bool = False) -> dict[str, str]:
    return {
        f"owner_{unit.pk}": "" if keep else str(member.pk)
        for unit, member in zip(year_2020["units"], year_2020["members"], strict=True)
    }


def _versions(page: str) -> str:
    match = re.search(r'name="versions" value="([^"]*)"', page)
    assert match, "the preview must carry the versions it showed"
    return match.group(1)


def test_it_selects_a_years_items_by_filter_and_suggests_each_units_staff_member(
    client, staff, year_2020
):
    response = client.get(URL, {"year": 2020})

    assert response.status_code == 200
    selection = response.context["selection"]
    assert {item.pk for item in selection.items} == {item.pk for item in year_2020["items"]}
    form = response.context["form"]
    for unit, member in zip(year_2020["units"], year_2020["members"], strict=True):
        assert form[f"owner_{unit.pk}"].value() == str(member.pk)


def test_it_selects_ticked_rows_only(client, staff, year_2020):
    ticked = year_2020["items"][:3:2]

    response = client.get(URL, {"items": [item.pk for item in ticked]})

    assert {item.pk for item in response.context["selection"].items} == {item.pk for item in ticked}


def test_it_asks_for_a_selection_before_anything_else(client, staff, year_2020):
    response = client.get(URL)

    assert response.status_code == 200
    assert response.context["selection"] is None
    assert 'id="select-items"' in response.content.decode()


def test_its_preview_shows_the_changes_and_writes_nothing(client, staff, year_2020):
    data = {**_owner_fields(year_2020), "working_days": 30, "step": "preview"}

    response = client.post(f"{URL}?year=2020", data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "2020-11-16" in page  # 30 working days from Monday 28 September 2020
    assert len(response.context["changing"]) == 4
    assert not Event.objects.filter(action=EventAction.ASSIGNED).exists()
    assert set(RectificationItem.objects.values_list("deadline", flat=True)) == {None}


def test_it_assigns_owners_and_a_30_working_day_deadline_to_a_whole_year_on_confirm(
    client, staff, year_2020
):
    data = {**_owner_fields(year_2020), "working_days": 30}
    preview = client.post(f"{URL}?year=2020", {**data, "step": "preview"})

    response = client.post(
        f"{URL}?year=2020",
        {**data, "step": "confirm", "versions": _versions(preview.content.decode())},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("rectification:ledger") + "?year=2020"
    for item in year_2020["items"]:
        item.refresh_from_db()
        member = year_2020["members"][year_2020["units"].index(item.unit)]
        assert (item.owner, item.deadline) == (member, datetime.date(2020, 11, 16))
        [event] = Event.objects.filter(item=item, action=EventAction.ASSIGNED)
        assert event.actor == staff
    year_2020["old"].refresh_from_db()
    assert year_2020["old"].deadline is None  # 2019 was not selected
    assert not Event.objects.filter(item=year_2020["old"]).exists()


def test_it_refuses_to_confirm_when_the_selection_changed_since_the_preview(
    client, staff, year_2020
):
    data = {"deadline": "2020-12-31"}
    preview = client.post(f"{URL}?year=2020", {**data, "step": "preview"})
    factories.ItemFactory(
        recommendation__finding__result__project__unit=year_2020["units"][0]
    )  # a new 2020 item appears

    response = client.post(
        f"{URL}?year=2020",
        {**data, "step": "confirm", "versions": _versions(preview.content.decode())},
    )

    assert response.status_code == 400
    assert "预览" in response.content.decode()
    assert not Event.objects.filter(action=EventAction.ASSIGNED).exists()


def test_it_changes_nothing_when_an_item_was_edited_since_the_preview(client, staff, year_2020):
    data = {"deadline": "2020-12-31"}
    preview = client.post(f"{URL}?year=2020", {**data, "step": "preview"})
    edited = year_2020["items"][1]
    services.assign(
        item=edited,
        actor=services.Actor(user=staff),
        owner=None,
        deadline=datetime.date(2020, 10, 30),
    )

    response = client.post(
        f"{URL}?year=2020",
        {**data, "step": "confirm", "versions": _versions(preview.content.decode())},
    )

    assert response.status_code == 400
    assert "已被他人修改" in response.content.decode()
    assert Event.objects.filter(action=EventAction.ASSIGNED).count() == 1  # the colleague's
    assert {
        item.deadline for item in RectificationItem.objects.filter(unit__in=year_2020["units"])
    } == {None, datetime.date(2020, 10, 30)}


def test_it_skips_closed_items_in_the_preview_and_on_confirm(client, staff, year_2020):
    closed = year_2020["items"][0]
    factories.force_update(
        RectificationItem.objects.filter(pk=closed.pk),
        status=ItemStatus.CLOSED,
        closure_outcome="not_rectified",
    )
    data = {"deadline": "2020-12-31"}
    preview = client.post(f"{URL}?year=2020", {**data, "step": "preview"})
    assert [c.item.pk for c in preview.context["skipped"]] == [closed.pk]

    client.post(
        f"{URL}?year=2020",
        {**data, "step": "confirm", "versions": _versions(preview.content.decode())},
    )

    closed.refresh_from_db()
    assert closed.deadline is None
    assert Event.objects.filter(action=EventAction.ASSIGNED).count() == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "至少为一个单位选择责任人"),
        ({"deadline": "2020-09-01"}, "不能早于今天"),
        ({"deadline": "2020-12-31", "working_days": 5}, "二选一"),
        ({"working_days": 30, "working_days_from": "2099-01-01"}, "2099年"),
    ],
)
def test_it_refuses_bad_choices_with_a_message_and_writes_nothing(
    client, staff, year_2020, data, message
):
    response = client.post(f"{URL}?year=2020", {**data, "step": "preview"})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Event.objects.filter(action=EventAction.ASSIGNED).exists()


@pytest.mark.parametrize(
    "factory", [factories.UnitStaffFactory, factories.UnitHeadFactory, factories.OversightFactory]
)
def test_it_is_for_evaluation_staff_only(client, year_2020, factory):
    client.force_login(
        factory(unit=year_2020["units"][0]) if factory != factories.OversightFactory else factory()
    )

    assert client.get(URL, {"year": 2020}).status_code == 403
    response = client.post(
        f"{URL}?year=2020", {"deadline": "2020-12-31", "step": "confirm", "versions": ""}
    )

    assert response.status_code == 403
    assert not Event.objects.filter(action=EventAction.ASSIGNED).exists()


def test_it_sends_anonymous_visitors_to_the_login_page(client, year_2020):
    response = client.get(URL, {"year": 2020})
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_it_refuses_a_selection_larger_than_the_limit(client, staff, year_2020, monkeypatch):
    monkeypatch.setattr("rectification.bulk.MAX_ITEMS", 3)

    response = client.get(URL, {"year": 2020})

    assert response.context["selection"].too_many
    assert response.context["form"] is None
    assert 'id="too-many"' in response.content.decode()


def test_the_ledger_offers_staff_the_bulk_action_and_units_not(client, year_2020):
    ledger = reverse("rectification:ledger")
    client.force_login(factories.StaffUserFactory())
    page = client.get(ledger, {"year": 2020}).content.decode()
    assert 'name="items"' in page
    assert f'href="{URL}?year=2020"' in page

    client.force_login(year_2020["members"][0])
    page = client.get(ledger).content.decode()
    assert 'name="items"' not in page
    assert URL not in page


def test_its_query_count_is_the_same_for_1_and_50_items(client, staff):
    unit = factories.UnitFactory()
    factories.UnitStaffFactory(unit=unit)

    def make(n: int) -> None:
        factories.ItemFactory.create_batch(n, recommendation__finding__result__project__unit=unit)

    make(1)
    client.get(URL, {"year": 2020})  # the session's first request also writes the session

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, {"year": 2020}).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    make(49)
    assert count() == one


def test_it_links_to_the_back_office_when_the_count_reaches_a_year_without_a_calendar(
    client, staff, year_2020
):
    response = client.post(
        f"{URL}?year=2020",
        {"working_days": 30, "working_days_from": "2099-06-01", "step": "preview"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert f'href="{reverse("admin:calendars_calendaryear_add")}?year=2099"' in page
    assert "在后台录入 2099 年的放假日和调休上班日" in page


@pytest.mark.parametrize("value", ["²", "１２", "9" * 30, "-1", "abc"])
def test_it_ignores_ticked_ids_that_are_not_plain_numbers(client, staff, year_2020, value):
    items = year_2020["items"]
    response = client.get(URL, {"items": [value, str(items[0].pk)]})
    assert response.status_code == 200
    assert [item.pk for item in response.context["selection"].items] == [items[0].pk]


def test_its_owner_lists_say_who_is_unit_staff_and_who_is_unit_head(client, staff, year_2020):
    unit = year_2020["units"][0]
    factories.UnitHeadFactory(unit=unit, full_name="周建国")
    response = client.get(URL, {"year": 2020})
    page = response.content.decode()
    member = year_2020["members"][0]
    assert f"{member.display_name}（{Role.UNIT_STAFF.label}）" in page  # 单位经办人
    assert f"周建国（{Role.UNIT_HEAD.label}）" in page


# --- items that need attention: an approved extension, a pending request, an overdue item ------


@pytest.fixture
def extended(staff, year_2020):
    """The first 2020 item: deadline 2020-10-30, then an extension to 2020-12-31 approved."""
    item = year_2020["items"][0]
    actor = services.Actor(user=staff)
    services.assign(item=item, actor=actor, owner=None, deadline=datetime.date(2020, 10, 30))
    request = services.request_extension(
        item=item,
        actor=services.Actor(user=year_2020["members"][0]),
        requested_deadline=datetime.date(2020, 12, 31),
        reason="需跨部门协调。",
    )
    services.decide_extension(extension=request, actor=actor, approve=True)
    item.refresh_from_db()
    return item


def _row(page: str, item: RectificationItem) -> str:
    match = re.search(rf'<tr data-item="{item.pk}"[^>]*>.*?</tr>', page, re.S)
    assert match, f"the preview must show item #{item.pk}"
    return match.group(0)


def test_it_shows_in_the_preview_which_items_need_attention_unticked(client, staff, extended):
    response = client.post(f"{URL}?year=2020", {"deadline": "2020-11-30", "step": "preview"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="attention"' in page
    assert "1 项需要留意：调整时限会推翻已有的决定或解除逾期" in page
    row = _row(page, extended)
    assert "table-warning" in row
    assert "将缩短已批准的延期" in row
    assert "<del>2020-12-31</del> → <strong>2020-11-30</strong>" in row
    checkbox = re.search(r'<input[^>]*name="include"[^>]*>', row)
    assert checkbox, "a box to tick the item"
    assert f'value="{extended.pk}"' in checkbox.group(0)
    assert "checked" not in checkbox.group(0)
    assert 'id="reason-field"' in page
    assert [c.item.pk for c in response.context["attention"]] == [extended.pk]
    assert extended.pk not in [c.item.pk for c in response.context["changing"]]


def test_it_shows_each_concern_of_a_row(client, staff, year_2020):
    pending = year_2020["items"][1]
    actor = services.Actor(user=staff)
    services.assign(item=pending, actor=actor, owner=None, deadline=datetime.date(2020, 10, 30))
    services.request_extension(
        item=pending,
        actor=services.Actor(user=year_2020["members"][0]),
        requested_deadline=datetime.date(2020, 11, 20),
        reason="需跨部门协调。",
    )
    overdue = year_2020["items"][2]
    RectificationItem.objects.filter(pk=overdue.pk).update(
        deadline=datetime.date(2020, 9, 25), original_deadline=datetime.date(2020, 9, 25)
    )

    page = client.post(
        f"{URL}?year=2020", {"deadline": "2020-11-30", "step": "preview"}
    ).content.decode()

    assert "有延期申请待审批" in _row(page, pending)
    assert "事项已逾期，延后时限将解除逾期" in _row(page, overdue)
    plain = _row(page, year_2020["items"][3])
    assert 'name="include"' not in plain
    assert "table-warning" not in plain


def test_it_leaves_an_item_that_needs_attention_unchanged_unless_ticked(client, staff, extended):
    data = {"deadline": "2020-11-30"}
    preview = client.post(f"{URL}?year=2020", {**data, "step": "preview"})

    response = client.post(
        f"{URL}?year=2020",
        {**data, "step": "confirm", "versions": _versions(preview.content.decode())},
    )

    assert response.status_code == 302
    extended.refresh_from_db()
    assert (extended.deadline, extended.deadline_source) == (
        datetime.date(2020, 12, 31),
        "extension",
    )
    others = RectificationItem.objects.filter(round_year=2020).exclude(pk=extended.pk)
    assert {item.deadline for item in others} == {datetime.date(2020, 11, 30)}


def test_it_refuses_a_ticked_item_without_a_reason_and_saves_nothing(client, staff, extended):
    data = {"deadline": "2020-11-30"}
    preview = client.post(f"{URL}?year=2020", {**data, "step": "preview"})
    events = Event.objects.count()

    response = client.post(
        f"{URL}?year=2020",
        {
            **data,
            "step": "confirm",
            "include": [extended.pk],
            "versions": _versions(preview.content.decode()),
        },
    )

    assert response.status_code == 400
    assert "请为勾选的需留意事项填写原因，或取消勾选。" in response.content.decode()
    assert Event.objects.count() == events
    extended.refresh_from_db()
    assert extended.deadline == datetime.date(2020, 12, 31)
    assert set(
        RectificationItem.objects.exclude(pk=extended.pk).values_list("deadline", flat=True)
    ) == {None}


def test_it_changes_a_ticked_item_with_the_reason_given(client, staff, extended):
    data = {"deadline": "2020-11-30"}
    preview = client.post(f"{URL}?year=2020", {**data, "step": "preview"})

    response = client.post(
        f"{URL}?year=2020",
        {
            **data,
            "step": "confirm",
            "include": [extended.pk],
            "reason": "区里要求年底前完成",
            "versions": _versions(preview.content.decode()),
        },
    )

    assert response.status_code == 302
    extended.refresh_from_db()
    assert (extended.deadline, extended.deadline_source, extended.deadline_reason) == (
        datetime.date(2020, 11, 30),
        "bulk",
        "区里要求年底前完成",
    )
    event = Event.objects.filter(item=extended).order_by("-id").first()
    assert event.action == EventAction.ASSIGNED
    assert event.after["concerns"] == ["shortens_extension"]
    assert event.note == "区里要求年底前完成"
    assert (
        RectificationItem.objects.filter(
            round_year=2020, deadline=datetime.date(2020, 11, 30)
        ).count()
        == 4
    )
