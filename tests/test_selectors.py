from __future__ import annotations

import datetime

import pytest

from rectification.choices import ClosureOutcome, ItemStatus
from rectification.models import RectificationItem
from rectification.selectors import items_visible_to
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2021, 6, 15)


def test_it_scopes_items_to_the_owner_unit_member_and_outsider():
    mine = factories.ItemFactory()
    theirs = factories.ItemFactory()
    staff_member = factories.UnitStaffFactory(unit=mine.unit)
    head = factories.UnitHeadFactory(unit=mine.unit)
    outsider = factories.UnitStaffFactory(unit=theirs.unit)
    assert list(items_visible_to(staff_member)) == [mine]
    assert list(items_visible_to(head)) == [mine]
    assert list(items_visible_to(outsider)) == [theirs]


def test_it_shows_everything_to_staff_and_oversight_and_nothing_to_others():
    items = factories.ItemFactory.create_batch(3)
    assert set(items_visible_to(factories.StaffUserFactory())) == set(items)
    assert set(items_visible_to(factories.OversightFactory())) == set(items)
    assert list(items_visible_to(factories.UserFactory())) == []
    inactive = factories.StaffUserFactory(is_active=False)
    assert list(items_visible_to(inactive)) == []


def test_it_hides_everything_from_a_unit_role_without_a_unit():
    factories.ItemFactory()
    assert list(items_visible_to(factories.UserFactory(role="经办人"))) == []


@pytest.mark.parametrize(
    ("deadline", "status", "overdue"),
    [
        (TODAY - datetime.timedelta(days=1), ItemStatus.OPEN, True),
        (TODAY, ItemStatus.OPEN, False),  # due today is not yet overdue
        (TODAY + datetime.timedelta(days=1), ItemStatus.IN_PROGRESS, False),
        (TODAY - datetime.timedelta(days=30), ItemStatus.SUBMITTED, True),
        (TODAY - datetime.timedelta(days=30), ItemStatus.CLOSED, False),
        (None, ItemStatus.OPEN, False),
    ],
)
def test_overdue_means_deadline_passed_and_not_closed(deadline, status, overdue):
    outcome = ClosureOutcome.RECTIFIED if status == ItemStatus.CLOSED else ""
    item = factories.ItemFactory(deadline=deadline, status=status, closure_outcome=outcome)
    annotated = RectificationItem.objects.with_overdue(TODAY).get(pk=item.pk)
    assert annotated.is_overdue is overdue
    assert RectificationItem.objects.overdue(TODAY).filter(pk=item.pk).exists() is overdue
