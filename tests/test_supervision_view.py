"""The escalation ladder's recorded steps (约谈, 通报, 问责, 领导批示): staff record each on an
item with one event; the item page shows them, a leader's instruction at the top for everyone;
units cannot record them."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from rectification import services
from rectification.choices import EventAction, ItemStatus, SupervisionKind
from rectification.models import Event, SupervisionRecord
from tests import factories, workflow

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def owned():
    return workflow.owned_item(deadline=TODAY - datetime.timedelta(days=20))


@pytest.fixture
def staff():
    return factories.StaffUserFactory()


def _record(item, who, kind: str, **fields):  # type: ignore[no-untyped-def]
    return services.record_supervision(
        item=item,
        actor=workflow.actor(who),
        kind=kind,
        happened_on=fields.pop("happened_on", TODAY),
        person=fields.pop("person", "区财政局 李局长"),
        **fields,
    )


@pytest.mark.parametrize("kind", SupervisionKind.values)
def test_each_step_is_recorded_once_with_one_event(owned, staff, kind):
    item, _owner = owned
    record = _record(item, staff, kind, document="荔财绩〔2026〕8号", text="限期完成整改。")

    events = Event.objects.filter(item=item, action=EventAction.SUPERVISION_RECORDED)
    assert events.count() == 1
    assert events.get().after == {
        "kind": kind,
        "date": TODAY.isoformat(),
        "person": "区财政局 李局长",
        "document": "荔财绩〔2026〕8号",
    }
    assert events.get().note == "限期完成整改。"
    assert list(SupervisionRecord.objects.filter(item=item)) == [record]
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN  # a step changes nobody's move


def test_a_step_may_follow_the_closure(owned, staff):
    item, owner = owned
    workflow.closed(workflow.submitted(item, owner, staff))
    _record(item, staff, SupervisionKind.ACCOUNTABILITY, text="对相关责任人诫勉谈话。")
    assert SupervisionRecord.objects.filter(item=item).count() == 1


def test_it_refuses_what_is_incomplete_and_writes_nothing(owned, staff):
    item, _owner = owned
    cases = [
        ({"kind": SupervisionKind.INSTRUCTION, "text": " "}, "required"),
        ({"kind": SupervisionKind.INTERVIEW, "person": ""}, "required"),
        ({"kind": "meeting"}, "kind"),
        (
            {"kind": SupervisionKind.CIRCULAR, "happened_on": TODAY + datetime.timedelta(days=1)},
            "future",
        ),
    ]
    for fields, code in cases:
        kind = fields.pop("kind")
        with pytest.raises(ValidationError) as refused:
            _record(item, staff, kind, **fields)
        assert refused.value.code == code
    assert not SupervisionRecord.objects.exists()
    assert not Event.objects.filter(action=EventAction.SUPERVISION_RECORDED).exists()


def test_units_and_oversight_cannot_record_a_step(owned):
    item, owner = owned
    for who in (owner, factories.UnitHeadFactory(unit=item.unit), factories.OversightFactory()):
        with pytest.raises(PermissionDenied):
            _record(item, who, SupervisionKind.INTERVIEW)
    assert not SupervisionRecord.objects.exists()


def _url(item) -> str:  # type: ignore[no-untyped-def]
    return reverse("rectification:item-supervision", kwargs={"pk": item.pk})


def _detail(item) -> str:  # type: ignore[no-untyped-def]
    return reverse("rectification:item-detail", kwargs={"pk": item.pk})


def test_staff_record_a_step_from_the_item_page(client, owned, staff):
    item, _owner = owned
    client.force_login(staff)
    page = client.get(_detail(item)).content.decode()
    assert _url(item) in page  # the panel is offered to staff

    response = client.post(
        _url(item),
        {
            "version": item.version,
            "kind": SupervisionKind.INTERVIEW,
            "happened_on": TODAY.isoformat(),
            "person": "区财政局 李局长",
            "document": "",
            "text": "约谈单位主要负责人，要求一个月内完成整改。",
        },
    )
    assert response.status_code == 302
    page = client.get(_detail(item)).content.decode()
    assert 'data-step="interview"' in page and "约谈单位主要负责人" in page
    assert "约谈" in page  # in the history, in words


def test_an_invalid_step_is_shown_again_with_its_error(client, owned, staff):
    item, _owner = owned
    client.force_login(staff)
    response = client.post(
        _url(item),
        {
            "version": item.version,
            "kind": SupervisionKind.INSTRUCTION,
            "happened_on": TODAY.isoformat(),
            "person": "区长",
            "text": "",
        },
    )
    assert response.status_code == 400
    assert "请填写" in response.content.decode()
    assert not SupervisionRecord.objects.exists()


def test_a_leaders_instruction_heads_the_item_page_for_the_unit_too(client, owned, staff):
    item, owner = owned
    _record(
        item,
        staff,
        SupervisionKind.INSTRUCTION,
        person="区政府 王副区长",
        text="请区财政局跟踪督办，确保年底前整改到位。",
    )
    client.force_login(owner)
    page = client.get(_detail(item)).content.decode()
    instruction = page.index("data-instruction")
    assert "请区财政局跟踪督办" in page[instruction : instruction + 600]
    assert instruction < page.index('id="item-deadline"')  # above the ledger card
    assert _url(item) not in page  # the unit has no panel to record steps
    assert client.post(_url(item), {"version": item.version}).status_code == 403
