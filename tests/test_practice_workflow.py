"""The practice steps of the workflow, at the service level: the plan and its revisions,
milestones of a staged rectification, the unit head's sign-off, the second review (four eyes),
不予整改 with its justification and consent, and the follow-up check (回头看) that can find a
relapse."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rectification import services
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    EventAction,
    FollowUpStatus,
    ItemStatus,
    MilestoneStatus,
    PlanStatus,
    RectificationType,
    VerificationMethod,
)
from rectification.models import Event, Milestone, RectificationPlan
from tests import factories, workflow

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def _day(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def owned():
    return workflow.owned_item(deadline=_day(60))


@pytest.fixture
def item(owned):
    return owned[0]


@pytest.fixture
def member(owned):
    return owned[1]


@pytest.fixture
def staff():
    return factories.StaffUserFactory()


def _actions(item) -> list[str]:
    return list(Event.objects.filter(item=item).order_by("id").values_list("action", flat=True))


def _staged(item, member, *deadlines: int):
    return services.submit_plan(
        item=item,
        actor=workflow.actor(member),
        rectification_type=RectificationType.STAGED,
        measures="分三个阶段完成整改。",
        agreement=Agreement.AGREE,
        milestones=[
            services.PlannedMilestone(title=f"第{n}阶段", deadline=_day(days))
            for n, days in enumerate(deadlines, start=1)
        ],
    )


# --- the plan -------------------------------------------------------------------------------


def test_a_returned_plan_keeps_its_reason_and_the_next_one_is_version_two(item, member, staff):
    first = _staged(item, member, 20)
    with pytest.raises(ValidationError):
        services.decide_plan(plan=first, actor=workflow.actor(staff), accept=False, note=" ")
    services.decide_plan(
        plan=first, actor=workflow.actor(staff), accept=False, note="阶段目标不具体"
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN  # a returned plan starts nothing

    second = _staged(item, member, 20, 40)

    first.refresh_from_db()
    assert (first.status, first.decision_note) == (PlanStatus.RETURNED, "阶段目标不具体")
    assert (second.version, second.status) == (2, PlanStatus.SUBMITTED)
    assert _actions(item) == [
        EventAction.PLAN_SUBMITTED,
        EventAction.PLAN_RETURNED,
        EventAction.PLAN_SUBMITTED,
    ]


def test_an_accepted_revision_supersedes_the_old_plan_and_keeps_accepted_milestones(
    item, member, staff
):
    services.decide_plan(
        plan=_staged(item, member, 10, 20), actor=workflow.actor(staff), accept=True
    )
    done = Milestone.objects.get(item=item, number=1)
    services.report_milestone(
        milestone=done,
        actor=workflow.actor(member),
        note="第一阶段完成",
        files=[workflow.evidence()],
    )
    services.decide_milestone(milestone=done, actor=workflow.actor(staff), accept=True)

    # The revision renames stage 1 and drops stage 2 for a later stage 3.
    revision = services.submit_plan(
        item=item,
        actor=workflow.actor(member),
        rectification_type=RectificationType.STAGED,
        measures="调整为两个阶段。",
        agreement=Agreement.AGREE,
        milestones=[
            services.PlannedMilestone(title="改名的第一阶段", deadline=_day(5)),
            services.PlannedMilestone(title="第二阶段（调整）", deadline=_day(50)),
        ],
    )
    item.refresh_from_db()
    assert item.measures == "分三个阶段完成整改。"  # unchanged until staff accept the revision
    services.decide_plan(plan=revision, actor=workflow.actor(staff), accept=True)

    statuses = dict(RectificationPlan.objects.filter(item=item).values_list("version", "status"))
    assert statuses == {1: PlanStatus.SUPERSEDED, 2: PlanStatus.ACCEPTED}
    item.refresh_from_db()
    assert item.measures == "调整为两个阶段。"
    milestones = {
        m.number: (m.title, m.deadline, m.status) for m in Milestone.objects.filter(item=item)
    }
    assert milestones == {
        1: ("第1阶段", _day(10), MilestoneStatus.ACCEPTED),  # accepted work is not rewritten
        2: ("第二阶段（调整）", _day(50), MilestoneStatus.OPEN),
    }


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"rectification_type": "whatever"}, "type"),
        ({"rectification_type": RectificationType.STAGED}, "no_milestones"),
        ({"rectification_type": RectificationType.ONGOING}, "required"),  # no roadmap
        ({"agreement": Agreement.DISAGREE}, "required"),  # no reason
        ({"agreement": Agreement.PARTLY}, "required"),  # no reason
        ({"measures": "   "}, "required"),
    ],
)
def test_an_incomplete_plan_is_refused_and_records_nothing(item, member, kwargs, code):
    fields = {
        "rectification_type": RectificationType.IMMEDIATE,
        "measures": "立行立改。",
        "agreement": Agreement.AGREE,
        **kwargs,
    }
    with pytest.raises(ValidationError) as refused:
        services.submit_plan(item=item, actor=workflow.actor(member), **fields)
    assert refused.value.code == code
    assert not RectificationPlan.objects.filter(item=item).exists()
    assert _actions(item) == []


def test_milestones_must_fall_by_the_deadline_and_be_few(item, member):
    with pytest.raises(ValidationError) as late:
        _staged(item, member, 61)
    assert late.value.code == "milestone_late"
    with pytest.raises(ValidationError) as many:
        _staged(item, member, *range(1, 14))
    assert many.value.code == "too_many_milestones"
    assert not RectificationPlan.objects.filter(item=item).exists()


def test_a_second_plan_waits_for_the_decision_on_the_first(item, member):
    _staged(item, member, 20)
    with pytest.raises(ValidationError) as pending:
        _staged(item, member, 30)
    assert pending.value.code == "plan_pending"


def test_a_plan_is_decided_once_and_only_by_staff(item, member, staff):
    plan = _staged(item, member, 20)
    with pytest.raises(PermissionDenied):
        services.decide_plan(plan=plan, actor=workflow.actor(member), accept=True)
    services.decide_plan(plan=plan, actor=workflow.actor(staff), accept=True)
    with pytest.raises(ValidationError) as twice:
        services.decide_plan(plan=plan, actor=workflow.actor(staff), accept=True)
    assert twice.value.code == "decided"


# --- milestones -----------------------------------------------------------------------------


def test_a_milestone_needs_evidence_and_submission_waits_for_every_milestone(item, member, staff):
    services.decide_plan(
        plan=_staged(item, member, 10, 20), actor=workflow.actor(staff), accept=True
    )
    first, second = Milestone.objects.filter(item=item).order_by("number")
    with pytest.raises(ValidationError) as bare:
        services.report_milestone(milestone=first, actor=workflow.actor(member), note="完成")
    assert bare.value.code == "no_evidence"

    services.report_milestone(
        milestone=first, actor=workflow.actor(member), note="完成", files=[workflow.evidence()]
    )
    with pytest.raises(ValidationError) as waiting:
        services.submit(item=item, actor=workflow.actor(member))
    assert waiting.value.code == "milestones_open"

    services.decide_milestone(milestone=first, actor=workflow.actor(staff), accept=True)
    services.report_milestone(
        milestone=second, actor=workflow.actor(member), note="完成", files=[workflow.evidence()]
    )
    with pytest.raises(ValidationError):
        services.decide_milestone(milestone=second, actor=workflow.actor(staff), accept=False)
    services.decide_milestone(
        milestone=second, actor=workflow.actor(staff), accept=False, note="佐证不完整"
    )
    second.refresh_from_db()
    assert (second.status, second.decision_note) == (MilestoneStatus.OPEN, "佐证不完整")
    with pytest.raises(ValidationError):
        services.submit(item=item, actor=workflow.actor(member))

    services.report_milestone(
        milestone=second, actor=workflow.actor(member), note="补充", files=[workflow.evidence()]
    )
    services.decide_milestone(milestone=second, actor=workflow.actor(staff), accept=True)
    services.submit(item=item, actor=workflow.actor(member))
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED
    assert _actions(item).count(EventAction.MILESTONE_RETURNED) == 1


def test_a_milestone_is_reported_once_until_it_is_sent_back(item, member, staff):
    services.decide_plan(plan=_staged(item, member, 10), actor=workflow.actor(staff), accept=True)
    milestone = Milestone.objects.get(item=item)
    services.report_milestone(
        milestone=milestone, actor=workflow.actor(member), note="完成", files=[workflow.evidence()]
    )
    with pytest.raises(ValidationError) as again:
        services.report_milestone(
            milestone=milestone,
            actor=workflow.actor(member),
            note="再次",
            files=[workflow.evidence()],
        )
    assert again.value.code == "milestone_reported"


# --- the unit head's sign-off ---------------------------------------------------------------


@pytest.fixture
def signing_unit(item):
    item.unit.head_signoff = True
    item.unit.save(update_fields=["head_signoff"])
    return item.unit


def test_with_head_signoff_a_staff_submission_waits_for_the_head(item, member, signing_unit):
    workflow.worked_on(item, member)
    services.submit(item=item, actor=workflow.actor(member), result="完成")
    item.refresh_from_db()
    assert item.status == ItemStatus.HEAD_REVIEW
    assert item.submitted_at is None  # not at the bureau yet

    head = factories.UnitHeadFactory(unit=signing_unit)
    services.head_signoff(item=item, actor=workflow.actor(head), confirm=True)
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED
    assert item.submitted_at is not None
    assert _actions(item)[-2:] == [EventAction.SUBMITTED, EventAction.HEAD_CONFIRMED]


def test_the_head_sends_it_back_inside_the_unit_with_a_reason(item, member, signing_unit):
    workflow.worked_on(item, member)
    services.submit(item=item, actor=workflow.actor(member))
    head = factories.UnitHeadFactory(unit=signing_unit)
    with pytest.raises(ValidationError):
        services.head_signoff(item=item, actor=workflow.actor(head), confirm=False, note="")
    services.head_signoff(
        item=item, actor=workflow.actor(head), confirm=False, note="请补充制度文件"
    )
    item.refresh_from_db()
    assert (item.status, item.return_reason) == (ItemStatus.IN_PROGRESS, "请补充制度文件")
    # The head judged nothing the bureau saw: the old evidence still counts.
    services.submit(item=item, actor=workflow.actor(member))
    item.refresh_from_db()
    assert item.status == ItemStatus.HEAD_REVIEW


def test_an_item_the_bureau_returned_goes_to_the_head_again_when_resubmitted(
    item, member, signing_unit, staff
):
    head = factories.UnitHeadFactory(unit=signing_unit)
    workflow.worked_on(item, member, staff)
    services.submit(item=item, actor=workflow.actor(member))
    services.head_signoff(item=item, actor=workflow.actor(head), confirm=True)
    services.return_item(item=item, actor=workflow.actor(staff), reason="佐证材料不足")
    services.add_progress(
        item=item, actor=workflow.actor(member), note="补充材料", files=[workflow.evidence()]
    )
    services.submit(item=item, actor=workflow.actor(member))
    item.refresh_from_db()
    # At the head again, no longer marked as returned (the unit has answered it).
    assert (item.status, item.returned_at, item.return_reason) == (
        ItemStatus.HEAD_REVIEW,
        None,
        "",
    )


def test_a_head_submitting_goes_straight_to_the_bureau(item, member, signing_unit):
    head = factories.UnitHeadFactory(unit=signing_unit)
    workflow.worked_on(item, member)
    services.submit(item=item, actor=workflow.actor(head))
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED


def test_only_the_items_own_head_signs_off(item, member, signing_unit, staff):
    workflow.worked_on(item, member)
    services.submit(item=item, actor=workflow.actor(member))
    for stranger in (
        factories.UnitHeadFactory(),  # another unit's head
        member,  # the unit's staff
        staff,  # the bureau
    ):
        with pytest.raises(PermissionDenied):
            services.head_signoff(item=item, actor=workflow.actor(stranger), confirm=True)
    item.refresh_from_db()
    assert item.status == ItemStatus.HEAD_REVIEW


def test_without_head_signoff_a_submission_goes_to_the_bureau(item, member):
    workflow.submitted(item, member)
    assert item.status == ItemStatus.SUBMITTED


# --- the second review ----------------------------------------------------------------------


def test_the_first_reviewer_cannot_also_make_the_second_review(item, member, staff):
    workflow.submitted(item, member)
    workflow.first_reviewed(item, staff)
    with pytest.raises(PermissionDenied):
        services.second_review(item=item, actor=workflow.actor(staff), confirm=True)
    item.refresh_from_db()
    assert item.status == ItemStatus.SECOND_REVIEW

    services.second_review(
        item=item, actor=workflow.actor(factories.StaffUserFactory()), confirm=True
    )
    item.refresh_from_db()
    assert (item.status, item.closure_outcome) == (ItemStatus.CLOSED, ClosureOutcome.RECTIFIED)


def test_a_declined_proposal_goes_back_to_the_queue_it_came_from(item, member, staff):
    workflow.submitted(item, member)
    workflow.first_reviewed(item, staff)
    second = factories.StaffUserFactory()
    with pytest.raises(ValidationError):
        services.second_review(item=item, actor=workflow.actor(second), confirm=False)
    services.second_review(
        item=item, actor=workflow.actor(second), confirm=False, note="核查记录不全"
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED
    assert (item.proposed_outcome, item.first_reviewer_id) == ("", None)
    # Declined, the first reviewer may review it again, and the decliner may now be second.
    workflow.first_reviewed(item, staff)
    services.second_review(item=item, actor=workflow.actor(second), confirm=True)
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED


def test_a_proposal_to_close_an_unsubmitted_item_goes_back_to_the_unit_when_declined(
    item, member, staff
):
    workflow.plan_accepted(item, member)
    workflow.first_reviewed(item, staff, outcome=ClosureOutcome.NOT_RECTIFIED)
    services.second_review(
        item=item, actor=workflow.actor(factories.StaffUserFactory()), confirm=False, note="再等等"
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_PROGRESS


# --- 不予整改 and 持续整改 --------------------------------------------------------------------


def test_not_applicable_needs_a_justification_and_the_second_reviewers_consent(item, member, staff):
    workflow.submitted(item, member)
    with pytest.raises(ValidationError) as short:
        services.first_review(
            item=item,
            actor=workflow.actor(staff),
            outcome=ClosureOutcome.NOT_APPLICABLE,
            method=VerificationMethod.DOCUMENT_REVIEW,
            verified_by="王珊",
            verified_on=TODAY,
            note="不适用",
        )
    assert short.value.code == "justification"

    workflow.first_reviewed(
        item,
        staff,
        outcome=ClosureOutcome.NOT_APPLICABLE,
        note="项目已于2021年撤销，相关问题客观上无法整改。",
    )
    second = factories.StaffUserFactory()
    with pytest.raises(ValidationError) as no_consent:
        services.second_review(item=item, actor=workflow.actor(second), confirm=True)
    assert no_consent.value.code == "consent"
    services.second_review(item=item, actor=workflow.actor(second), confirm=True, consent=True)

    item.refresh_from_db()
    assert (item.status, item.closure_outcome) == (
        ItemStatus.CLOSED,
        ClosureOutcome.NOT_APPLICABLE,
    )
    closed = Event.objects.get(item=item, action=EventAction.CLOSED)
    assert closed.after["consent"] is True


def test_an_ongoing_rectification_needs_its_roadmap_and_closes_as_ongoing(item, member, staff):
    workflow.plan_accepted(item, member, rectification_type=RectificationType.ONGOING)
    item.refresh_from_db()
    assert item.rectification_type == RectificationType.ONGOING
    services.add_progress(
        item=item,
        actor=workflow.actor(member),
        note="2026年措施已落实",
        files=[workflow.evidence()],
    )
    services.submit(item=item, actor=workflow.actor(member))
    workflow.closed(item, first=staff, outcome=ClosureOutcome.ONGOING)
    assert item.closure_outcome == ClosureOutcome.ONGOING


# --- 回头看 ----------------------------------------------------------------------------------


def test_a_follow_up_is_scheduled_only_for_a_closed_item_once_and_not_in_the_past(
    item, member, staff
):
    actor = workflow.actor(staff)
    with pytest.raises(PermissionDenied):
        services.schedule_follow_up(item=item, actor=actor, due_on=_day(30))
    workflow.submitted(item, member)
    workflow.closed(item, first=staff)
    with pytest.raises(ValidationError) as past:
        services.schedule_follow_up(item=item, actor=actor, due_on=_day(-1))
    assert past.value.code == "past"
    services.schedule_follow_up(item=item, actor=actor, due_on=_day(30))
    with pytest.raises(ValidationError) as twice:
        services.schedule_follow_up(item=item, actor=actor, due_on=_day(40))
    assert twice.value.code == "scheduled"
    with pytest.raises(PermissionDenied):
        services.schedule_follow_up(item=item, actor=workflow.actor(member), due_on=_day(40))


def test_a_follow_up_that_holds_leaves_the_item_closed(item, member, staff):
    workflow.submitted(item, member)
    workflow.closed(item, first=staff)
    check = services.schedule_follow_up(item=item, actor=workflow.actor(staff), due_on=_day(1))
    services.record_follow_up(
        follow_up=check, actor=workflow.actor(staff), holds=True, finding="制度执行良好"
    )
    item.refresh_from_db()
    assert (check.status, item.status, item.relapsed_at) == (
        FollowUpStatus.PASSED,
        ItemStatus.CLOSED,
        None,
    )
    with pytest.raises(ValidationError) as again:
        services.record_follow_up(
            follow_up=check, actor=workflow.actor(staff), holds=False, finding="再查"
        )
    assert again.value.code == "recorded"


def test_a_failed_follow_up_reopens_the_item_as_a_relapse_in_one_event(item, member, staff):
    workflow.submitted(item, member)
    workflow.closed(item, first=staff)
    check = services.schedule_follow_up(item=item, actor=workflow.actor(staff), due_on=_day(1))
    events_before = Event.objects.filter(item=item).count()
    services.record_follow_up(
        follow_up=check,
        actor=workflow.actor(staff),
        holds=False,
        finding="问题反弹：资金仍未按进度拨付",
        new_deadline=_day(90),
    )
    item.refresh_from_db()
    check.refresh_from_db()
    assert check.status == FollowUpStatus.FAILED
    assert item.status == ItemStatus.OPEN
    assert item.relapsed_at is not None
    assert item.deadline == _day(90)
    assert item.closure_outcome == ""
    assert Event.objects.filter(item=item).count() == events_before + 1
    failed = Event.objects.filter(item=item).latest("id")
    assert failed.action == EventAction.FOLLOW_UP_FAILED
    assert failed.after["relapse"] is True
    assert failed.before["status"] == ItemStatus.CLOSED
