"""Workflow notifications (issue "Whose move is it"), planned and delivered by the real sweep.

Every event is made by the real ledger transition (``rectification.services``); every message
goes through ``reminders.services.sweep`` — plan, claim, re-check, send — into Django's locmem
outbox, with the clock frozen. What must hold: the person whose move it is hears of it once,
with what happened in words; the person who acted hears nothing; the bureau hears of
submissions and requests through the item's reviewers; reminders stop chasing a unit that
waits for the bureau and chase the bureau instead; nobody is addressed for a unit they left.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from accounts.models import NotifyMode
from evaluations.models import EvaluationRound, WebhookKind
from liwan import clock
from rectification import services as ledger
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    ItemStatus,
    PlanStatus,
    RectificationType,
    VerificationMethod,
)
from rectification.models import RectificationItem, RectificationPlan
from reminders import services
from reminders.choices import RecipientRole, ReminderStatus, Rule, SkipReason
from reminders.models import Reminder
from tests import factories
from tests.robots import running_robot

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday; the items' deadlines are far enough away that no date rule fires unless a test
# gives one a nearer deadline.
TODAY = datetime.date(2024, 6, 3)
FAR = datetime.date(2024, 12, 31)

UNIT_CLOSING = "请按期完成整改并及时报送整改进展和佐证材料"
BUREAU_CLOSING = "请及时审核单位提交的销号申请和延期申请，对逾期未整改的单位加强督办。"


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> time_machine.travel:
    moment = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
    return time_machine.travel(moment, tick=False)


def shift(day: datetime.date, days: int) -> datetime.date:
    return day + datetime.timedelta(days=days)


def sweep_at(day: datetime.date, hour: int = 9, minute: int = 0) -> services.SweepResult:
    with at(day, hour, minute):
        return services.sweep()


@pytest.fixture
def unit():
    return factories.UnitFactory(name="广州市荔湾区市政园林绿化管理中心")


@pytest.fixture
def owner(unit):
    return factories.UnitStaffFactory(unit=unit, username="owner", full_name="陈晓敏")


@pytest.fixture
def colleague(unit):
    return factories.UnitStaffFactory(unit=unit, username="colleague", full_name="李文")


@pytest.fixture
def head(unit):
    return factories.UnitHeadFactory(unit=unit, username="head", full_name="周建国")


@pytest.fixture
def staff():
    return factories.StaffUserFactory(username="pingjia", full_name="王珊")


def make_item(unit, owner=None, *, deadline=FAR, title="完善绩效指标体系。", **fields):
    with at(shift(TODAY, -7)):
        return factories.ItemFactory(
            recommendation__finding__result__project__unit=unit,
            recommendation__title=title,
            owner=owner,
            deadline=deadline,
            **fields,
        )


def submittable(item, owner):
    """An accepted plan and evidence in place, as the unit would have them before submitting
    (made directly, so they hand nothing to anyone: only the submission notifies)."""
    RectificationPlan.objects.create(
        item=item,
        version=1,
        status=PlanStatus.ACCEPTED,
        rectification_type=RectificationType.IMMEDIATE,
        measures="修订指标体系。",
        agreement=Agreement.AGREE,
        submitted_by=owner,
    )
    factories.force_update(
        RectificationItem.objects.filter(pk=item.pk),
        measures="修订指标体系。",
        status=ItemStatus.IN_PROGRESS,
    )
    factories.EvidenceFactory(progress__item=item, progress__author=owner)
    item.refresh_from_db()
    return item


def messages(**filters) -> list[tuple[str, str, str, str]]:
    """(recipient, rule, role, status) of every e-mail row, sorted."""
    return sorted(
        Reminder.objects.filter(recipient__isnull=False, **filters).values_list(
            "recipient__username", "rule", "role", "status"
        )
    )


def mail_to(user) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [user.email]]


def close_item(item, staff):
    """初审 by a colleague of ``staff``, then 复核 and 销号 by ``staff``."""
    ledger.first_review(
        item=item,
        actor=ledger.Actor(user=factories.StaffUserFactory(full_name="李华")),
        outcome=ClosureOutcome.RECTIFIED,
        method=VerificationMethod.SITE_CHECK,
        verified_by="李华",
        verified_on=TODAY,
        note="经现场核查，指标体系已修订到位。",
    )
    ledger.second_review(item=item, actor=ledger.Actor(user=staff), confirm=True)


# --- 1. a return ---------------------------------------------------------------------------------


def test_it_tells_the_owner_of_a_return_with_the_reason_and_copies_the_head(
    unit, owner, colleague, head, staff
):
    item = make_item(unit, owner, status=ItemStatus.SUBMITTED)
    with at(TODAY, 10):
        ledger.return_item(
            item=item, actor=ledger.Actor(user=staff), reason="佐证材料未加盖公章，请补充。"
        )
    sweep_at(TODAY, 10, 2)

    assert messages() == [
        ("head", Rule.RETURNED, RecipientRole.CC, ReminderStatus.SENT),
        ("owner", Rule.RETURNED, RecipientRole.TO, ReminderStatus.SENT),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, head.email])
    [to_owner] = mail_to(owner)
    assert "【已退回单位】" in to_owner.body
    assert "（抄送）" not in to_owner.body
    assert "王珊：退回" in to_owner.body
    assert "佐证材料未加盖公章，请补充。" in to_owner.body
    assert f"http://testserver/items/{item.pk}/" in to_owner.body
    assert "办理动态" in to_owner.subject
    [to_head] = mail_to(head)
    assert "【已退回单位】（抄送）" in to_head.body
    assert "佐证材料未加盖公章，请补充。" in to_head.body
    assert not mail_to(staff) and not mail_to(colleague), "neither the actor nor a bystander"


# --- 2. closure, reopening, extension decisions --------------------------------------------------


def _close(item, owner, staff):
    close_item(item, staff)


def _reopen(item, owner, staff):
    ledger.reopen(
        item=item,
        actor=ledger.Actor(user=staff),
        reason="回头看发现指标仍未修订。",
        new_deadline=datetime.date(2024, 9, 30),
    )


def _approve(item, owner, staff):
    extension = ledger.request_extension(
        item=item,
        actor=ledger.Actor(user=owner),
        requested_deadline=datetime.date(2025, 3, 31),
        reason="需跨部门协调。",
    )
    ledger.decide_extension(extension=extension, actor=ledger.Actor(user=staff), approve=True)


def _reject(item, owner, staff):
    extension = ledger.request_extension(
        item=item,
        actor=ledger.Actor(user=owner),
        requested_deadline=datetime.date(2025, 3, 31),
        reason="需跨部门协调。",
    )
    ledger.decide_extension(
        extension=extension, actor=ledger.Actor(user=staff), approve=False, note="理由不充分。"
    )


@pytest.mark.parametrize(
    ("status", "act", "rule", "texts"),
    [
        (
            ItemStatus.SUBMITTED,
            _close,
            Rule.CLOSED,
            ["【已销号】", "王珊：销号", "销号结论：已整改", "经现场核查，指标体系已修订到位。"],
        ),
        (
            ItemStatus.CLOSED,
            _reopen,
            Rule.REOPENED,
            [
                "【重新打开】",
                "王珊：重新打开",
                "整改时限：2024-12-31 → 2024-09-30",
                "回头看发现指标仍未修订。",
            ],
        ),
        (
            ItemStatus.IN_PROGRESS,
            _approve,
            Rule.EXTENSION_APPROVED,
            ["【批准延期】", "王珊：批准延期", "整改时限：2024-12-31 → 2025-03-31"],
        ),
        (
            ItemStatus.IN_PROGRESS,
            _reject,
            Rule.EXTENSION_REJECTED,
            ["【驳回延期】", "王珊：驳回延期", "理由不充分。"],
        ),
    ],
    ids=["close", "reopen", "extension-approved", "extension-rejected"],
)
def test_it_tells_the_owner_and_copies_the_head_when_the_bureau_decides(
    unit, owner, head, staff, status, act, rule, texts
):
    fields = {"closure_outcome": ClosureOutcome.RECTIFIED} if status == ItemStatus.CLOSED else {}
    item = make_item(unit, owner, status=status, **fields)
    with at(TODAY, 10):
        act(item, owner, staff)
    sweep_at(TODAY, 10, 2)

    assert messages(rule=rule) == [
        ("head", rule, RecipientRole.CC, ReminderStatus.SENT),
        ("owner", rule, RecipientRole.TO, ReminderStatus.SENT),
    ]
    [to_owner] = mail_to(owner)
    for text in texts:
        assert text in to_owner.body
    [to_head] = mail_to(head)
    assert texts[0] + "（抄送）" in to_head.body
    # The person who decided is not told of it (an extension request before it, in the same
    # sweep, did go to them: they are the bureau's only staff, so its reviewer).
    assert not Reminder.objects.filter(recipient=staff, rule=rule).exists()


# --- 3. assignment -------------------------------------------------------------------------------


def test_it_tells_the_new_owner_of_an_assignment_and_not_the_head(
    unit, owner, colleague, head, staff
):
    item = make_item(unit, None)
    with at(TODAY, 10):
        ledger.assign(
            item=item,
            actor=ledger.Actor(user=staff),
            owner=owner,
            deadline=datetime.date(2024, 9, 30),
            reason="按评价报告要求限期整改。",
        )
    sweep_at(TODAY, 10, 2)

    assert messages() == [("owner", Rule.ASSIGNED, RecipientRole.TO, ReminderStatus.SENT)]
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert "【分派】" in message.body
    assert "责任人：无 → 陈晓敏" in message.body
    assert "整改时限：2024-12-31 → 2024-09-30" in message.body


def test_it_tells_the_units_staff_of_an_assignment_that_leaves_no_owner(
    unit, owner, colleague, head, staff
):
    item = make_item(unit, owner)
    with at(TODAY, 10):
        ledger.assign(
            item=item,
            actor=ledger.Actor(user=staff),
            owner=None,
            deadline=datetime.date(2024, 9, 30),
            reason="原责任人已调岗，请单位另行指定。",
        )
    sweep_at(TODAY, 10, 2)

    # Nobody is named: the unit's staff (经办人) are addressed, the head in copy.
    assert messages() == [
        ("colleague", Rule.ASSIGNED, RecipientRole.TO, ReminderStatus.SENT),
        ("head", Rule.ASSIGNED, RecipientRole.CC, ReminderStatus.SENT),
        ("owner", Rule.ASSIGNED, RecipientRole.TO, ReminderStatus.SENT),
    ]
    assert "责任人：陈晓敏 → 无" in mail_to(colleague)[0].body
    assert not mail_to(staff)


# --- 4. the bureau hears of submissions and extension requests -----------------------------------


def _submit(item, owner):
    ledger.submit(item=submittable(item, owner), actor=ledger.Actor(user=owner), result="已完成。")


def _request(item, owner):
    ledger.request_extension(
        item=item,
        actor=ledger.Actor(user=owner),
        requested_deadline=datetime.date(2025, 3, 31),
        reason="需跨部门协调。",
    )


@pytest.mark.parametrize(
    ("act", "rule", "text"),
    [
        (_submit, Rule.SUBMITTED, "【提交销号】"),
        (_request, Rule.EXTENSION_REQUESTED, "申请将整改时限延至：2025-03-31"),
    ],
    ids=["submit", "request-extension"],
)
@pytest.mark.parametrize("named", ["unit", "round", "nobody"])
def test_it_tells_the_items_reviewers_of_a_submission_or_an_extension_request(
    unit, owner, head, act, rule, text, named
):
    unit_reviewer = factories.StaffUserFactory(username="unit_reviewer")
    round_reviewer = factories.StaffUserFactory(username="round_reviewer")
    factories.StaffUserFactory(username="other_staff")
    item = make_item(unit, owner)
    if named == "unit":
        unit.reviewer = unit_reviewer
        unit.save()
    if named in ("unit", "round"):
        EvaluationRound.objects.filter(year=item.round_year).update(reviewer=round_reviewer)
    # A reviewer named for another year's round is not this item's.
    factories.RoundFactory(year=item.round_year + 1, reviewer=unit_reviewer)
    with at(TODAY, 10):
        act(item, owner)
    sweep_at(TODAY, 10, 2)

    expected = {
        "unit": ["unit_reviewer"],
        "round": ["round_reviewer"],
        "nobody": ["other_staff", "round_reviewer", "unit_reviewer"],  # all evaluation staff
    }[named]
    assert messages() == [(name, rule, RecipientRole.TO, ReminderStatus.SENT) for name in expected]
    assert not mail_to(owner) and not mail_to(head), "the unit that acted is not told"
    message = mail.outbox[0]
    assert text in message.body
    assert "陈晓敏：" in message.body, "who acted"


def test_it_passes_over_a_named_reviewer_who_no_longer_works_there(unit, owner):
    """A reviewer whose account was disabled (or who left the staff group) is not the reviewer
    any more: the next in line is, rather than a message nobody can receive."""
    gone = factories.StaffUserFactory(username="gone", is_active=False)
    round_reviewer = factories.StaffUserFactory(username="round_reviewer")
    unit.reviewer = gone
    unit.save()
    item = make_item(unit, owner)
    EvaluationRound.objects.filter(year=item.round_year).update(reviewer=round_reviewer)
    with at(TODAY, 10):
        _submit(item, owner)
    sweep_at(TODAY, 10, 2)

    assert messages() == [("round_reviewer", Rule.SUBMITTED, "to", ReminderStatus.SENT)]
    assert [m.to for m in mail.outbox] == [[round_reviewer.email]]


# --- 5. once, and only while fresh ---------------------------------------------------------------


def test_it_plans_a_notification_once_however_many_sweeps_run(unit, owner, staff):
    item = make_item(unit, owner, status=ItemStatus.SUBMITTED)
    with at(TODAY, 10):
        ledger.return_item(item=item, actor=ledger.Actor(user=staff), reason="请补充材料。")
    first = sweep_at(TODAY, 10, 2)
    second = sweep_at(TODAY, 10, 4)
    third = sweep_at(shift(TODAY, 1), 0, 2)

    assert (first.planned, second.planned, third.planned) == (1, 0, 0)
    assert not second and not third
    assert len(mail.outbox) == 1
    assert Reminder.objects.count() == 1


def test_it_does_not_notify_an_event_older_than_the_window(unit, owner, staff, settings):
    settings.LIWAN_NOTIFY_WITHIN_HOURS = 48
    old = make_item(unit, owner, status=ItemStatus.SUBMITTED, title="加强资金支出管理。")
    fresh = make_item(unit, owner, status=ItemStatus.SUBMITTED)
    with at(TODAY, 10):
        ledger.return_item(item=old, actor=ledger.Actor(user=staff), reason="旧的退回。")
    with at(TODAY, 11):
        ledger.return_item(item=fresh, actor=ledger.Actor(user=staff), reason="新的退回。")
    # The sweeps were down for two days: 48 h 30 min after the first event, 47 h 30 min after
    # the second.
    sweep_at(shift(TODAY, 2), 10, 30)

    assert list(Reminder.objects.values_list("item_id", flat=True)) == [fresh.pk]
    [message] = mail.outbox
    assert "新的退回。" in message.body
    assert "旧的退回。" not in message.body


# --- 6. immediate or daily -----------------------------------------------------------------------


def test_it_sends_an_immediate_users_notification_even_after_todays_digest(unit, owner, staff):
    assert owner.notify_mode == NotifyMode.IMMEDIATE  # the default
    make_item(unit, owner, deadline=shift(TODAY, 1), title="加强资金支出管理。")
    returned = make_item(unit, owner, status=ItemStatus.SUBMITTED)
    sweep_at(TODAY, 0, 2)  # the day's digest: "1 day left"
    assert len(mail_to(owner)) == 1

    with at(TODAY, 15):
        ledger.return_item(item=returned, actor=ledger.Actor(user=staff), reason="请补充材料。")
    sweep_at(TODAY, 15, 2)

    assert len(mail_to(owner)) == 2
    second = mail_to(owner)[1]
    assert "请补充材料。" in second.body
    assert "加强资金支出管理" not in second.body, "the reminder was in the morning's digest"


def test_it_folds_a_daily_users_notification_into_tomorrows_digest(unit, owner, staff):
    owner.notify_mode = NotifyMode.DAILY
    owner.save()
    make_item(unit, owner, deadline=shift(TODAY, 1), title="加强资金支出管理。")
    returned = make_item(unit, owner, status=ItemStatus.SUBMITTED)
    sweep_at(TODAY, 0, 2)
    assert len(mail_to(owner)) == 1

    with at(TODAY, 15):
        ledger.return_item(item=returned, actor=ledger.Actor(user=staff), reason="请补充材料。")
    sweep_at(TODAY, 15, 2)
    sweep_at(TODAY, 23, 58)
    assert len(mail_to(owner)) == 1, "one e-mail a day"
    assert messages(rule=Rule.RETURNED) == [
        ("owner", Rule.RETURNED, RecipientRole.TO, ReminderStatus.PENDING)
    ]

    sweep_at(shift(TODAY, 1), 0, 2)
    assert len(mail_to(owner)) == 2
    tomorrow = mail_to(owner)[1]
    assert "请补充材料。" in tomorrow.body
    assert "【今日到期】" in tomorrow.body, "with the day's reminder, in one e-mail"
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}


# --- 7. folded into the digest the person gets anyway --------------------------------------------


def test_it_folds_a_notification_into_the_digest_of_the_day(unit, owner, staff):
    make_item(unit, owner, deadline=TODAY, title="加强资金支出管理。")
    returned = make_item(unit, owner, status=ItemStatus.SUBMITTED)
    with at(TODAY, 0, 1):  # before the day's first sweep
        ledger.return_item(item=returned, actor=ledger.Actor(user=staff), reason="请补充材料。")
    result = sweep_at(TODAY, 0, 2)

    assert (result.planned, result.delivery.emails, result.delivery.sent) == (2, 1, 2)
    [message] = mail.outbox
    assert message.body.count("查看与办理") == 2
    assert "【今日到期】" in message.body
    assert "【已退回单位】" in message.body
    assert "请补充材料。" in message.body


# --- 8. a submission waits for the bureau, not for the unit --------------------------------------


def test_it_chases_the_reviewer_not_the_unit_while_a_submission_waits(unit, owner, head, staff):
    """Submitted on Friday 27 September 2024, before the National Day holiday: the five working
    days are 29 September (a Sunday worked in exchange), 30 September, 8, 9 and 10 October.
    Counting Monday to Friday would have said 4 October, in the middle of the holiday."""
    reviewer = factories.StaffUserFactory(username="reviewer")
    unit.reviewer = reviewer
    unit.save()
    deadline = datetime.date(2024, 9, 30)
    waiting = make_item(unit, owner, deadline=deadline)
    control = make_item(unit, owner, deadline=deadline, title="加强资金支出管理。")
    submitted_on = datetime.date(2024, 9, 27)
    with at(submitted_on, 8):
        _submit(waiting, owner)

    sent_on: dict[datetime.date, list[tuple[str, str]]] = {}
    day = submitted_on
    while day <= datetime.date(2024, 10, 18):
        sweep_at(day, 9)
        sent_on[day] = sorted(
            Reminder.objects.filter(item=waiting, sent_at__date=day).values_list(
                "recipient__username", "rule"
            )
        )
        day = shift(day, 1)

    # The unit is not chased for the waiting item (the control item shows it would be).
    for rule in (Rule.DUE_SOON, Rule.DUE_TODAY, Rule.OVERDUE):
        assert Reminder.objects.filter(item=control, rule=rule).exists()
        assert not Reminder.objects.filter(item=waiting, rule=rule).exists()
    assert not Reminder.objects.filter(item=waiting, rule=Rule.ESCALATED).exists()
    assert not Reminder.objects.filter(item=waiting, recipient__in=[owner, head]).exists()
    # The reviewer: told of the submission at once, reminded on the fifth working day, then
    # every seven days while it waits.
    assert {day: rows for day, rows in sent_on.items() if rows} == {
        submitted_on: [("reviewer", Rule.SUBMITTED)],
        datetime.date(2024, 10, 10): [("reviewer", Rule.REVIEW_WAITING)],
        datetime.date(2024, 10, 17): [("reviewer", Rule.REVIEW_WAITING)],
    }
    assert set(
        Reminder.objects.filter(item=waiting, rule=Rule.REVIEW_WAITING).values_list(
            "status", flat=True
        )
    ) == {ReminderStatus.SENT}
    reminder = next(m for m in mail_to(reviewer) if "销号申请待审核" in m.body)
    assert BUREAU_CLOSING in reminder.body


def test_it_drops_a_review_reminder_once_the_submission_is_decided(unit, owner, staff):
    """Submitted on Monday 3 June 2024: the fifth working day is Tuesday 11 June (Monday 10 June
    is the Dragon Boat Festival)."""
    item = make_item(unit, owner)
    with at(TODAY, 8):
        _submit(item, owner)
    sweep_at(datetime.date(2024, 6, 10))
    assert not Reminder.objects.filter(rule=Rule.REVIEW_WAITING).exists()
    with at(datetime.date(2024, 6, 11), 0, 1):
        services.plan_reminders(today=datetime.date(2024, 6, 11))
        close_item(item, staff)
    sweep_at(datetime.date(2024, 6, 11), 0, 2)

    reminder = Reminder.objects.get(rule=Rule.REVIEW_WAITING)
    assert (reminder.period, reminder.skip_reason) == (
        datetime.date(2024, 6, 11),
        SkipReason.ITEM_CLOSED,
    )
    sweep_at(datetime.date(2024, 6, 18))
    assert Reminder.objects.filter(rule=Rule.REVIEW_WAITING).count() == 1


# --- 9. wording per audience ---------------------------------------------------------------------


def test_it_words_the_bureaus_digest_and_the_units_digest_each_for_its_reader(unit, owner, staff):
    submitted = make_item(unit, owner)
    returned = make_item(unit, owner, status=ItemStatus.SUBMITTED, title="加强资金支出管理。")
    with at(TODAY, 10):
        _submit(submitted, owner)
        ledger.return_item(item=returned, actor=ledger.Actor(user=staff), reason="请补充材料。")
    sweep_at(TODAY, 10, 2)

    [to_staff] = mail_to(staff)
    assert BUREAU_CLOSING in to_staff.body
    assert UNIT_CLOSING not in to_staff.body
    assert "待审核或督办" in to_staff.subject
    assert BUREAU_CLOSING in to_staff.alternatives[0][0]
    [to_unit] = mail_to(owner)
    assert UNIT_CLOSING in to_unit.body
    assert BUREAU_CLOSING not in to_unit.body
    assert "需要关注" in to_unit.subject
    assert UNIT_CLOSING in to_unit.alternatives[0][0]


def test_it_writes_the_whole_mail_in_the_sites_language_whatever_the_callers(unit, owner, staff):
    """A sweep may run inside a request (the back-office's "重新发送" with Celery eager) whose
    language is English: the reasons and news lines are Chinese like the rest of the mail."""
    item = make_item(unit, owner, status=ItemStatus.SUBMITTED)
    with at(TODAY, 10):
        ledger.return_item(item=item, actor=ledger.Actor(user=staff), reason="请补充材料。")
    with translation.override("en"):
        sweep_at(TODAY, 10, 2)

    [message] = mail.outbox
    assert "【已退回单位】" in message.body
    assert "王珊：退回" in message.body
    assert "状态：待销号 → 整改中" in message.body
    assert "Returned" not in message.body and "Status" not in message.body


# --- 10. a person moved to another unit ----------------------------------------------------------


def test_it_addresses_the_units_staff_when_the_owner_has_moved_to_another_unit(
    unit, owner, colleague, head, staff
):
    owner.unit = factories.UnitFactory(name="广州市荔湾区财政局机关")
    owner.save()
    make_item(unit, owner, deadline=TODAY)
    returned = make_item(unit, owner, status=ItemStatus.SUBMITTED, title="加强资金支出管理。")
    with at(TODAY, 8):
        ledger.return_item(item=returned, actor=ledger.Actor(user=staff), reason="请补充材料。")
    sweep_at(TODAY)

    assert messages() == [
        ("colleague", Rule.DUE_TODAY, RecipientRole.TO, ReminderStatus.SENT),
        ("colleague", Rule.RETURNED, RecipientRole.TO, ReminderStatus.SENT),
        ("head", Rule.DUE_TODAY, RecipientRole.CC, ReminderStatus.SENT),
        ("head", Rule.RETURNED, RecipientRole.CC, ReminderStatus.SENT),
    ]
    assert not mail_to(owner)


def test_it_skips_a_message_planned_before_its_recipient_moved(unit, owner, colleague, head, staff):
    make_item(unit, owner, deadline=TODAY)
    returned = make_item(unit, owner, status=ItemStatus.SUBMITTED, title="加强资金支出管理。")
    with at(TODAY, 8):
        ledger.return_item(item=returned, actor=ledger.Actor(user=staff), reason="请补充材料。")
        services.plan_reminders(today=TODAY)
        services.plan_notifications(now=clock.now())
    assert {r[0] for r in messages()} == {"owner", "head"}
    owner.unit = factories.UnitFactory(name="广州市荔湾区财政局机关")
    owner.save()
    sweep_at(TODAY)

    moved = Reminder.objects.filter(recipient=owner)
    assert set(moved.values_list("status", "skip_reason")) == {
        (ReminderStatus.SKIPPED, SkipReason.RECIPIENT_MOVED)
    }
    assert moved.count() == 2
    assert not mail_to(owner)
    # The same sweep addresses the unit's staff instead (the owner is no longer theirs).
    assert ("colleague", Rule.DUE_TODAY, RecipientRole.TO, ReminderStatus.SENT) in messages()


# --- 11. a unit nobody can be told at ------------------------------------------------------------


def test_it_tells_the_reviewers_when_a_unit_has_nobody_to_remind(unit, staff):
    other = factories.StaffUserFactory(username="other_staff")
    make_item(unit, None, deadline=TODAY)
    sweep_at(TODAY)
    sweep_at(TODAY, 9, 2)

    assert messages() == [
        ("other_staff", Rule.NOBODY_TO_REMIND, RecipientRole.TO, ReminderStatus.SENT),
        ("pingjia", Rule.NOBODY_TO_REMIND, RecipientRole.TO, ReminderStatus.SENT),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([staff.email, other.email])
    body = mail_to(staff)[0].body
    assert "【单位无人可提醒】" in body
    assert "广州市荔湾区市政园林绿化管理中心" in body
    assert BUREAU_CLOSING in body


def test_a_unit_whose_only_accounts_are_disabled_has_nobody_to_remind(unit, staff):
    """The staff's worklist counts such a unit as unreachable (no active account); the sweep
    agrees, and tells the bureau instead of planning mail the sender would drop unread."""
    factories.UnitStaffFactory(unit=unit, username="left", is_active=False)
    factories.UnitHeadFactory(unit=unit, username="retired", is_active=False)
    make_item(unit, None, deadline=TODAY)
    sweep_at(TODAY)

    assert messages() == [
        ("pingjia", Rule.NOBODY_TO_REMIND, RecipientRole.TO, ReminderStatus.SENT),
    ]


def test_a_unit_with_a_group_robot_is_not_unreachable(unit, staff):
    make_item(unit, None, deadline=TODAY)
    with running_robot() as robot:
        unit.webhook_kind = WebhookKind.WECOM
        unit.webhook_url = robot.url
        unit.save()
        sweep_at(TODAY)

    assert not Reminder.objects.filter(rule=Rule.NOBODY_TO_REMIND).exists()
    assert mail.outbox == []
    [posted] = robot.requests
    assert "今日到期" in posted.content
    assert Reminder.objects.get().status == ReminderStatus.SENT
