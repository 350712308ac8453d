"""The unit's side of the workflow: the plan (整改方案) and its acceptance, progress with
evidence, milestones of a staged rectification, and the submission for closure through the unit
head's sign-off (负责人确认). One function per transition; each writes one event."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from liwan import clock
from rectification.choices import (
    Agreement,
    EventAction,
    ItemStatus,
    MilestoneStatus,
    PlanStatus,
    RectificationType,
)
from rectification.models import (
    Event,
    Evidence,
    Milestone,
    ProgressUpdate,
    RectificationItem,
    RectificationPlan,
)
from rectification.rules import Action
from rectification.services.core import (
    Actor,
    _clear_return,
    _locked,
    _required_text,
    record_event,
)
from rectification.uploads import CheckedFile, removed_on_failure

if TYPE_CHECKING:
    from accounts.models import User

# The most milestones one plan may set: a staged rectification is a handful of stages.
MAX_MILESTONES = 12


@dataclass(frozen=True)
class PlannedMilestone:
    """One stage of a staged plan, as the unit writes it."""

    title: str
    deadline: datetime.date
    evidence: str = ""

    def as_json(self, number: int) -> dict[str, Any]:
        return {
            "number": number,
            "title": self.title,
            "deadline": self.deadline.isoformat(),
            "evidence": self.evidence,
        }


def plan_due_for(assigned_on: datetime.date) -> datetime.date:
    """When a plan is due: ``LIWAN_PLAN_DUE_DAYS`` after the assignment, counted in working days
    when ``LIWAN_PLAN_DUE_IN_WORKING_DAYS`` is on (calendar days if the calendar refuses)."""
    from calendars.services import add_working_days

    days = settings.LIWAN_PLAN_DUE_DAYS
    if settings.LIWAN_PLAN_DUE_IN_WORKING_DAYS:
        try:
            return add_working_days(start=assigned_on, days=days)
        except ValidationError:
            pass
    return assigned_on + datetime.timedelta(days=days)


# --- the plan ------------------------------------------------------------------------------------


def submit_plan(
    *,
    item: RectificationItem,
    actor: Actor,
    rectification_type: str,
    measures: str,
    agreement: str,
    agreement_reason: str = "",
    roadmap: str = "",
    milestones: Sequence[PlannedMilestone] = (),
    expected_version: int | None = None,
) -> RectificationPlan:
    """The unit submits its plan (or a revision of the accepted one) for staff to accept.

    A staged rectification (分阶段整改) needs at least one milestone, each due by the item's
    deadline; an ongoing one (持续整改) a roadmap of yearly measures; a plan that disagrees with
    the finding, or agrees only in part, its reason.
    """
    measures = _required_text(measures, _("Rectification measures"))
    if rectification_type not in RectificationType.values:
        raise ValidationError(_("Please choose the rectification type."), code="type")
    if agreement not in Agreement.values:
        raise ValidationError(_("Please say whether the unit agrees with the finding."))
    if agreement != Agreement.AGREE:
        agreement_reason = _required_text(agreement_reason, _("Reason"))
    if rectification_type == RectificationType.ONGOING:
        roadmap = _required_text(roadmap, _("Roadmap (yearly measures)"))
    milestones = list(milestones)
    if rectification_type == RectificationType.STAGED and not milestones:
        raise ValidationError(
            _("A staged rectification needs at least one milestone."), code="no_milestones"
        )
    if len(milestones) > MAX_MILESTONES:
        raise ValidationError(
            _("A plan may set at most %(n)d milestones.") % {"n": MAX_MILESTONES},
            code="too_many_milestones",
        )
    with _locked(item, actor, Action.PLAN, expected_version) as fresh:
        if RectificationPlan.objects.filter(item=fresh, status=PlanStatus.SUBMITTED).exists():
            raise ValidationError(
                _("A plan is already waiting for acceptance; wait for the decision."),
                code="plan_pending",
            )
        for milestone in milestones:
            if fresh.deadline and milestone.deadline > fresh.deadline:
                raise ValidationError(
                    _("Milestone “%(title)s” is due after the item's deadline (%(deadline)s).")
                    % {"title": milestone.title, "deadline": fresh.deadline.isoformat()},
                    code="milestone_late",
                )
        version = RectificationPlan.objects.filter(item=fresh).order_by("-version").first()
        plan = RectificationPlan.objects.create(
            item=fresh,
            version=(version.version + 1) if version else 1,
            rectification_type=rectification_type,
            measures=measures,
            roadmap=roadmap.strip(),
            agreement=agreement,
            agreement_reason=agreement_reason.strip(),
            milestones=[m.as_json(n) for n, m in enumerate(milestones, start=1)],
            submitted_by=actor.user,
        )
        record_event(
            fresh,
            actor,
            EventAction.PLAN_SUBMITTED,
            after={
                "plan": plan.pk,
                "version": plan.version,
                "type": rectification_type,
                "agreement": agreement,
                "measures": measures,
                "milestones": plan.milestones,
            },
            note=agreement_reason,
        )
    return plan


def decide_plan(
    *,
    plan: RectificationPlan,
    actor: Actor,
    accept: bool,
    note: str = "",
    expected_version: int | None = None,
) -> RectificationPlan:
    """Staff accept a plan — its type, measures and milestones become the item's, the plan it
    revises stays as history — or return it with the reason."""
    if not accept:
        note = _required_text(note, _("Reason for returning the plan"))
    with _locked(plan.item, actor, Action.DECIDE_PLAN, expected_version) as fresh:
        pending = RectificationPlan.objects.select_for_update().get(pk=plan.pk)
        if pending.status != PlanStatus.SUBMITTED:
            raise ValidationError(_("This plan has already been decided."), code="decided")
        pending.decided_by = actor.user
        pending.decided_at = clock.now()
        pending.decision_note = note.strip()
        before = {"status": fresh.status, "type": fresh.rectification_type}
        if accept:
            RectificationPlan.objects.filter(item=fresh, status=PlanStatus.ACCEPTED).update(
                status=PlanStatus.SUPERSEDED
            )
            pending.status = PlanStatus.ACCEPTED
            pending.save()
            fresh.rectification_type = pending.rectification_type
            fresh.measures = pending.measures
            if fresh.status == ItemStatus.OPEN:
                fresh.status = ItemStatus.IN_PROGRESS
            _sync_milestones(fresh, pending.milestones)
        else:
            pending.status = PlanStatus.RETURNED
            pending.save()
        record_event(
            fresh,
            actor,
            EventAction.PLAN_ACCEPTED if accept else EventAction.PLAN_RETURNED,
            before=before,
            after={
                "status": fresh.status,
                "type": fresh.rectification_type,
                "plan": pending.pk,
                "version": pending.version,
            },
            note=note.strip(),
        )
    plan.refresh_from_db()
    return plan


def _sync_milestones(item: RectificationItem, planned: list[dict[str, Any]]) -> None:
    """The accepted plan's milestones on the item: an accepted milestone stays as it is, the
    others take the plan's wording and dates, and those the plan dropped go (unless they have
    progress reported against them, which keeps them)."""
    existing = {m.number: m for m in Milestone.objects.filter(item=item)}
    wanted = {m["number"]: m for m in planned}
    for number, spec in wanted.items():
        current = existing.get(number)
        deadline = datetime.date.fromisoformat(spec["deadline"])
        if current is None:
            Milestone.objects.create(
                item=item,
                number=number,
                title=spec["title"],
                deadline=deadline,
                evidence_expected=spec.get("evidence", ""),
            )
        elif current.status != MilestoneStatus.ACCEPTED:
            current.title = spec["title"]
            current.deadline = deadline
            current.evidence_expected = spec.get("evidence", "")
            current.save(update_fields=["title", "deadline", "evidence_expected"])
    Milestone.objects.filter(item=item, progress__isnull=True).exclude(number__in=wanted).exclude(
        status=MilestoneStatus.ACCEPTED
    ).delete()


# --- progress and milestones --------------------------------------------------------------------


def add_progress(
    *,
    item: RectificationItem,
    actor: Actor,
    note: str,
    files: Sequence[CheckedFile] = (),
    milestone: Milestone | None = None,
    expected_version: int | None = None,
) -> ProgressUpdate:
    """Report progress (整改进展) with evidence files that ``uploads.check_evidence`` passed,
    towards the item or one of its milestones."""
    note = _required_text(note, _("Progress"))
    with (
        removed_on_failure() as written,
        _locked(item, actor, Action.PROGRESS, expected_version) as fresh,
    ):
        return _progress(fresh, actor, note, files, milestone, written)


def _progress(
    fresh: RectificationItem,
    actor: Actor,
    note: str,
    files: Sequence[CheckedFile],
    milestone: Milestone | None,
    written: list[Any],
    *,
    action: EventAction = EventAction.PROGRESS,
) -> ProgressUpdate:
    if milestone is not None and milestone.item_id != fresh.pk:
        raise ValidationError(_("That milestone belongs to another item."), code="milestone")
    before_status = fresh.status
    if fresh.status == ItemStatus.OPEN:
        fresh.status = ItemStatus.IN_PROGRESS
    progress = ProgressUpdate.objects.create(
        item=fresh, author=actor.user, note=note, milestone=milestone
    )
    for checked in files:
        evidence = Evidence(
            progress=progress,
            original_name=checked.name,
            size=checked.size,
            content_type=checked.content_type,
            sha256=checked.sha256,
            uploaded_by=actor.user,
        )
        # Storage API only, so evidence can live on object storage by configuration alone.
        evidence.file.save(checked.storage_name, checked.upload, save=False)
        written.append(evidence.file)
        evidence.save()
    record_event(
        fresh,
        actor,
        action,
        before={"status": before_status},
        after={
            "status": fresh.status,
            "progress": progress.pk,
            "evidence": [f.name for f in files],
            **({"milestone": milestone.number} if milestone else {}),
        },
        note=note,
    )
    return progress


def report_milestone(
    *,
    milestone: Milestone,
    actor: Actor,
    note: str,
    files: Sequence[CheckedFile] = (),
) -> Milestone:
    """The unit reports a milestone done, with its evidence, for staff to accept."""
    note = _required_text(note, _("Progress"))
    if not files:
        raise ValidationError(
            _("Attach the evidence of the milestone (佐证材料)."), code="no_evidence"
        )
    with (
        removed_on_failure() as written,
        _locked(milestone.item, actor, Action.REPORT_MILESTONE, None) as fresh,
    ):
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if current.status != MilestoneStatus.OPEN:
            raise ValidationError(
                _("This milestone has already been reported done."), code="milestone_reported"
            )
        _progress(
            fresh,
            actor,
            note,
            files,
            current,
            written,
            action=EventAction.MILESTONE_REPORTED,
        )
        current.status = MilestoneStatus.SUBMITTED
        current.reported_at = clock.now()
        current.save(update_fields=["status", "reported_at"])
    milestone.refresh_from_db()
    return milestone


def decide_milestone(
    *, milestone: Milestone, actor: Actor, accept: bool, note: str = ""
) -> Milestone:
    """Staff accept a milestone reported done (it counts as done) or send it back."""
    if not accept:
        note = _required_text(note, _("Reason for returning"))
    with _locked(milestone.item, actor, Action.DECIDE_MILESTONE, None) as fresh:
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if current.status != MilestoneStatus.SUBMITTED:
            raise ValidationError(
                _("This milestone is not waiting for a decision."), code="milestone_decided"
            )
        current.status = MilestoneStatus.ACCEPTED if accept else MilestoneStatus.OPEN
        current.decided_by = actor.user
        current.decided_at = clock.now()
        current.decision_note = note.strip()
        current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record_event(
            fresh,
            actor,
            EventAction.MILESTONE_ACCEPTED if accept else EventAction.MILESTONE_RETURNED,
            after={"milestone": current.number, "title": current.title},
            note=note.strip(),
        )
    milestone.refresh_from_db()
    return milestone


# --- the submission ------------------------------------------------------------------------------


def submit(
    *, item: RectificationItem, actor: Actor, result: str = "", expected_version: int | None = None
) -> RectificationItem:
    """Submit for closure (提交销号). Needs an accepted plan, every milestone accepted, and
    progress with evidence (new evidence after a return or reopening). Goes to the unit head
    first (负责人确认) when the unit has that step and a staff member submits; else to the
    bureau."""
    with _locked(item, actor, Action.SUBMIT, expected_version) as fresh:
        _check_ready(fresh)
        before = {"status": fresh.status, "result": fresh.result}
        if result.strip():
            fresh.result = result.strip()
        if fresh.unit.head_signoff and not _is_head(actor.user):
            fresh.status = ItemStatus.HEAD_REVIEW
            # The unit has answered the return (the bureau's or its head's) either way; only
            # 整改中 may carry one.
            _clear_return(fresh)
        else:
            _to_bureau(fresh)
        record_event(
            fresh,
            actor,
            EventAction.SUBMITTED,
            before=before,
            after={"status": fresh.status, "result": fresh.result},
        )
    return item


def head_signoff(
    *,
    item: RectificationItem,
    actor: Actor,
    confirm: bool,
    note: str = "",
    expected_version: int | None = None,
) -> RectificationItem:
    """The unit head confirms the submission (it goes to the bureau) or sends it back to the
    unit's staff with the reason, inside the unit."""
    if not confirm:
        note = _required_text(note, _("Reason for sending it back"))
    with _locked(item, actor, Action.HEAD_SIGNOFF, expected_version) as fresh:
        before = {"status": fresh.status}
        if confirm:
            _to_bureau(fresh)
        else:
            fresh.status = ItemStatus.IN_PROGRESS
            fresh.returned_at = clock.now()
            fresh.returned_by = actor.user
            fresh.return_reason = note.strip()
        record_event(
            fresh,
            actor,
            EventAction.HEAD_CONFIRMED if confirm else EventAction.HEAD_RETURNED,
            before=before,
            after={"status": fresh.status},
            note=note.strip(),
        )
    return item


def _to_bureau(fresh: RectificationItem) -> None:
    fresh.status = ItemStatus.SUBMITTED
    fresh.submitted_at = clock.now()
    # The unit has answered the return: it no longer shows on the item or in the list.
    _clear_return(fresh)


def _is_head(user: User) -> bool:
    from accounts.roles import is_unit_head

    return is_unit_head(user)


def _check_ready(fresh: RectificationItem) -> None:
    if not RectificationPlan.objects.filter(item=fresh, status=PlanStatus.ACCEPTED).exists():
        raise ValidationError(
            _("The rectification plan must be accepted before submitting for closure."),
            code="no_plan",
        )
    if not fresh.measures.strip():
        raise ValidationError(
            _("Write the rectification measures before submitting for closure."),
            code="no_measures",
        )
    open_milestones = Milestone.objects.filter(item=fresh).exclude(status=MilestoneStatus.ACCEPTED)
    if open_milestones.exists():
        raise ValidationError(
            _("Every milestone must be accepted before submitting for closure."),
            code="milestones_open",
        )
    # After the bureau returned it or it was reopened the old evidence has been judged: the
    # unit must add new evidence before it can submit again. (A head sending it back inside the
    # unit judged nothing.)
    restarted = (
        Event.objects.filter(item=fresh, action__in=[EventAction.RETURNED, EventAction.REOPENED])
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    evidence = Evidence.objects.filter(progress__item=fresh)
    if restarted is not None:
        evidence = evidence.filter(progress__created_at__gt=restarted)
    if not evidence.exists():
        raise ValidationError(
            _(
                "Before submitting for closure, report progress at least once with "
                "supporting evidence attached."
            )
            if restarted is None
            else _(
                "The item was returned or reopened: report new progress with supporting "
                "evidence before submitting again."
            ),
            code="no_evidence",
        )
