"""Reminders of the plan (整改方案) and of the milestones of a staged rectification, with frozen
time: the unit is reminded before and on the plan's due date and chased weekly after it until it
submits a plan; each open milestone is reminded of near and past its deadline until it is
reported done and accepted. Through the real services and the real sweep (planning, the
send-time re-check, e-mail and group robot)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from evaluations.models import WebhookKind
from liwan import clock
from rectification import services as ledger
from rectification.choices import ItemStatus, RectificationType
from rectification.models import RectificationItem
from reminders import rules, services
from reminders.choices import Channel, RecipientRole, ReminderStatus, Rule, SkipReason
from reminders.models import Reminder
from reminders.rules import Occurrence, Schedule
from tests import factories, workflow
from tests.robots import running_robot

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
D = datetime.date
DUE = D(2024, 6, 30)  # the plan's or the first milestone's due date in these tests
FAR = D(2024, 12, 31)  # the item's deadline: far away, so no deadline reminder interferes


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> time_machine.travel:
    moment = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
    return time_machine.travel(moment, tick=False)


def shift(day: datetime.date, days: int) -> datetime.date:
    return day + datetime.timedelta(days=days)


@pytest.fixture
def people():
    unit = factories.UnitFactory()
    return {
        "unit": unit,
        "owner": factories.UnitStaffFactory(unit=unit, username="owner"),
        "colleague": factories.UnitStaffFactory(unit=unit, username="colleague"),
        "head": factories.UnitHeadFactory(unit=unit, username="head"),
        "staff": factories.StaffUserFactory(username="pingjia"),
    }


def make_item(people, *, owner=True, **fields) -> RectificationItem:
    with at(D(2024, 6, 1)):
        return factories.ItemFactory(
            recommendation__finding__result__project__unit=people["unit"],
            owner=people["owner"] if owner else None,
            deadline=FAR,
            **fields,
        )


def staged_item(people) -> RectificationItem:
    """An item whose accepted staged plan sets two milestones: 30 June and 30 September."""
    item = make_item(people)
    with at(D(2024, 6, 1)):
        return workflow.plan_accepted(
            item,
            people["owner"],
            people["staff"],
            rectification_type=RectificationType.STAGED,
            milestones=[
                ledger.PlannedMilestone("完成问题排查", DUE),
                ledger.PlannedMilestone("修订管理制度", D(2024, 9, 30)),
            ],
        )


def plan_daily(first: datetime.date, last: datetime.date) -> dict[datetime.date, int]:
    """Run the planner once a day at 09:00; the days on which it planned something."""
    new_rows = {}
    day = first
    while day <= last:
        with at(day):
            count = services.plan_reminders(today=day)
        if count:
            new_rows[day] = count
        day = shift(day, 1)
    return new_rows


def planned(item, *rules_) -> set[tuple[str, str, str, datetime.date]]:
    """The e-mail reminders planned for ``item`` (of ``rules_``): who, as what, why, from when."""
    return set(
        Reminder.objects.filter(item=item, rule__in=rules_, channel=Channel.EMAIL).values_list(
            "recipient__username", "role", "rule", "period"
        )
    )


def submit_plan(item, people) -> None:
    ledger.submit_plan(
        item=item,
        actor=ledger.Actor(user=people["owner"]),
        rectification_type=RectificationType.IMMEDIATE,
        measures="修订制度，开展培训。",
        agreement="agree",
    )


def report(milestone, people) -> None:
    ledger.report_milestone(
        milestone=milestone,
        actor=ledger.Actor(user=people["owner"]),
        note="已完成。",
        files=[workflow.evidence()],
    )


PLAN_RULES = (Rule.PLAN_DUE, Rule.PLAN_OVERDUE)
MILESTONE_RULES = (Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE)


# --- the pure rules ---------------------------------------------------------------------------

CHASE = [
    (D(2024, 6, 22), None),  # 8 days before: nothing yet
    (D(2024, 6, 23), "soon", D(2024, 6, 23)),  # 7 days before
    (D(2024, 6, 26), "soon", D(2024, 6, 23)),  # 4 days: still the 7-day one
    (D(2024, 6, 27), "soon", D(2024, 6, 27)),  # 3 days
    (D(2024, 6, 29), "soon", D(2024, 6, 29)),  # 1 day
    (D(2024, 6, 30), "soon", D(2024, 6, 30)),  # on the day
    (D(2024, 7, 1), "late", D(2024, 7, 1)),  # the day after
    (D(2024, 7, 7), "late", D(2024, 7, 1)),  # 7 days late: still that week's
    (D(2024, 7, 8), "late", D(2024, 7, 8)),  # then weekly
    (D(2024, 8, 5), "late", D(2024, 8, 5)),
]


def _expected(case, soon: Rule, late: Rule) -> Occurrence | None:
    if case[1] is None:
        return None
    return Occurrence(soon if case[1] == "soon" else late, case[2])


@pytest.mark.parametrize("case", CHASE, ids=[str(c[0]) for c in CHASE])
def test_it_reminds_of_a_plan_not_submitted_before_its_due_date_and_weekly_after(case):
    occurrence = rules.plan_occurrence(
        status=ItemStatus.OPEN, plan_due=DUE, has_plan=False, today=case[0], schedule=Schedule()
    )
    assert occurrence == _expected(case, Rule.PLAN_DUE, Rule.PLAN_OVERDUE)


@pytest.mark.parametrize("case", CHASE, ids=[str(c[0]) for c in CHASE])
def test_it_reminds_of_an_open_milestone_before_its_deadline_and_weekly_after(case):
    occurrence = rules.milestone_occurrence(
        status=ItemStatus.IN_PROGRESS, next_milestone=DUE, today=case[0], schedule=Schedule()
    )
    assert occurrence == _expected(case, Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE)


@pytest.mark.parametrize(
    ("status", "plan_due", "has_plan"),
    [
        (ItemStatus.OPEN, DUE, True),  # the plan is in (waiting for acceptance, or accepted)
        (ItemStatus.CLOSED, DUE, False),  # closed: nothing more is chased
        (ItemStatus.OPEN, None, False),  # no due date (never assigned)
    ],
)
def test_it_does_not_remind_of_a_plan_submitted_or_of_one_without_a_due_date(
    status, plan_due, has_plan
):
    for today in (shift(DUE, -1), DUE, shift(DUE, 20)):
        assert (
            rules.plan_occurrence(
                status=status,
                plan_due=plan_due,
                has_plan=has_plan,
                today=today,
                schedule=Schedule(),
            )
            is None
        )


@pytest.mark.parametrize("status", [ItemStatus.SUBMITTED, ItemStatus.SECOND_REVIEW])
def test_it_does_not_remind_of_milestones_while_the_item_is_at_the_bureau_or_closed(status):
    for current in (status, ItemStatus.CLOSED):
        assert (
            rules.milestone_occurrence(
                status=current, next_milestone=DUE, today=shift(DUE, 3), schedule=Schedule()
            )
            is None
        )


# --- the plan, on the database ------------------------------------------------------------------


def test_it_reminds_a_unit_assigned_an_item_of_its_plan_due_30_days_later(people, settings):
    settings.LIWAN_PLAN_DUE_DAYS = 30
    settings.LIWAN_PLAN_DUE_IN_WORKING_DAYS = False
    item = make_item(people, owner=False)
    with at(D(2024, 6, 1)):
        ledger.assign(
            item=item, actor=ledger.Actor(user=people["staff"]), owner=people["owner"], deadline=FAR
        )
    item.refresh_from_db()
    assert item.plan_due == D(2024, 7, 1)

    days = plan_daily(D(2024, 6, 20), D(2024, 7, 9))

    assert set(days) == {D(2024, 6, 24), D(2024, 6, 28), D(2024, 6, 30), D(2024, 7, 1)} | {
        D(2024, 7, 2),
        D(2024, 7, 9),
    }
    assert planned(item, *PLAN_RULES) == {
        ("owner", RecipientRole.TO, Rule.PLAN_DUE, D(2024, 6, 24)),
        ("owner", RecipientRole.TO, Rule.PLAN_DUE, D(2024, 6, 28)),
        ("owner", RecipientRole.TO, Rule.PLAN_DUE, D(2024, 6, 30)),
        ("owner", RecipientRole.TO, Rule.PLAN_DUE, D(2024, 7, 1)),
        ("owner", RecipientRole.TO, Rule.PLAN_OVERDUE, D(2024, 7, 2)),
        ("owner", RecipientRole.TO, Rule.PLAN_OVERDUE, D(2024, 7, 9)),
    }


def test_it_reminds_the_units_staff_and_head_of_the_plan_when_the_item_has_no_owner(people):
    item = make_item(people, owner=False, plan_due=DUE)
    plan_daily(DUE, DUE)
    assert planned(item, *PLAN_RULES) == {
        ("owner", RecipientRole.TO, Rule.PLAN_DUE, DUE),
        ("colleague", RecipientRole.TO, Rule.PLAN_DUE, DUE),
        ("head", RecipientRole.CC, Rule.PLAN_DUE, DUE),
    }


def test_it_mails_the_owner_the_plan_reminder(people):
    make_item(people, plan_due=shift(DUE, 3))
    with at(DUE):
        result = services.sweep()

    assert (result.planned, result.delivery.sent) == (1, 1)
    [message] = mail.outbox
    assert message.to == [people["owner"].email]
    assert "整改方案即将到期" in message.body
    # The mail names the plan's own date, not only the item's far deadline.
    assert "整改方案提交期限：2024年7月3日（还剩 3 天）" in message.body
    assert Reminder.objects.get().status == ReminderStatus.SENT


def test_it_drops_a_plan_reminder_when_the_plan_arrives_before_it_is_sent(people):
    item = make_item(people, plan_due=shift(DUE, -1))
    with at(DUE):
        services.plan_reminders(today=clock.today())
        submit_plan(item, people)
        services.send_due_digests(now=clock.now(), today=clock.today())

    assert [m.to for m in mail.outbox if "整改方案已逾期" in m.body] == []
    reminder = Reminder.objects.get(rule=Rule.PLAN_OVERDUE)
    assert (reminder.status, reminder.skip_reason) == (
        ReminderStatus.SKIPPED,
        SkipReason.NO_LONGER_DUE,
    )


def test_it_chases_the_plan_again_once_staff_return_it(people):
    item = make_item(people, plan_due=DUE)
    with at(D(2024, 6, 25)):
        submit_plan(item, people)
    assert plan_daily(D(2024, 6, 25), D(2024, 7, 3)) == {}, "waiting for acceptance: no chase"

    with at(D(2024, 7, 3), 15):
        ledger.decide_plan(
            plan=item.plans.get(),
            actor=ledger.Actor(user=people["staff"]),
            accept=False,
            note="措施不具体，请细化。",
        )
    plan_daily(D(2024, 7, 4), D(2024, 7, 8))
    assert planned(item, *PLAN_RULES) == {
        ("owner", RecipientRole.TO, Rule.PLAN_OVERDUE, D(2024, 7, 1)),
        ("owner", RecipientRole.TO, Rule.PLAN_OVERDUE, D(2024, 7, 8)),
    }


# --- the milestones, on the database --------------------------------------------------------------


def test_it_stops_reminding_of_a_milestone_once_staff_accept_it(people):
    item = staged_item(people)
    first = item.milestones.get(number=1)
    plan_daily(D(2024, 6, 20), D(2024, 7, 2))
    assert planned(item, *MILESTONE_RULES) >= {
        ("owner", RecipientRole.TO, Rule.MILESTONE_DUE, DUE),
        ("owner", RecipientRole.TO, Rule.MILESTONE_OVERDUE, D(2024, 7, 1)),
    }

    with at(D(2024, 7, 2), 15):
        report(first, people)
        ledger.decide_milestone(
            milestone=first, actor=ledger.Actor(user=people["staff"]), accept=True
        )
    Reminder.objects.all().delete()

    # Past its deadline, yet accepted: nothing more about it; the next one in its time.
    plan_daily(D(2024, 7, 3), D(2024, 9, 22))
    assert planned(item, *MILESTONE_RULES) == set()
    plan_daily(D(2024, 9, 23), D(2024, 9, 23))
    assert planned(item, *MILESTONE_RULES) == {
        ("owner", RecipientRole.TO, Rule.MILESTONE_DUE, D(2024, 9, 23)),
    }


def test_it_chases_a_milestone_again_when_staff_send_it_back(people):
    item = staged_item(people)
    first = item.milestones.get(number=1)
    with at(D(2024, 6, 28), 15):
        report(first, people)
    assert plan_daily(D(2024, 6, 29), D(2024, 7, 3)) == {}, "reported done: waiting for staff"

    with at(D(2024, 7, 3), 15):
        ledger.decide_milestone(
            milestone=first,
            actor=ledger.Actor(user=people["staff"]),
            accept=False,
            note="佐证材料不足。",
        )
    plan_daily(D(2024, 7, 4), D(2024, 7, 8))
    assert planned(item, *MILESTONE_RULES) == {
        ("owner", RecipientRole.TO, Rule.MILESTONE_OVERDUE, D(2024, 7, 1)),
        ("owner", RecipientRole.TO, Rule.MILESTONE_OVERDUE, D(2024, 7, 8)),
    }


def test_it_mails_the_owner_the_milestone_reminder(people):
    staged_item(people)
    with at(DUE):
        result = services.sweep()

    assert result.delivery.sent == 1
    [message] = mail.outbox
    assert message.to == [people["owner"].email]
    assert "节点即将到期" in message.body
    assert "下一整改节点完成期限：2024年6月30日（今天到期）" in message.body
    assert "下一整改节点完成期限：2024年6月30日" in message.alternatives[0][0]
    reminder = Reminder.objects.get(rule=Rule.MILESTONE_DUE)
    assert (reminder.status, reminder.skip_reason) == (ReminderStatus.SENT, "")


def test_it_drops_a_milestone_reminder_when_the_milestone_is_reported_before_it_is_sent(people):
    item = staged_item(people)
    with at(DUE):
        services.plan_reminders(today=clock.today())
        report(item.milestones.get(number=1), people)
        services.send_due_digests(now=clock.now(), today=clock.today())

    assert not [m for m in mail.outbox if "节点即将到期" in m.body]
    assert Reminder.objects.get(rule=Rule.MILESTONE_DUE).skip_reason == SkipReason.NO_LONGER_DUE


def test_it_posts_the_milestone_reminder_to_the_units_group_robot(people):
    with running_robot() as robot:
        unit = people["unit"]
        unit.webhook_kind = WebhookKind.WECOM
        unit.webhook_url = robot.url
        unit.save()
        staged_item(people)
        with at(DUE):
            services.sweep()

        [posted] = robot.requests
    assert "【节点即将到期】" in posted.content
    row = Reminder.objects.get(channel=Channel.WEBHOOK)
    assert (row.rule, row.status) == (Rule.MILESTONE_DUE, ReminderStatus.SENT)


# --- the follow-up check after closure (the same send-time re-check) ------------------------------


def test_it_mails_the_reviewers_a_follow_up_check_that_has_come_due(people):
    item = make_item(people)
    with at(D(2024, 3, 1)):
        workflow.closed(workflow.submitted(item, people["owner"], people["staff"]))
        ledger.schedule_follow_up(item=item, actor=ledger.Actor(user=people["staff"]), due_on=DUE)
    with at(DUE):
        services.sweep()

    to_pingjia = [m for m in mail.outbox if m.to == [people["staff"].email]]
    assert len(to_pingjia) == 1
    assert "回头看到期" in to_pingjia[0].body
    assert "回头看日期：2024年6月30日" in to_pingjia[0].body
    reminder = Reminder.objects.get(rule=Rule.FOLLOW_UP_DUE, recipient=people["staff"])
    assert reminder.status == ReminderStatus.SENT
