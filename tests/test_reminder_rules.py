"""The reminder rules at their boundaries, with frozen time: which reminder applies on which day,
to whom, and how an extension, a return, a closure or a quiet stretch changes that."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from rectification import services as ledger
from rectification.choices import ClosureOutcome, EventAction, ItemStatus
from rectification.models import Event, RectificationItem
from reminders import rules
from reminders.choices import RecipientRole, Rule
from reminders.models import Reminder
from reminders.people import Person, UnitPeople
from reminders.rules import Occurrence, Schedule
from reminders.services import plan_reminders
from tests import factories, workflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = datetime.date  # brevity in the tables below


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> time_machine.travel:
    """Freeze the clock at ``day`` ``hour``:``minute`` in Asia/Shanghai."""
    moment = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
    return time_machine.travel(moment, tick=False)


def shift(day: datetime.date, days: int) -> datetime.date:
    return day + datetime.timedelta(days=days)


# --- pure rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "is_overdue", "expected"),
    [
        (D(2024, 6, 22), False, None),  # 8 days left: before the first offset
        (D(2024, 6, 23), False, Occurrence(Rule.DUE_SOON, D(2024, 6, 23))),  # 7 days
        (D(2024, 6, 24), False, Occurrence(Rule.DUE_SOON, D(2024, 6, 23))),  # still the 7-day one
        (D(2024, 6, 26), False, Occurrence(Rule.DUE_SOON, D(2024, 6, 23))),  # 4 days
        (D(2024, 6, 27), False, Occurrence(Rule.DUE_SOON, D(2024, 6, 27))),  # 3 days
        (D(2024, 6, 28), False, Occurrence(Rule.DUE_SOON, D(2024, 6, 27))),  # 2 days
        (D(2024, 6, 29), False, Occurrence(Rule.DUE_SOON, D(2024, 6, 29))),  # 1 day
        (D(2024, 6, 30), False, Occurrence(Rule.DUE_TODAY, D(2024, 6, 30))),  # the day
        (D(2024, 7, 1), True, Occurrence(Rule.OVERDUE, D(2024, 7, 1))),  # overdue day 1
        (D(2024, 7, 7), True, Occurrence(Rule.OVERDUE, D(2024, 7, 1))),  # day 7
        (D(2024, 7, 8), True, Occurrence(Rule.OVERDUE, D(2024, 7, 8))),  # day 8: next week
        (D(2024, 7, 9), True, Occurrence(Rule.OVERDUE, D(2024, 7, 8))),
        (D(2024, 7, 15), True, Occurrence(Rule.OVERDUE, D(2024, 7, 15))),
    ],
)
def test_it_picks_the_current_deadline_occurrence(today, is_overdue, expected):
    occurrence = rules.deadline_occurrence(
        status=ItemStatus.IN_PROGRESS,
        deadline=D(2024, 6, 30),
        is_overdue=is_overdue,
        today=today,
        schedule=Schedule(),
    )
    assert occurrence == expected


@pytest.mark.parametrize(
    ("deadline", "today", "expected"),
    [
        # Month ends, a leap day and the turn of the year.
        (D(2024, 3, 1), D(2024, 2, 29), Occurrence(Rule.DUE_SOON, D(2024, 2, 29))),
        (D(2024, 3, 1), D(2024, 2, 27), Occurrence(Rule.DUE_SOON, D(2024, 2, 27))),
        (D(2024, 3, 1), D(2024, 2, 23), Occurrence(Rule.DUE_SOON, D(2024, 2, 23))),
        (D(2023, 3, 1), D(2023, 2, 22), Occurrence(Rule.DUE_SOON, D(2023, 2, 22))),
        (D(2025, 1, 2), D(2024, 12, 26), Occurrence(Rule.DUE_SOON, D(2024, 12, 26))),
        (D(2025, 1, 2), D(2024, 12, 30), Occurrence(Rule.DUE_SOON, D(2024, 12, 30))),
        (D(2025, 1, 2), D(2025, 1, 1), Occurrence(Rule.DUE_SOON, D(2025, 1, 1))),
        (D(2024, 12, 31), D(2025, 1, 1), Occurrence(Rule.OVERDUE, D(2025, 1, 1))),
        (D(2024, 12, 31), D(2025, 1, 8), Occurrence(Rule.OVERDUE, D(2025, 1, 8))),
        (D(2024, 1, 31), D(2024, 2, 1), Occurrence(Rule.OVERDUE, D(2024, 2, 1))),
    ],
)
def test_it_counts_calendar_days_across_month_and_year_ends(deadline, today, expected):
    occurrence = rules.deadline_occurrence(
        status=ItemStatus.OPEN,
        deadline=deadline,
        is_overdue=today > deadline,
        today=today,
        schedule=Schedule(),
    )
    assert occurrence == expected


def test_it_gives_closed_items_and_items_without_deadline_nothing():
    for status, deadline in [(ItemStatus.CLOSED, D(2024, 6, 30)), (ItemStatus.OPEN, None)]:
        assert (
            rules.deadline_occurrence(
                status=status,
                deadline=deadline,
                is_overdue=False,
                today=D(2024, 6, 29),
                schedule=Schedule(),
            )
            is None
        )


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2024, 7, 14), None),  # overdue 14 days
        (D(2024, 7, 15), Occurrence(Rule.ESCALATED, D(2024, 7, 15))),  # 15 days
        (D(2024, 7, 16), Occurrence(Rule.ESCALATED, D(2024, 7, 15))),
    ],
)
def test_it_escalates_after_15_days_overdue(today, expected):
    assert (
        rules.escalation_occurrence(
            deadline=D(2024, 6, 30), is_overdue=True, today=today, schedule=Schedule()
        )
        == expected
    )


@pytest.mark.parametrize(
    ("status", "today", "expected"),
    [
        (ItemStatus.IN_PROGRESS, D(2024, 5, 30), None),  # 29 quiet days
        (ItemStatus.IN_PROGRESS, D(2024, 5, 31), Occurrence(Rule.STALE, D(2024, 5, 31))),  # 30
        (ItemStatus.IN_PROGRESS, D(2024, 6, 1), Occurrence(Rule.STALE, D(2024, 5, 31))),  # 31
        (ItemStatus.IN_PROGRESS, D(2024, 6, 30), Occurrence(Rule.STALE, D(2024, 6, 30))),  # 60
        (ItemStatus.OPEN, D(2024, 6, 30), None),  # not started: the deadline rules chase it
        (ItemStatus.SUBMITTED, D(2024, 6, 30), None),  # waiting for staff, not for the unit
    ],
)
def test_it_nudges_an_item_in_progress_every_30_quiet_days(status, today, expected):
    occurrence = rules.stale_occurrence(
        status=status, last_progress_on=D(2024, 5, 1), today=today, schedule=Schedule()
    )
    assert occurrence == expected


def test_it_follows_the_configured_offsets():
    schedule = Schedule(days_before=(10, 5), overdue_every=3)
    deadline = D(2024, 6, 30)

    def occurrence(today: datetime.date) -> Occurrence | None:
        return rules.deadline_occurrence(
            status=ItemStatus.OPEN,
            deadline=deadline,
            is_overdue=today > deadline,
            today=today,
            schedule=schedule,
        )

    assert occurrence(D(2024, 6, 19)) is None
    assert occurrence(D(2024, 6, 20)) == Occurrence(Rule.DUE_SOON, D(2024, 6, 20))
    assert occurrence(D(2024, 6, 29)) == Occurrence(Rule.DUE_SOON, D(2024, 6, 25))
    assert occurrence(D(2024, 7, 4)) == Occurrence(Rule.OVERDUE, D(2024, 7, 4))


def test_it_copies_the_head_only_when_overdue_and_falls_back_to_the_unit():
    owner, staff, head, boss = Person(1, "o@x"), Person(2, "s@x"), Person(3, "h@x"), Person(9, "")
    unit = UnitPeople(staff=(owner, staff), heads=(head,))
    assert rules.recipients_for(rule=Rule.DUE_SOON, owner=owner, unit=unit) == [
        (owner, RecipientRole.TO)
    ]
    assert rules.recipients_for(rule=Rule.OVERDUE, owner=owner, unit=unit) == [
        (owner, RecipientRole.TO),
        (head, RecipientRole.CC),
    ]
    assert rules.recipients_for(rule=Rule.DUE_TODAY, owner=None, unit=unit) == [
        (owner, RecipientRole.TO),
        (staff, RecipientRole.TO),
        (head, RecipientRole.CC),
    ]
    # A unit with a head but no staff account: the head is the addressee.
    assert rules.recipients_for(rule=Rule.OVERDUE, owner=None, unit=UnitPeople(heads=(head,))) == [
        (head, RecipientRole.TO)
    ]
    # An owner who is also the head is addressed once, as owner.
    assert rules.recipients_for(rule=Rule.OVERDUE, owner=head, unit=UnitPeople(heads=(head,))) == [
        (head, RecipientRole.TO)
    ]
    assert rules.recipients_for(
        rule=Rule.ESCALATED, owner=owner, unit=unit, evaluation_staff=[boss]
    ) == [(boss, RecipientRole.TO)]


# --- the planner on the database, day by day ------------------------------------------------------


@pytest.fixture
def people(db):
    unit = factories.UnitFactory()
    return {
        "unit": unit,
        "owner": factories.UnitStaffFactory(unit=unit, username="owner"),
        "colleague": factories.UnitStaffFactory(unit=unit, username="colleague"),
        "head": factories.UnitHeadFactory(unit=unit, username="head"),
        "staff": factories.StaffUserFactory(username="pingjia"),
    }


def make_item(people, *, deadline, owner=True, **fields) -> RectificationItem:
    return factories.ItemFactory(
        recommendation__finding__result__project__unit=people["unit"],
        owner=people["owner"] if owner else None,
        deadline=deadline,
        **fields,
    )


def planned(item) -> set[tuple[str, str, str, datetime.date]]:
    return set(
        Reminder.objects.filter(item=item).values_list(
            "recipient__username", "role", "rule", "period"
        )
    )


def plan_daily(first: datetime.date, last: datetime.date) -> dict[datetime.date, int]:
    """Run the planner once a day (at 09:00) and note the days on which it planned something."""
    new_rows = {}
    day = first
    while day <= last:
        with at(day):
            count = plan_reminders(today=day)
        if count:
            new_rows[day] = count
        day = shift(day, 1)
    return new_rows


def test_it_plans_each_occurrence_once_on_its_day_from_a_week_before_to_escalation(people):
    deadline = D(2024, 6, 30)
    with at(D(2024, 6, 1)):
        item = make_item(people, deadline=deadline)
    days = plan_daily(D(2024, 6, 20), D(2024, 7, 23))

    # The day before, of and after each offset: rows appear on the day of each offset only.
    assert days == {
        D(2024, 6, 23): 1,  # 7 days before, owner
        D(2024, 6, 27): 1,  # 3 days
        D(2024, 6, 29): 1,  # 1 day
        D(2024, 6, 30): 1,  # on the day
        D(2024, 7, 1): 2,  # overdue day 1: owner + head in copy
        D(2024, 7, 8): 2,  # day 8
        D(2024, 7, 15): 3,  # day 15: owner + head, and escalation to evaluation staff
        D(2024, 7, 22): 2,  # day 22: the chase goes on until closed
    }
    assert ("head", RecipientRole.CC, Rule.OVERDUE, D(2024, 7, 1)) in planned(item)
    assert ("pingjia", RecipientRole.TO, Rule.ESCALATED, D(2024, 7, 15)) in planned(item)
    assert ("colleague", RecipientRole.TO, Rule.DUE_SOON, D(2024, 6, 23)) not in planned(item)


def test_it_escalates_once_with_an_event_and_a_flag(people):
    deadline = D(2024, 6, 30)
    with at(D(2024, 6, 1)):
        item = make_item(people, deadline=deadline)
    plan_daily(D(2024, 7, 14), D(2024, 7, 14))
    item.refresh_from_db()
    assert item.escalated_at is None
    assert not Event.objects.filter(item=item, action=EventAction.ESCALATED).exists()

    plan_daily(D(2024, 7, 15), D(2024, 7, 20))
    item.refresh_from_db()
    assert item.escalated_at == datetime.datetime(2024, 7, 15, 9, 0, tzinfo=SHANGHAI)
    event = Event.objects.get(item=item, action=EventAction.ESCALATED)
    assert event.actor is None
    assert "逾期 15 天" in event.note
    assert Reminder.objects.filter(item=item, rule=Rule.ESCALATED).count() == 1


def test_it_uses_the_calendar_day_in_shanghai_not_utc(people):
    item = make_item(people, deadline=D(2024, 6, 30))
    # 23:59 on the 29th in Shanghai is 15:59 UTC; one minute past midnight is still the 29th
    # in UTC, but already the deadline day here.
    with at(D(2024, 6, 29), 23, 59):
        plan_reminders(today=rules_today())
    assert {r[2] for r in planned(item)} == {Rule.DUE_SOON}
    with at(D(2024, 6, 30), 0, 1):
        plan_reminders(today=rules_today())
    assert {r[2] for r in planned(item)} == {Rule.DUE_SOON, Rule.DUE_TODAY}


def rules_today() -> datetime.date:
    from liwan import clock

    return clock.today()


def test_it_catches_up_a_missed_day_once(people):
    item = make_item(people, deadline=D(2024, 6, 30))
    # No sweep ran on the 23rd (7 days before): the 24th still sends that reminder, once.
    days = plan_daily(D(2024, 6, 24), D(2024, 6, 26))
    assert days == {D(2024, 6, 24): 1}
    assert planned(item) == {("owner", RecipientRole.TO, Rule.DUE_SOON, D(2024, 6, 23))}


def test_it_gives_closed_items_nothing_and_treats_returned_items_as_open(people):
    closed = make_item(
        people,
        deadline=D(2024, 6, 30),
        status=ItemStatus.CLOSED,
        closure_outcome=ClosureOutcome.RECTIFIED,
    )
    submitted = make_item(people, deadline=D(2024, 6, 30))
    staff = ledger.Actor(user=people["staff"])
    factories.force_update(
        RectificationItem.objects.filter(pk=submitted.pk), status=ItemStatus.SUBMITTED
    )
    ledger.return_item(item=submitted, actor=staff, reason="佐证材料不足。")
    submitted.refresh_from_db()
    assert submitted.status == ItemStatus.IN_PROGRESS

    plan_daily(D(2024, 7, 1), D(2024, 7, 1))
    assert planned(closed) == set()
    assert {r[2] for r in planned(submitted)} == {Rule.OVERDUE}


def test_it_sends_ownerless_items_to_the_units_staff_and_head(people):
    item = make_item(people, deadline=D(2024, 6, 30), owner=False)
    plan_daily(D(2024, 6, 30), D(2024, 6, 30))
    assert planned(item) == {
        ("owner", RecipientRole.TO, Rule.DUE_TODAY, D(2024, 6, 30)),
        ("colleague", RecipientRole.TO, Rule.DUE_TODAY, D(2024, 6, 30)),
        ("head", RecipientRole.CC, Rule.DUE_TODAY, D(2024, 6, 30)),
    }


def test_an_approved_extension_moves_the_schedule(people):
    staff = ledger.Actor(user=people["staff"])
    unit_user = ledger.Actor(user=people["owner"])
    with at(D(2024, 6, 1)):
        item = make_item(people, deadline=D(2024, 6, 30))
    plan_daily(D(2024, 6, 23), D(2024, 6, 23))  # "7 days left" for the old deadline
    with at(D(2024, 6, 24)):
        extension = ledger.request_extension(
            item=item, actor=unit_user, requested_deadline=D(2024, 7, 31), reason="需跨部门协调。"
        )
        ledger.decide_extension(extension=extension, actor=staff, approve=True)

    days = plan_daily(D(2024, 6, 24), D(2024, 8, 1))
    assert days == {
        D(2024, 7, 24): 1,
        D(2024, 7, 28): 1,
        D(2024, 7, 30): 1,
        D(2024, 7, 31): 1,
        D(2024, 8, 1): 2,
    }
    old = Reminder.objects.get(item=item, period=D(2024, 6, 23))
    assert old.deadline == D(2024, 6, 30)
    assert set(Reminder.objects.exclude(pk=old.pk).values_list("deadline", flat=True)) == {
        D(2024, 7, 31)
    }


def test_it_nudges_after_30_days_without_progress_counted_from_the_last_report(people):
    with at(D(2024, 4, 1)):
        item = make_item(people, deadline=D(2024, 12, 31))
        workflow.plan_accepted(item, people["owner"], people["staff"])
    with at(D(2024, 4, 20)):
        factories.ProgressFactory(item=item)
    days = plan_daily(D(2024, 5, 18), D(2024, 5, 21))
    assert days == {D(2024, 5, 20): 1}  # 30 days after the report of 20 April
    assert planned(item) == {("owner", RecipientRole.TO, Rule.STALE, D(2024, 5, 20))}


def test_it_does_not_nudge_an_open_or_recently_returned_item(people):
    with at(D(2024, 1, 1)):
        untouched = make_item(people, deadline=D(2024, 12, 31))
        returned = make_item(people, deadline=D(2024, 12, 31), status=ItemStatus.SUBMITTED)
    with at(D(2024, 3, 1)):
        ledger.return_item(item=returned, actor=ledger.Actor(user=people["staff"]), reason="补充")
    plan_daily(D(2024, 3, 20), D(2024, 3, 20))
    assert planned(untouched) == set()
    assert planned(returned) == set()


def test_it_plans_in_a_constant_number_of_queries(people, django_assert_max_num_queries):
    # 10: candidates, owners, unit people, group robots, existing keys, the insert (a temporary
    # table filled by COPY, the INSERT from it, the drop), and the calendar, reviewers and
    # savepoints as needed — never one per item.
    for _ in range(3):
        make_item(people, deadline=D(2024, 6, 30))
    with at(D(2024, 7, 1)), django_assert_max_num_queries(10):
        few = plan_reminders(today=D(2024, 7, 1))
    for _ in range(30):
        make_item(people, deadline=D(2024, 6, 30), owner=False)
    with at(D(2024, 7, 2)), django_assert_max_num_queries(10):
        many = plan_reminders(today=D(2024, 7, 2))
    assert (few, many) == (6, 90)  # catch-up: yesterday's items already had theirs


def test_closing_the_item_with_its_service_stops_the_chase(people):
    with at(D(2024, 6, 1)):
        item = make_item(people, deadline=D(2024, 6, 30))
    plan_daily(D(2024, 7, 1), D(2024, 7, 1))
    with at(D(2024, 7, 2)):
        workflow.closed(
            item,
            people["staff"],
            factories.StaffUserFactory(),
            outcome=ClosureOutcome.NOT_RECTIFIED,
            note="经研究，按未整改销号。",
        )
    assert plan_daily(D(2024, 7, 2), D(2024, 7, 30)) == {}


# --- the plan, the milestones and the follow-up checks ----------------------------------------


def _rows(item, *rules_) -> set[tuple[str, str, datetime.date]]:
    return {
        (user, rule, period)
        for user, role, rule, period in planned(item)
        if rule in rules_ and role == RecipientRole.TO
    }


def test_it_reminds_the_unit_of_its_plan_before_the_due_date_and_chases_it_weekly_after(people):
    with at(D(2024, 6, 1)):
        item = make_item(people, deadline=D(2024, 12, 31), plan_due=D(2024, 6, 30))

    days = plan_daily(D(2024, 6, 20), D(2024, 7, 15))

    assert set(days) == {D(2024, 6, d) for d in (23, 27, 29, 30)} | {
        D(2024, 7, 1),
        D(2024, 7, 8),
        D(2024, 7, 15),
    }
    assert _rows(item, Rule.PLAN_DUE, Rule.PLAN_OVERDUE) == {
        ("owner", Rule.PLAN_DUE, D(2024, 6, 23)),
        ("owner", Rule.PLAN_DUE, D(2024, 6, 27)),
        ("owner", Rule.PLAN_DUE, D(2024, 6, 29)),
        ("owner", Rule.PLAN_DUE, D(2024, 6, 30)),
        ("owner", Rule.PLAN_OVERDUE, D(2024, 7, 1)),
        ("owner", Rule.PLAN_OVERDUE, D(2024, 7, 8)),
        ("owner", Rule.PLAN_OVERDUE, D(2024, 7, 15)),
    }


def test_it_stops_chasing_the_plan_once_the_unit_has_submitted_one(people):
    with at(D(2024, 6, 1)):
        item = make_item(people, deadline=D(2024, 12, 31), plan_due=D(2024, 6, 30))
    plan_daily(D(2024, 6, 28), D(2024, 7, 2))
    with at(D(2024, 7, 2), 15):
        ledger.submit_plan(
            item=item,
            actor=ledger.Actor(user=people["owner"]),
            rectification_type="immediate",
            measures="修订制度。",
            agreement="agree",
        )

    assert plan_daily(D(2024, 7, 3), D(2024, 7, 31)) == {}


def test_it_reminds_of_each_milestone_in_turn_and_not_of_one_reported_done(people):
    with at(D(2024, 6, 1)):
        item = make_item(people, deadline=D(2024, 12, 31))
        workflow.plan_accepted(
            item,
            people["owner"],
            people["staff"],
            rectification_type="staged",
            milestones=[
                ledger.PlannedMilestone("完成问题排查", D(2024, 6, 30)),
                ledger.PlannedMilestone("修订管理制度", D(2024, 9, 30)),
            ],
        )

    plan_daily(D(2024, 6, 20), D(2024, 7, 9))
    assert _rows(item, Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE) == {
        ("owner", Rule.MILESTONE_DUE, D(2024, 6, 23)),
        ("owner", Rule.MILESTONE_DUE, D(2024, 6, 27)),
        ("owner", Rule.MILESTONE_DUE, D(2024, 6, 29)),
        ("owner", Rule.MILESTONE_DUE, D(2024, 6, 30)),
        ("owner", Rule.MILESTONE_OVERDUE, D(2024, 7, 1)),
        ("owner", Rule.MILESTONE_OVERDUE, D(2024, 7, 8)),
    }

    # The first milestone reported done (waiting for staff): the next one is reminded of.
    with at(D(2024, 7, 9), 15):
        ledger.report_milestone(
            milestone=item.milestones.get(number=1),
            actor=ledger.Actor(user=people["owner"]),
            note="已完成排查。",
            files=[workflow.evidence()],
        )
    Reminder.objects.all().delete()
    plan_daily(D(2024, 7, 10), D(2024, 9, 30))
    assert _rows(item, Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE) == {
        ("owner", Rule.MILESTONE_DUE, D(2024, 9, 23)),
        ("owner", Rule.MILESTONE_DUE, D(2024, 9, 27)),
        ("owner", Rule.MILESTONE_DUE, D(2024, 9, 29)),
        ("owner", Rule.MILESTONE_DUE, D(2024, 9, 30)),
    }


def test_it_reminds_the_reviewers_of_a_follow_up_check_that_has_come_due(people):
    with at(D(2024, 3, 1)):
        item = workflow.closed(
            workflow.submitted(make_item(people, deadline=D(2024, 6, 30)), people["owner"])
        )
        follow_up = ledger.schedule_follow_up(
            item=item, actor=ledger.Actor(user=people["staff"]), due_on=D(2024, 7, 1)
        )

    plan_daily(D(2024, 6, 20), D(2024, 7, 9))
    # Every evaluation staff member reviews this unit (it names no reviewer); pingjia is one.
    assert {row for row in _rows(item, Rule.FOLLOW_UP_DUE) if row[0] == "pingjia"} == {
        ("pingjia", Rule.FOLLOW_UP_DUE, D(2024, 7, 1)),
        ("pingjia", Rule.FOLLOW_UP_DUE, D(2024, 7, 8)),
    }

    with at(D(2024, 7, 9), 15):
        ledger.record_follow_up(
            follow_up=follow_up,
            actor=ledger.Actor(user=people["staff"]),
            holds=True,
            finding="制度执行到位。",
        )
    assert plan_daily(D(2024, 7, 10), D(2024, 8, 31)) == {}
