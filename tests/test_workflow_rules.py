"""The workflow's rule table (``rectification.rules``): which actions each role may take on an
item in each state, written out by hand — the state machine with its new steps, per role,
including the four-eyes rule of the two-level review."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from rectification.choices import ClosureOutcome, ItemStatus
from rectification.models import RectificationItem
from rectification.rules import Action, permitted_actions, require
from tests import factories

pytestmark = pytest.mark.django_db

A = Action
# What a unit's staff member (经办人) and its head (负责人) may do while the unit rectifies.
UNIT_WORK = {A.PLAN, A.PROGRESS, A.REPORT_MILESTONE, A.REQUEST_EXTENSION}
# What evaluation staff may do then: assign, decide what the unit handed in, close by decision.
STAFF_WORK = {A.ASSIGN, A.DECIDE_PLAN, A.DECIDE_MILESTONE, A.FIRST_REVIEW, A.DECIDE_EXTENSION}
NONE: set[Action] = set()
# Facts the bureau records whatever the item's state: the ladder's steps (约谈, 通报, 问责,
# 领导批示) and the ruling on a likely repeat problem (屡审屡犯).
LADDER = {A.RECORD_SUPERVISION, A.DECIDE_REPEAT}

# state → role → actions. "reviewer" is the staff member who made the first review.
TABLE: dict[str, dict[str, set[Action]]] = {
    ItemStatus.OPEN: {
        "member": UNIT_WORK,
        "head": UNIT_WORK,
        "staff": STAFF_WORK | LADDER,
    },
    ItemStatus.IN_PROGRESS: {
        "member": UNIT_WORK | {A.SUBMIT},
        "head": UNIT_WORK | {A.SUBMIT},
        "staff": STAFF_WORK | LADDER,
    },
    ItemStatus.HEAD_REVIEW: {
        "member": NONE,
        "head": {A.HEAD_SIGNOFF},
        "staff": {A.ASSIGN, A.DECIDE_EXTENSION} | LADDER,
    },
    ItemStatus.SUBMITTED: {
        "member": NONE,
        "head": NONE,
        "staff": {A.ASSIGN, A.RETURN, A.FIRST_REVIEW, A.DECIDE_MILESTONE, A.DECIDE_EXTENSION}
        | LADDER,
    },
    ItemStatus.SECOND_REVIEW: {
        "member": NONE,
        "head": NONE,
        "staff": {A.ASSIGN, A.RETURN, A.SECOND_REVIEW, A.DECIDE_EXTENSION} | LADDER,
        "reviewer": {A.ASSIGN, A.RETURN, A.DECIDE_EXTENSION} | LADDER,
    },
    ItemStatus.CLOSED: {
        "member": NONE,
        "head": NONE,
        "staff": {A.REOPEN, A.SCHEDULE_FOLLOW_UP, A.RECORD_FOLLOW_UP} | LADDER,
    },
}


@pytest.fixture
def people():  # type: ignore[no-untyped-def]
    unit = factories.UnitFactory()
    return {
        "member": factories.UnitStaffFactory(unit=unit),
        "head": factories.UnitHeadFactory(unit=unit),
        "other unit's staff": factories.UnitStaffFactory(),
        "other unit's head": factories.UnitHeadFactory(),
        "staff": factories.StaffUserFactory(),
        "reviewer": factories.StaffUserFactory(),
        "oversight": factories.OversightFactory(),
    }


def _item(status: str, people: dict) -> RectificationItem:
    fields: dict[str, object] = {"status": status}
    if status == ItemStatus.SECOND_REVIEW:
        fields |= {
            "proposed_outcome": ClosureOutcome.RECTIFIED,
            "first_reviewer": people["reviewer"],
        }
    if status == ItemStatus.CLOSED:
        fields |= {
            "closure_outcome": ClosureOutcome.RECTIFIED,
            "first_reviewer": people["reviewer"],
        }
    return factories.ItemFactory(
        recommendation__finding__result__project__unit=people["member"].unit, **fields
    )


@pytest.mark.parametrize("status", list(TABLE))
def test_each_role_may_take_exactly_the_actions_of_its_table_row(people, status):
    item = _item(status, people)
    expected = TABLE[status]

    for role, user in people.items():
        # The first reviewer is an evaluation staff member like any other, except where the
        # four-eyes rule names them; other units and oversight readers may do nothing.
        wanted = expected.get(role, expected["staff"] if role == "reviewer" else NONE)
        assert permitted_actions(item=item, user=user) == wanted, (status, role)


def test_every_state_and_every_action_is_in_the_table():
    assert set(TABLE) == set(ItemStatus.values)
    offered = set().union(*(actions for row in TABLE.values() for actions in row.values()))
    assert offered == set(Action)


def test_the_first_reviewer_may_not_also_close_but_may_still_return(people):
    item = _item(ItemStatus.SECOND_REVIEW, people)

    with pytest.raises(PermissionDenied, match="复核"):
        require(item=item, user=people["reviewer"], action=Action.SECOND_REVIEW)
    require(item=item, user=people["reviewer"], action=Action.RETURN)
    require(item=item, user=people["staff"], action=Action.SECOND_REVIEW)


def test_a_refusal_names_the_action_and_the_state(people):
    item = _item(ItemStatus.HEAD_REVIEW, people)

    with pytest.raises(PermissionDenied) as refused:
        require(item=item, user=people["member"], action=Action.HEAD_SIGNOFF)

    assert "负责人确认" in str(refused.value) or "单位负责人" in str(refused.value)
    assert "待单位负责人确认" in str(refused.value)


def test_a_signed_out_user_may_do_nothing(people):
    from django.contrib.auth.models import AnonymousUser

    item = _item(ItemStatus.OPEN, people)

    assert permitted_actions(item=item, user=AnonymousUser()) == frozenset()
