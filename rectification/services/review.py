"""The bureau's side of the workflow: returning a submission (退回), the two-level review before
closure — a first review (初审) proposes the outcome, a second reviewer who is not the first
(复核) confirms and closes — reopening, and the follow-up checks after closure (回头看)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import localdate
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from liwan import clock
from rectification import snapshots
from rectification.choices import (
    REVIEW_OUTCOMES,
    ClosureOutcome,
    DeadlineSource,
    EventAction,
    ExtensionStatus,
    FollowUpStatus,
    ItemStatus,
    RepeatStatus,
    SnapshotKind,
    SupervisionKind,
    VerificationMethod,
)
from rectification.models import (
    Event,
    ExtensionRequest,
    FollowUp,
    RectificationItem,
    RepeatLink,
    SupervisionRecord,
)
from rectification.repeats import similarity
from rectification.rules import Action
from rectification.services.core import (
    Actor,
    _clear_return,
    _iso,
    _locked,
    _required_text,
    record_event,
)
from rectification.services.deadlines import _move_deadline


def return_item(
    *, item: RectificationItem, actor: Actor, reason: str, expected_version: int | None = None
) -> RectificationItem:
    """Return a submission to the unit (退回) with the reason; it goes back to 整改中, and a
    proposed outcome awaiting its second review is dropped."""
    reason = _required_text(reason, _("Reason for returning"))
    with _locked(item, actor, Action.RETURN, expected_version) as fresh:
        before = {"status": fresh.status, "proposed_outcome": fresh.proposed_outcome}
        fresh.status = ItemStatus.IN_PROGRESS
        _clear_review(fresh)
        # Shown as a banner on the item and as 已退回 in the list until the unit resubmits.
        fresh.returned_at = clock.now()
        fresh.returned_by = actor.user
        fresh.return_reason = reason
        record_event(
            fresh,
            actor,
            EventAction.RETURNED,
            before=before,
            after={"status": fresh.status},
            note=reason,
        )
    return item


def first_review(
    *,
    item: RectificationItem,
    actor: Actor,
    outcome: ClosureOutcome,
    method: VerificationMethod,
    verified_by: str,
    verified_on: datetime.date,
    note: str,
    expected_version: int | None = None,
) -> RectificationItem:
    """The first review (初审): rule on the evidence and propose the outcome; the item waits
    for a second reviewer. A submitted item may be proposed any outcome; an item the unit never
    submitted only 未整改 (closed by decision). 不予整改 needs a written justification."""
    note = _required_text(note, _("Verification note"))
    verified_by = _required_text(verified_by, _("Verified by"))
    if outcome not in REVIEW_OUTCOMES:
        raise ValidationError(_("Please choose the outcome."), code="outcome")
    if method not in VerificationMethod.values:
        raise ValidationError(_("Please choose how it was verified."), code="method")
    if verified_on > clock.today():
        raise ValidationError(
            _("The verification date cannot be later than today."), code="verified_on"
        )
    if outcome == ClosureOutcome.NOT_APPLICABLE and len(note) < 10:
        raise ValidationError(
            _("“Not to be rectified” needs a written justification in the verification note."),
            code="justification",
        )
    with _locked(item, actor, Action.FIRST_REVIEW, expected_version) as fresh:
        if fresh.owner_id is None:
            # A closure names who answers for the rectification; assign the owner first.
            raise ValidationError(
                _("Set the owner of the item before closing it."), code="no_owner"
            )
        if fresh.status != ItemStatus.SUBMITTED and outcome != ClosureOutcome.NOT_RECTIFIED:
            raise ValidationError(
                _("An item never submitted for closure can only be closed as “Not rectified”."),
                code="outcome_not_submitted",
            )
        before = {"status": fresh.status}
        fresh.status = ItemStatus.SECOND_REVIEW
        _clear_return(fresh)
        fresh.proposed_outcome = outcome
        fresh.first_reviewer = actor.user
        fresh.first_reviewed_at = clock.now()
        fresh.verification_method = method
        fresh.verified_by = verified_by
        fresh.verified_on = verified_on
        fresh.verification_note = note
        record_event(
            fresh,
            actor,
            EventAction.FIRST_REVIEWED,
            before=before,
            after={
                "status": fresh.status,
                "outcome": outcome,
                "method": method,
                "verified_by": verified_by,
                "verified_on": _iso(verified_on),
            },
            note=note,
        )
    return item


def second_review(
    *,
    item: RectificationItem,
    actor: Actor,
    confirm: bool,
    note: str = "",
    consent: bool = False,
    expected_version: int | None = None,
) -> RectificationItem:
    """The second review (复核) by another person: confirm the proposed outcome and close the
    item (销号), or send it back to the first review with the reason. Closing as 不予整改
    needs ``consent``, the second reviewer's explicit agreement to it."""
    if not confirm:
        note = _required_text(note, _("Reason for sending it back"))
    with _locked(item, actor, Action.SECOND_REVIEW, expected_version) as fresh:
        outcome = fresh.proposed_outcome
        if confirm and outcome == ClosureOutcome.NOT_APPLICABLE and not consent:
            raise ValidationError(
                _("Closing as “Not to be rectified” needs your explicit consent."),
                code="consent",
            )
        if not confirm:
            back_to = _status_before_first_review(fresh)
            first_reviewer = fresh.first_reviewer_id
            fresh.status = back_to
            _clear_review(fresh)
            record_event(
                fresh,
                actor,
                EventAction.SECOND_REVIEW_DECLINED,
                before={
                    "status": ItemStatus.SECOND_REVIEW,
                    "proposed_outcome": outcome,
                    "first_reviewer": first_reviewer,
                },
                after={"status": back_to},
                note=note.strip(),
            )
            return item
        fresh.status = ItemStatus.CLOSED
        fresh.closure_outcome = outcome
        fresh.proposed_outcome = ""
        fresh.closed_at = clock.now()
        fresh.closed_by = actor.user
        # A request for more time is moot once the item is closed; it must not linger as
        # pending (it could not be decided, and would block requests after a reopening).
        ExtensionRequest.objects.filter(item=fresh, status=ExtensionStatus.PENDING).update(
            status=ExtensionStatus.REJECTED,
            decided_by=actor.user,
            decided_at=clock.now(),
            decision_note=gettext("Withdrawn: the item was closed."),
        )
        record_event(
            fresh,
            actor,
            EventAction.CLOSED,
            before={"status": ItemStatus.SECOND_REVIEW},
            after={
                "status": fresh.status,
                "outcome": outcome,
                "method": fresh.verification_method,
                "verified_by": fresh.verified_by,
                "verified_on": _iso(fresh.verified_on),
                "first_reviewer": fresh.first_reviewer_id,
                **({"consent": True} if consent else {}),
            },
            note=note.strip() or fresh.verification_note,
        )
    return item


def _status_before_first_review(fresh: RectificationItem) -> str:
    """Where a declined proposal goes back to: the bureau's queue for a submission, the unit's
    work for an item staff proposed to close by decision."""
    before = (
        Event.objects.filter(item=fresh, action=EventAction.FIRST_REVIEWED)
        .order_by("-created_at", "-id")
        .values_list("before", flat=True)
        .first()
    )
    status = (before or {}).get("status")
    return status if status in ItemStatus.values else ItemStatus.SUBMITTED


def _clear_review(fresh: RectificationItem) -> None:
    fresh.proposed_outcome = ""
    fresh.first_reviewer = None
    fresh.first_reviewed_at = None


def reopen(
    *,
    item: RectificationItem,
    actor: Actor,
    reason: str,
    new_deadline: datetime.date | None = None,
    relapse: bool = False,
    expected_version: int | None = None,
) -> RectificationItem:
    """Reopen a closed item (e.g. 虚假整改 found later); it starts again as 待整改, usually with
    a new deadline (the old one has often passed). ``relapse``: a follow-up check found the
    problem back, which the item carries from then on."""
    reason = _required_text(reason, _("Reason for reopening"))
    with _locked(item, actor, Action.REOPEN, expected_version) as fresh:
        before, after = _reopen(fresh, reason, new_deadline, relapse=relapse)
        record_event(fresh, actor, EventAction.REOPENED, before=before, after=after, note=reason)
    return item


def _reopen(
    fresh: RectificationItem,
    reason: str,
    new_deadline: datetime.date | None,
    *,
    relapse: bool,
) -> tuple[dict[str, object], dict[str, object]]:
    """Reopen ``fresh`` (under its lock); returns the event's before and after."""
    before = {
        "status": fresh.status,
        "outcome": fresh.closure_outcome,
        "method": fresh.verification_method,
        "verified_by": fresh.verified_by,
        "verified_on": _iso(fresh.verified_on),
        "note": fresh.verification_note,
        "closed_at": fresh.closed_at.isoformat() if fresh.closed_at else None,
        "deadline": _iso(fresh.deadline),
    }
    fresh.status = ItemStatus.OPEN
    # The previous closure no longer stands: its outcome and verification go (the event keeps
    # them), and a new overdue period may escalate again.
    fresh.closure_outcome = ""
    fresh.verification_method = ""
    fresh.verified_by = ""
    fresh.verified_on = None
    fresh.verification_note = ""
    fresh.closed_at = None
    fresh.closed_by = None
    fresh.escalated_at = None
    _clear_review(fresh)
    if relapse:
        fresh.relapsed_at = clock.now()
    change = None
    if new_deadline is not None:
        change = _move_deadline(
            fresh,
            new_deadline,
            source=DeadlineSource.REOPENING,
            reason=reason,
            today=clock.today(),
        )
    after = {
        "status": fresh.status,
        **({"relapse": True} if relapse else {}),
        **(change["after"] if change else {}),
    }
    return before, after


# --- 回头看: follow-up checks after closure --------------------------------------------------


def schedule_follow_up(
    *,
    item: RectificationItem,
    actor: Actor,
    due_on: datetime.date,
    expected_version: int | None = None,
) -> FollowUp:
    """Schedule a re-check of a closed item (回头看); one scheduled at a time per item."""
    if due_on < clock.today():
        raise ValidationError(_("A follow-up check cannot be due in the past."), code="past")
    with _locked(item, actor, Action.SCHEDULE_FOLLOW_UP, expected_version) as fresh:
        if FollowUp.objects.filter(item=fresh, status=FollowUpStatus.SCHEDULED).exists():
            raise ValidationError(
                _("A follow-up check is already scheduled for this item."), code="scheduled"
            )
        follow_up = FollowUp.objects.create(item=fresh, due_on=due_on, scheduled_by=actor.user)
        record_event(
            fresh,
            actor,
            EventAction.FOLLOW_UP_SCHEDULED,
            after={"follow_up": follow_up.pk, "due_on": due_on.isoformat()},
        )
    return follow_up


@dataclass(frozen=True)
class PlannedFollowUp:
    """One line of a bulk scheduling: the item and its re-check date, or why it is left out."""

    item: RectificationItem
    due_on: datetime.date | None
    skip: str = ""


def plan_follow_ups(
    *, items: Iterable[RectificationItem], months_after_closure: int, today: datetime.date
) -> list[PlannedFollowUp]:
    """Bulk scheduling, previewed: a re-check of each closed item ``months_after_closure``
    months after its closure (tomorrow at the earliest). Items not closed, or with a re-check
    already scheduled, are left out with the reason."""
    items = list(items)
    scheduled = set(
        FollowUp.objects.filter(
            item__in=[item.pk for item in items], status=FollowUpStatus.SCHEDULED
        ).values_list("item_id", flat=True)
    )
    planned = []
    for item in items:
        if item.status != ItemStatus.CLOSED or item.closed_at is None:
            planned.append(PlannedFollowUp(item, None, _("Not closed")))
        elif item.pk in scheduled:
            planned.append(PlannedFollowUp(item, None, _("A re-check is already scheduled")))
        else:
            due = _add_months(localdate(item.closed_at), months_after_closure)
            planned.append(PlannedFollowUp(item, max(due, today + datetime.timedelta(days=1))))
    return planned


def schedule_follow_ups(
    *, items: Iterable[RectificationItem], actor: Actor, months_after_closure: int
) -> list[FollowUp]:
    """Bulk: schedule what :func:`plan_follow_ups` plans, all or nothing (one event each)."""
    plan = plan_follow_ups(
        items=items, months_after_closure=months_after_closure, today=clock.today()
    )
    with transaction.atomic():
        return [
            schedule_follow_up(item=line.item, actor=actor, due_on=line.due_on)
            for line in plan
            if line.due_on is not None
        ]


def record_follow_up(
    *,
    follow_up: FollowUp,
    actor: Actor,
    holds: bool,
    finding: str,
    new_deadline: datetime.date | None = None,
    expected_version: int | None = None,
) -> FollowUp:
    """Record what a follow-up check found: the rectification holds, or the problem is back —
    then the item reopens, marked as a relapse, with the finding as the reason."""
    finding = _required_text(finding, _("What the check found"))
    with _locked(follow_up.item, actor, Action.RECORD_FOLLOW_UP, expected_version) as fresh:
        current = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if current.status != FollowUpStatus.SCHEDULED:
            raise ValidationError(
                _("This follow-up check has already been recorded."), code="recorded"
            )
        current.status = FollowUpStatus.PASSED if holds else FollowUpStatus.FAILED
        current.checked_by = actor.user
        current.checked_at = clock.now()
        current.finding = finding
        current.save(update_fields=["status", "checked_by", "checked_at", "finding"])
        before: dict[str, object] = {}
        after: dict[str, object] = {}
        if not holds:
            # One event says both: what the check found, and that the item reopened.
            before, after = _reopen(fresh, finding, new_deadline, relapse=True)
        record_event(
            fresh,
            actor,
            EventAction.FOLLOW_UP_PASSED if holds else EventAction.FOLLOW_UP_FAILED,
            before=before,
            after={**after, "follow_up": current.pk, "due_on": current.due_on.isoformat()},
            note=finding,
        )
    follow_up.refresh_from_db()
    return follow_up


# --- the escalation ladder -------------------------------------------------------------------


def record_supervision(
    *,
    item: RectificationItem,
    actor: Actor,
    kind: str,
    happened_on: datetime.date,
    person: str,
    document: str = "",
    text: str = "",
    expected_version: int | None = None,
) -> SupervisionRecord:
    """Record a step of the escalation ladder on the item (one record, one event). A leader's
    instruction needs its text; a step cannot be dated in the future."""
    if kind not in SupervisionKind.values:
        raise ValidationError(_("Please choose the step."), code="kind")
    person = _required_text(person, _("By whom"))
    if kind == SupervisionKind.INSTRUCTION:
        text = _required_text(text, _("Content"))
    if happened_on > clock.today():
        raise ValidationError(_("The date cannot be later than today."), code="future")
    with _locked(item, actor, Action.RECORD_SUPERVISION, expected_version) as fresh:
        record = SupervisionRecord.objects.create(
            item=fresh,
            kind=kind,
            happened_on=happened_on,
            person=person,
            document=document.strip(),
            text=text.strip(),
            recorded_by=actor.user,
        )
        record_event(
            fresh,
            actor,
            EventAction.SUPERVISION_RECORDED,
            after={
                "kind": kind,
                "date": happened_on.isoformat(),
                "person": person,
                "document": record.document,
            },
            note=record.text,
        )
    return record


def record_unit_instruction(
    *,
    unit_id: int,
    year: int,
    actor: Actor,
    happened_on: datetime.date,
    person: str,
    text: str,
    document: str = "",
) -> list[SupervisionRecord]:
    """A leader's instruction on a unit's rectification of a round (领导批示 on the unit): one
    record, with its event, on each of the unit's items of ``year`` not yet closed, so it heads
    every one of their pages, the unit's included. All or nothing."""
    with transaction.atomic():
        items = list(
            RectificationItem.objects.filter(unit_id=unit_id, round_year=year)
            .exclude(status=ItemStatus.CLOSED)
            .order_by("pk")
        )
        if not items:
            raise ValidationError(
                _("The unit has no problem of this round left open: nothing to instruct on."),
                code="empty",
            )
        return [
            record_supervision(
                item=item,
                actor=actor,
                kind=SupervisionKind.INSTRUCTION,
                happened_on=happened_on,
                person=person,
                document=document,
                text=text,
            )
            for item in items
        ]


# --- 屡审屡犯 ----------------------------------------------------------------------------------


def decide_repeat(
    *, item: RectificationItem, earlier: RectificationItem, actor: Actor, confirm: bool
) -> RepeatLink:
    """Rule on a likely repeat: ``item`` restates ``earlier`` (confirm) or does not. One link
    per pair, one event on ``item``; a pair already ruled on is refused."""
    if earlier.unit_id != item.unit_id or earlier.round_year >= item.round_year:
        raise ValidationError(
            _("Only a problem an earlier round found at the same unit can be repeated."),
            code="not_comparable",
        )
    with _locked(item, actor, Action.DECIDE_REPEAT, None) as fresh:
        if RepeatLink.objects.filter(item=fresh, earlier=earlier).exists():
            raise ValidationError(_("This pair has already been ruled on."), code="decided")
        link = RepeatLink.objects.create(
            item=fresh,
            earlier=earlier,
            status=RepeatStatus.CONFIRMED if confirm else RepeatStatus.DISMISSED,
            similarity=similarity(
                fresh.recommendation.finding.title, earlier.recommendation.finding.title
            ),
            decided_by=actor.user,
        )
        record_event(
            fresh,
            actor,
            EventAction.REPEAT_CONFIRMED if confirm else EventAction.REPEAT_DISMISSED,
            after={
                "earlier": earlier.pk,
                "year": earlier.round_year,
                "finding": str(earlier.recommendation.finding),
            },
        )
    if confirm:
        # A large round's stored report to leaders lists the confirmed repeats.
        snapshots.supersede(kind=SnapshotKind.LEADERS_REPORT, year=item.round_year)
    return link


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")
