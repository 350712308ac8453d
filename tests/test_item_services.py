"""The workflow's transitions: allowed and refused per role and state, one event each."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from rectification import services
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    EventAction,
    ExtensionStatus,
    ItemStatus,
    RectificationType,
    VerificationMethod,
)
from rectification.models import Event, Evidence, RectificationItem
from rectification.uploads import check_evidence
from tests import factories, workflow

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def item():
    return factories.ItemFactory(deadline=datetime.date.today() + datetime.timedelta(days=10))


@pytest.fixture
def member(item):
    """The unit's staff member, owner of the item (a closure names who answers for it)."""
    user = factories.UnitStaffFactory(unit=item.unit)
    RectificationItem.objects.filter(pk=item.pk).update(owner=user)
    item.owner = user
    return services.Actor(user=user, ip="10.0.0.1")


@pytest.fixture
def outsider():
    return services.Actor(user=factories.UnitStaffFactory())


@pytest.fixture
def staff():
    return services.Actor(user=factories.StaffUserFactory(), ip="10.0.0.9")


def _pdf(name: str = "方案.pdf"):
    return check_evidence(SimpleUploadedFile(name, PDF, "application/pdf"))


def _plan(item, actor, measures: str = "成立专班，制定方案。", **kwargs):
    return services.submit_plan(
        item=item,
        actor=actor,
        rectification_type=RectificationType.IMMEDIATE,
        measures=measures,
        agreement=Agreement.AGREE,
        **kwargs,
    )


def _accepted(item, member, staff, measures: str = "成立专班，制定方案。"):
    services.decide_plan(plan=_plan(item, member, measures), actor=staff, accept=True)


def _ready_to_submit(item, member, staff):
    _accepted(item, member, staff)
    services.add_progress(item=item, actor=member, note="已印发方案。", files=[_pdf()])


def _close(item, first, second, outcome=ClosureOutcome.RECTIFIED, note="实地核查属实"):
    services.first_review(
        item=item,
        actor=first,
        outcome=outcome,
        method=VerificationMethod.SITE_CHECK,
        verified_by="王珊",
        verified_on=datetime.date.today(),
        note=note,
    )
    services.second_review(item=item, actor=second, confirm=True)


@pytest.fixture
def second():
    return services.Actor(user=factories.StaffUserFactory(), ip="10.0.0.8")


def _events(item) -> list[str]:
    return list(Event.objects.filter(item=item).order_by("id").values_list("action", flat=True))


def test_it_starts_work_when_the_plan_is_accepted_each_step_one_event(item, member, staff):
    plan = _plan(item, member, "一是……二是……")
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN, "a plan waiting for acceptance starts nothing"
    assert item.version == 2
    event = Event.objects.get(item=item)
    assert event.action == EventAction.PLAN_SUBMITTED
    assert event.actor == member.user
    assert event.ip == "10.0.0.1"
    services.decide_plan(plan=plan, actor=staff, accept=True)
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_PROGRESS
    assert item.measures == "一是……二是……"
    assert item.rectification_type == RectificationType.IMMEDIATE
    accepted = Event.objects.get(item=item, action=EventAction.PLAN_ACCEPTED)
    assert accepted.before["status"] == ItemStatus.OPEN


def test_it_refuses_a_plan_from_another_unit_and_from_staff(item, outsider, staff):
    for actor in (outsider, staff):
        with pytest.raises(PermissionDenied):
            _plan(item, actor, "越权")
    item.refresh_from_db()
    assert item.measures == ""
    assert _events(item) == []


def test_it_stores_evidence_with_its_hash(item, member):
    progress = services.add_progress(item=item, actor=member, note="进展", files=[_pdf()])
    evidence = Evidence.objects.get(progress=progress)
    assert evidence.original_name == "方案.pdf"
    assert evidence.content_type == "application/pdf"
    assert len(evidence.sha256) == 64
    assert evidence.file.read() == PDF


def test_submit_needs_an_accepted_plan_and_evidence(item, member, staff):
    services.add_progress(item=item, actor=member, note="只有文字进展")
    with pytest.raises(ValidationError, match="整改方案"):
        services.submit(item=item, actor=member)
    _accepted(item, member, staff, "措施")
    with pytest.raises(ValidationError, match="佐证材料"):
        services.submit(item=item, actor=member)
    services.add_progress(item=item, actor=member, note="补充材料", files=[_pdf()])
    services.submit(item=item, actor=member)
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED


def test_the_full_loop_return_resubmit_close_reopen(item, member, staff, second):
    _ready_to_submit(item, member, staff)
    services.submit(item=item, actor=member)
    with pytest.raises(PermissionDenied):
        services.return_item(item=item, actor=member, reason="自己退回")
    services.return_item(item=item, actor=staff, reason="材料不足")
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_PROGRESS
    services.add_progress(item=item, actor=member, note="补充材料", files=[_pdf("补充.pdf")])
    services.submit(item=item, actor=member)
    _close(item, staff, second)
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED
    assert item.first_reviewer == staff.user
    assert item.closed_by == second.user
    with pytest.raises(PermissionDenied):
        _plan(item, member, "已销号仍修改")
    services.reopen(item=item, actor=staff, reason="发现虚假整改")
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN
    assert item.closure_outcome == ""
    assert _events(item) == [
        EventAction.PLAN_SUBMITTED,
        EventAction.PLAN_ACCEPTED,
        EventAction.PROGRESS,
        EventAction.SUBMITTED,
        EventAction.RETURNED,
        EventAction.PROGRESS,
        EventAction.SUBMITTED,
        EventAction.FIRST_REVIEWED,
        EventAction.CLOSED,
        EventAction.REOPENED,
    ]


def test_an_item_never_submitted_closes_only_as_not_rectified(item, member, staff, second):
    kwargs = dict(
        item=item,
        actor=staff,
        method=VerificationMethod.DOCUMENT_REVIEW,
        verified_by="王珊",
        verified_on=datetime.date.today(),
        note="单位未整改，按决定销号",
    )
    with pytest.raises(ValidationError, match="未整改"):
        services.first_review(outcome=ClosureOutcome.RECTIFIED, **kwargs)
    services.first_review(outcome=ClosureOutcome.NOT_RECTIFIED, **kwargs)
    services.second_review(item=item, actor=second, confirm=True)
    item.refresh_from_db()
    assert item.closure_outcome == ClosureOutcome.NOT_RECTIFIED


def test_a_stale_form_changes_nothing(item, member, staff):
    opened_at = item.version
    services.assign(
        item=item,
        actor=staff,
        owner=member.user,
        deadline=item.deadline + datetime.timedelta(days=1),
        expected_version=opened_at,
    )
    with pytest.raises(services.StaleItemError):
        _plan(item, member, "第二人覆盖", expected_version=opened_at)
    item.refresh_from_db()
    assert not item.plans.exists()
    assert len(_events(item)) == 1


def test_extension_approval_moves_the_deadline_and_the_cap_holds(item, member, staff, settings):
    settings.LIWAN_MAX_EXTENSIONS_PER_ITEM = 2
    first_date = item.deadline + datetime.timedelta(days=30)
    request = services.request_extension(
        item=item, actor=member, requested_deadline=first_date, reason="需跨部门协调"
    )
    with pytest.raises(ValidationError, match="正在审批"):
        services.request_extension(
            item=item, actor=member, requested_deadline=first_date, reason="再申请"
        )
    with pytest.raises(PermissionDenied):
        services.decide_extension(extension=request, actor=member, approve=True)
    services.decide_extension(extension=request, actor=staff, approve=True)
    item.refresh_from_db()
    assert item.deadline == first_date
    second = services.request_extension(
        item=item, actor=member, requested_deadline=first_date + datetime.timedelta(days=1),
        reason="仍需时间",
    )  # fmt: skip
    services.decide_extension(extension=second, actor=staff, approve=False, note="理由不充分")
    second.refresh_from_db()
    assert second.status == ExtensionStatus.REJECTED
    item.refresh_from_db()
    assert item.deadline == first_date
    with pytest.raises(ValidationError, match="最多申请延期 2 次"):
        services.request_extension(
            item=item, actor=member, requested_deadline=first_date + datetime.timedelta(days=9),
            reason="第三次",
        )  # fmt: skip


def test_extension_must_move_the_deadline_later(item, member):
    with pytest.raises(ValidationError, match="晚于"):
        services.request_extension(
            item=item, actor=member, requested_deadline=item.deadline, reason="同一天"
        )


def test_assign_accepts_only_an_owner_from_the_responsible_unit(item, staff):
    stranger = factories.UnitStaffFactory()
    with pytest.raises(ValidationError, match="责任单位"):
        services.assign(item=item, actor=staff, owner=stranger, deadline=None)
    colleague = factories.UnitStaffFactory(unit=item.unit)
    services.assign(item=item, actor=staff, owner=colleague, deadline=datetime.date(2030, 1, 1))
    item.refresh_from_db()
    assert item.owner == colleague
    assert _events(item) == [EventAction.ASSIGNED]


def test_oversight_readers_can_do_nothing(item):
    reader = services.Actor(user=factories.OversightFactory())
    with pytest.raises(PermissionDenied):
        services.assign(item=item, actor=reader, owner=None, deadline=None)
    with pytest.raises(PermissionDenied):
        _plan(item, reader, "只读")


def test_events_cannot_be_edited_or_deleted(item, member):
    _plan(item, member, "措施")
    event = Event.objects.get(item=item)
    event.note = "篡改"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        Event.objects.filter(item=item).update(note="篡改")
    with pytest.raises(PermissionError):
        Event.objects.filter(item=item).delete()


def test_a_returned_item_needs_new_evidence_before_it_is_submitted_again(item, member, staff):
    _ready_to_submit(item, member, staff)
    services.submit(item=item, actor=member)
    services.return_item(item=item, actor=staff, reason="佐证材料不足")
    with pytest.raises(ValidationError) as error:
        services.submit(item=item, actor=member)
    assert error.value.code == "no_evidence"
    services.add_progress(item=item, actor=member, note="补充材料", files=[_pdf("补充.pdf")])
    services.submit(item=item, actor=member)
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED


def test_reopening_clears_the_old_closure_and_can_set_a_new_deadline(item, member, staff, second):
    _ready_to_submit(item, member, staff)
    services.submit(item=item, actor=member)
    _close(item, staff, second)
    item.escalated_at = item.closed_at
    item.save(update_fields=["escalated_at"])
    new_deadline = datetime.date.today() + datetime.timedelta(days=40)
    services.reopen(item=item, actor=staff, reason="发现虚假整改", new_deadline=new_deadline)
    item.refresh_from_db()
    assert (item.verification_method, item.verified_by, item.verification_note) == ("", "", "")
    assert item.verified_on is None and item.escalated_at is None
    assert item.deadline == new_deadline
    event = Event.objects.filter(item=item, action=EventAction.REOPENED).get()
    assert event.before["verified_by"] == "王珊"


def test_closing_withdraws_a_pending_extension_request(item, member, staff, second):
    request = services.request_extension(
        item=item,
        actor=member,
        requested_deadline=item.deadline + datetime.timedelta(days=30),
        reason="协调中",
    )
    _close(item, staff, second, outcome=ClosureOutcome.NOT_RECTIFIED, note="按决定销号")
    request.refresh_from_db()
    assert request.status == ExtensionStatus.REJECTED
    assert request.decided_by == second.user


@pytest.mark.postgres
def test_it_leaves_no_file_behind_when_saving_a_report_fails_half_way(item, member, settings):
    # The database refuses the second file's row (a content type longer than its column, a
    # real PostgreSQL error) after both files were written: the report is not saved, and
    # neither file may stay on disk without a row.
    from dataclasses import replace
    from pathlib import Path

    from django.db import DataError

    good = _pdf("方案.pdf")
    bad = replace(_pdf("照片说明.pdf"), content_type="x" * 101)
    root = Path(settings.MEDIA_ROOT)
    before = sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    with pytest.raises(DataError):
        services.add_progress(item=item, actor=member, note="进展", files=[good, bad])

    after = sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
    assert after == before
    assert not Evidence.objects.exists()
    assert not Event.objects.filter(item=item).exists()


def test_it_stores_every_upload_under_a_name_bounded_in_bytes_with_its_extension():
    from rectification.uploads import STORAGE_NAME_MAX_BYTES, storage_name

    for name in ["方案.pdf", "荔" * 79 + ".pdf", "荔" * 200 + ".JPEG", "a" * 300 + ".docx"]:
        stored = storage_name(name)
        assert len(stored.encode("utf-8")) <= STORAGE_NAME_MAX_BYTES
        assert stored.rsplit(".", 1)[1] == name.rsplit(".", 1)[1].lower()
        assert name.startswith(stored.rsplit(".", 1)[0])
    assert storage_name("方案.pdf") == "方案.pdf"


def test_an_item_without_an_owner_cannot_be_closed(item, staff):
    with pytest.raises(ValidationError, match="责任人"):
        services.first_review(
            item=item,
            actor=staff,
            outcome=ClosureOutcome.NOT_RECTIFIED,
            method=VerificationMethod.DOCUMENT_REVIEW,
            verified_by="王珊",
            verified_on=datetime.date.today(),
            note="单位未整改，按决定销号",
        )
    item.refresh_from_db()
    assert item.status != ItemStatus.CLOSED


def test_it_closes_a_returned_item_by_decision_and_its_return_no_longer_shows(item, member, staff):
    _ready_to_submit(item, member, staff)
    services.submit(item=item, actor=member)
    services.return_item(item=item, actor=staff, reason="佐证材料不足")

    services.first_review(
        item=item,
        actor=staff,
        outcome=ClosureOutcome.NOT_RECTIFIED,
        method=VerificationMethod.DOCUMENT_REVIEW,
        verified_by="王珊",
        verified_on=datetime.date.today(),
        note="单位未按期补充材料，按未整改销号",
    )
    item.refresh_from_db()
    assert (item.returned_at, item.returned_by, item.return_reason) == (None, None, "")
    services.second_review(
        item=item, actor=workflow.actor(factories.StaffUserFactory()), confirm=True
    )

    item.refresh_from_db()
    assert (item.status, item.closure_outcome) == (ItemStatus.CLOSED, ClosureOutcome.NOT_RECTIFIED)
    assert Event.objects.filter(item=item, action=EventAction.RETURNED).get().note == "佐证材料不足"
