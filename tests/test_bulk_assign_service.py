"""rectification.bulk: plan and apply owner/deadline for many items, one event per item."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rectification import bulk, services
from rectification.choices import EventAction, ItemStatus
from rectification.models import Event, RectificationItem
from tests import factories

pytestmark = pytest.mark.django_db
DEADLINE = datetime.date(2031, 6, 30)


@pytest.fixture
def world():
    """Two units, three items each; a staff actor; each unit's staff member."""
    unit_a, unit_b = factories.UnitFactory(), factories.UnitFactory()
    items_a = [
        factories.ItemFactory(recommendation__finding__result__project__unit=unit_a)
        for _ in range(3)
    ]
    items_b = [
        factories.ItemFactory(recommendation__finding__result__project__unit=unit_b)
        for _ in range(3)
    ]
    return {
        "a": items_a,
        "b": items_b,
        "owner_a": factories.UnitStaffFactory(unit=unit_a),
        "owner_b": factories.UnitStaffFactory(unit=unit_b),
        "staff": services.Actor(user=factories.StaffUserFactory(), ip="10.1.2.3"),
    }


def _assigned(item: RectificationItem) -> list[Event]:
    return list(Event.objects.filter(item=item, action=EventAction.ASSIGNED))


def test_it_sets_each_units_owner_and_one_deadline_with_an_event_per_item(world):
    items = world["a"] + world["b"]

    applied = bulk.bulk_assign(
        items=items,
        actor=world["staff"],
        owners={world["a"][0].unit_id: world["owner_a"], world["b"][0].unit_id: world["owner_b"]},
        deadline=DEADLINE,
    )

    assert len(applied) == 6
    for item in items:
        item.refresh_from_db()
        owner = world["owner_a"] if item in world["a"] else world["owner_b"]
        assert (item.owner, item.deadline, item.version) == (owner, DEADLINE, 2)
        [event] = _assigned(item)
        assert event.actor == world["staff"].user
        assert event.ip == "10.1.2.3"
        assert event.before == {
            "owner": None,
            "owner_name": "",
            "deadline": None,
            "deadline_source": "",
        }
        assert event.after == {
            "owner": owner.pk,
            "owner_name": owner.display_name,
            "deadline": "2031-06-30",
            "deadline_source": "bulk",
            "deadline_reason": "",
        }


def test_it_keeps_what_it_is_not_told_to_change(world):
    first = world["a"][0]
    services.assign(item=first, actor=world["staff"], owner=world["owner_a"], deadline=None)

    bulk.bulk_assign(items=world["a"] + world["b"], actor=world["staff"], deadline=DEADLINE)

    first.refresh_from_db()
    assert (first.owner, first.deadline) == (world["owner_a"], DEADLINE)
    assert all(RectificationItem.objects.get(pk=item.pk).owner is None for item in world["b"])


def test_it_leaves_closed_and_unchanged_items_alone_and_writes_no_event_for_them(world):
    closed, same, changing = world["a"]
    factories.force_update(
        RectificationItem.objects.filter(pk=closed.pk),
        status=ItemStatus.CLOSED,
        closure_outcome="not_rectified",
    )
    services.assign(item=same, actor=world["staff"], owner=None, deadline=DEADLINE)
    items = list(RectificationItem.objects.filter(pk__in=[closed.pk, same.pk, changing.pk]))
    events_before = Event.objects.count()

    plan = bulk.plan_assignments(items=items, deadline=DEADLINE)
    applied = bulk.bulk_assign(items=items, actor=world["staff"], deadline=DEADLINE)

    assert {change.item.pk: change.skip for change in plan} == {
        closed.pk: bulk.Skip.CLOSED,
        same.pk: bulk.Skip.UNCHANGED,
        changing.pk: None,
    }
    assert [change.item.pk for change in applied] == [changing.pk]
    assert Event.objects.count() == events_before + 1
    closed.refresh_from_db()
    assert closed.deadline is None


def test_it_changes_nothing_when_one_item_was_edited_since_the_preview(world):
    items = world["a"]
    versions = {item.pk: item.version for item in items}
    services.assign(item=items[2], actor=world["staff"], owner=None, deadline=DEADLINE)

    with pytest.raises(services.StaleItemError):
        bulk.bulk_assign(
            items=list(RectificationItem.objects.filter(pk__in=versions)),
            actor=world["staff"],
            deadline=datetime.date(2032, 1, 31),
            expected_versions=versions,
        )

    assert [RectificationItem.objects.get(pk=item.pk).deadline for item in items] == [
        None,
        None,
        DEADLINE,
    ]
    assert sum(len(_assigned(item)) for item in items) == 1


def test_it_refuses_an_owner_from_another_unit_and_changes_nothing(world):
    items = world["a"]

    with pytest.raises(ValidationError):
        bulk.bulk_assign(
            items=items, actor=world["staff"], owners={items[0].unit_id: world["owner_b"]}
        )

    assert not Event.objects.filter(action=EventAction.ASSIGNED).exists()


@pytest.mark.parametrize("who", ["unit", "oversight"])
def test_it_lets_only_evaluation_staff_assign(world, who):
    user = world["owner_a"] if who == "unit" else factories.OversightFactory()

    with pytest.raises(PermissionDenied):
        bulk.bulk_assign(items=world["a"], actor=services.Actor(user=user), deadline=DEADLINE)

    assert not Event.objects.filter(action=EventAction.ASSIGNED).exists()
    assert all(RectificationItem.objects.get(pk=i.pk).deadline is None for i in world["a"])


def test_it_suggests_a_units_only_staff_member_when_its_items_have_no_owner(world):
    factories.UnitHeadFactory(unit=world["a"][0].unit)  # a head is not a suggestion
    two = factories.UnitStaffFactory(unit=world["b"][0].unit)  # b now has two staff members

    rows = {row.unit.pk: row for row in bulk.owner_choices(world["a"] + world["b"])}

    row_a, row_b = rows[world["a"][0].unit_id], rows[world["b"][0].unit_id]
    assert row_a.suggested == world["owner_a"]
    assert row_a.item_count == 3
    assert len(row_a.members) == 2
    assert row_b.suggested is None
    assert set(row_b.members) == {world["owner_b"], two}


def test_it_suggests_nobody_once_an_item_of_the_unit_has_an_owner(world):
    services.assign(item=world["a"][0], actor=world["staff"], owner=world["owner_a"], deadline=None)
    items = list(RectificationItem.objects.filter(pk__in=[i.pk for i in world["a"]]))

    [row] = bulk.owner_choices(items)

    assert row.suggested is None
