"""A leader's instruction on a whole unit (领导批示), recorded from its supervision slip: one
record and one event on each of the unit's open problems of the round, nothing elsewhere;
shown at the top of each item page; refused whole on bad input."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from rectification.choices import ClosureOutcome, EventAction, ItemStatus, SupervisionKind
from rectification.models import Event, RectificationItem, SupervisionRecord
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
TEXT = "请区财政局跟踪督办，确保本单位年底前全部整改到位。"


@pytest.fixture
def unit_items():
    unit = factories.UnitFactory(short_name="批示测试局")
    result = factories.ResultFactory(project__unit=unit)

    def item(number: int, **kwargs) -> RectificationItem:  # type: ignore[no-untyped-def]
        return factories.ItemFactory(
            recommendation__finding__result=result,
            recommendation__finding__number=number,
            deadline=TODAY - datetime.timedelta(days=3),
            **kwargs,
        )

    open_one, open_two = item(1), item(2, status=ItemStatus.IN_PROGRESS)
    closed = item(3, status=ItemStatus.CLOSED, closure_outcome=ClosureOutcome.RECTIFIED)
    elsewhere = factories.ItemFactory(deadline=TODAY)  # another unit
    return unit, result.round.year, (open_one, open_two), closed, elsewhere


def _url(unit, year: int) -> str:  # type: ignore[no-untyped-def]
    return reverse("dashboard:unit-instruction", args=[unit.pk, year])


def _post(client, unit, year, **fields):  # type: ignore[no-untyped-def]
    data = {"happened_on": TODAY.isoformat(), "person": "区政府 分管副区长", "text": TEXT}
    return client.post(_url(unit, year), {**data, **fields})


def test_staff_record_it_on_each_open_problem_of_the_unit(client, unit_items):
    unit, year, open_items, closed, elsewhere = unit_items
    client.force_login(factories.StaffUserFactory())
    response = _post(client, unit, year, document="荔府办批〔2026〕20号")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:supervision-slip", args=[unit.pk, year])
    records = SupervisionRecord.objects.order_by("item_id")
    assert [r.item_id for r in records] == [i.pk for i in open_items]
    assert {(r.kind, r.text, r.document) for r in records} == {
        (SupervisionKind.INSTRUCTION, TEXT, "荔府办批〔2026〕20号")
    }
    events = Event.objects.filter(action=EventAction.SUPERVISION_RECORDED)
    assert sorted(events.values_list("item_id", flat=True)) == [i.pk for i in open_items]
    assert not SupervisionRecord.objects.filter(item__in=[closed, elsewhere]).exists()


def test_the_unit_reads_it_at_the_top_of_its_item_pages(client, unit_items):
    unit, year, open_items, _closed, _elsewhere = unit_items
    client.force_login(factories.StaffUserFactory())
    _post(client, unit, year)
    client.force_login(factories.UnitStaffFactory(unit=unit))
    page = client.get(reverse("rectification:item-detail", args=[open_items[0].pk]))
    assert TEXT in page.content.decode().split('id="main"', 1)[1][:6000]


def test_the_slip_offers_the_form_to_evaluation_staff_only(client, unit_items):
    unit, year, *_ = unit_items
    client.force_login(factories.StaffUserFactory())
    slip = reverse("dashboard:supervision-slip", args=[unit.pk, year])
    assert 'id="unit-instruction"' in client.get(slip).content.decode()
    client.force_login(factories.OversightFactory())
    assert 'id="unit-instruction"' not in client.get(slip).content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": ""}, "text"),
        ({"person": ""}, "person"),
        ({"happened_on": (TODAY + datetime.timedelta(days=1)).isoformat()}, None),
    ],
)
def test_bad_input_records_nothing(client, unit_items, fields, message):
    unit, year, *_ = unit_items
    client.force_login(factories.StaffUserFactory())
    response = _post(client, unit, year, **fields)
    assert response.status_code == 400
    form = response.context["instruction_form"]
    assert (message in form.errors) if message else form.non_field_errors()
    assert not SupervisionRecord.objects.exists()
    assert not Event.objects.filter(action=EventAction.SUPERVISION_RECORDED).exists()


def test_a_unit_with_everything_closed_is_told_so(client, unit_items):
    unit, year, open_items, *_ = unit_items
    factories.force_update(
        RectificationItem.objects.filter(pk__in=[i.pk for i in open_items]),
        status=ItemStatus.CLOSED,
        closure_outcome=ClosureOutcome.RECTIFIED,
    )
    client.force_login(factories.StaffUserFactory())
    response = _post(client, unit, year)
    assert response.status_code == 400
    assert "均已销号" in response.content.decode()


def test_oversight_and_units_cannot_record_it(client, unit_items):
    unit, year, *_ = unit_items
    client.force_login(factories.OversightFactory())
    assert _post(client, unit, year).status_code == 403
    client.force_login(factories.UnitHeadFactory(unit=unit))
    assert _post(client, unit, year).status_code == 404
    assert not SupervisionRecord.objects.exists()
