"""Every change to a ledger item, and the one writer of items and of the audit trail.

One service per workflow transition (docs/design.md, "Workflow"): it checks the actor may do
it now (``rules.require``), checks the data, locks the row and detects a stale form
(``expected_version``), makes the change, bumps ``version`` and writes exactly one
:class:`~rectification.models.Event`.

Every ``Event`` and every new ``RectificationItem`` is made in this module: the transitions
through :func:`record_event`; the importer through :func:`open_items` and
:func:`record_evaluation_changes`; the reminder sweep through :func:`escalate_overdue`; the
benchmark seeder through :func:`open_items` and :func:`record_events` (``fast=True``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _

from liwan import bulk_insert, clock
from rectification.choices import (
    ClosureOutcome,
    DeadlineConcern,
    DeadlineSource,
    EventAction,
    ExtensionStatus,
    ItemStatus,
    VerificationMethod,
)
from rectification.models import (
    Event,
    Evidence,
    ExtensionRequest,
    ProgressUpdate,
    RectificationItem,
)
from rectification.querysets import COPIED_FIELDS, evaluation_copies, overdue_q
from rectification.rules import Action, deadline_concerns, require
from rectification.uploads import CheckedFile, removed_on_failure

if TYPE_CHECKING:
    from accounts.models import User
    from calendars.services import WorkingDayCount
    from evaluations.models import Project, Unit
    from evaluations.services import TextChange


class StaleItemError(ValidationError):
    """Someone else saved the item after this form was opened; nothing was changed."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This item has been changed by someone else; your changes were not saved. "
                "Please reload the page to see the latest version and try again."
            ),
            code="stale",
        )


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where (the IP goes into the audit trail)."""

    user: User
    ip: str | None = None


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


@contextmanager
def _locked(
    item: RectificationItem, actor: Actor, action: Action, expected_version: int | None
) -> Iterator[RectificationItem]:
    """Lock the row, re-check permission on the fresh state, detect a stale form."""
    with transaction.atomic():
        fresh = RectificationItem.objects.select_for_update().select_related("unit").get(pk=item.pk)
        if expected_version is not None and fresh.version != expected_version:
            raise StaleItemError()
        require(item=fresh, user=actor.user, action=action)
        yield fresh
        fresh.version += 1
        fresh.save()
        item.refresh_from_db()


# --- the audit trail ------------------------------------------------------------------------------


def record_event(
    item: RectificationItem,
    actor: Actor | None,
    action: EventAction,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> Event:
    """Write one audit record (the transitions' writer; ``actor`` None: the system did it)."""
    return Event.objects.create(
        item=item,
        action=action,
        actor=actor.user if actor else None,
        ip=actor.ip if actor else None,
        before=before or {},
        after=after or {},
        note=note,
    )


class EventRecord(NamedTuple):
    """One audit record of a bulk write (see :func:`record_events`). A tuple: the benchmark
    seeder writes millions of them."""

    item_id: int
    action: EventAction
    actor_id: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str = ""
    ip: str | None = None
    # Only the benchmark seeder writes history; everyone else records what happens now.
    created_at: datetime.datetime | None = None


_EVENT_COLUMNS = ("item_id", "action", "actor_id", "created_at", "before", "after", "note", "ip")


def record_events(records: Sequence[EventRecord], *, fast: bool = False) -> int:
    """Write many audit records at once (an import, an escalation sweep, the seeder).

    ``fast`` writes with COPY on PostgreSQL (``liwan.bulk_insert``), for the hundreds of
    thousands of rows of the benchmark seeder; otherwise ``bulk_create``.
    """
    if fast:
        now = clock.now()
        bulk_insert.copy_rows(
            Event,
            _EVENT_COLUMNS,
            [
                (r.item_id, r.action, r.actor_id, r.created_at or now, r.before or {},
                 r.after or {}, r.note, r.ip)
                for r in records
            ],
        )  # fmt: skip
        return len(records)
    Event.objects.bulk_create(
        [
            Event(
                item_id=r.item_id,
                action=r.action,
                actor_id=r.actor_id,
                before=r.before or {},
                after=r.after or {},
                note=r.note,
                ip=r.ip,
                created_at=r.created_at or clock.now(),
            )
            for r in records
        ],
        batch_size=500,
    )
    return len(records)


# --- creating items ----------------------------------------------------------------------------


def open_items(
    *,
    items: Sequence[Mapping[str, Any]],
    actor: User | None,
    note: str,
    units: Mapping[int, Unit] | None = None,
    fast: bool = False,
) -> list[RectificationItem]:
    """Create ledger items, each answering one recommendation, with one ``created`` event each;
    returns them, saved, in the order given.

    ``items`` are the new items' field values: the recommendation and unit (objects or ids),
    and whatever else they start with (the importer: a deadline; the seeder: a whole history's
    end state). The copies of the evaluation (ledger order, search text) are filled here from
    ``evaluation_copies``, so an item is complete from its first row. ``units`` (id → unit)
    names the unit in each event where only ids are given. ``fast``: COPY on PostgreSQL, for
    the seeder's hundreds of thousands of items.
    """
    from evaluations.models import Recommendation

    if not items:
        return []
    new = [RectificationItem(**values) for values in items]
    for item in new:
        if item.deadline and not item.original_deadline:
            item.original_deadline = item.deadline
            item.deadline_source = item.deadline_source or DeadlineSource.IMPORT
    by_recommendation = {item.recommendation_id: item for item in new}
    for start in range(0, len(new), bulk_insert.BATCH):
        batch = [item.recommendation_id for item in new[start : start + bulk_insert.BATCH]]
        copies = (
            Recommendation.objects.filter(pk__in=batch)
            .annotate(**{f"copy_{name}": value for name, value in evaluation_copies("").items()})
            .values_list("pk", *(f"copy_{name}" for name in COPIED_FIELDS))
        )
        for pk, *values in copies:
            for name, value in zip(COPIED_FIELDS, values, strict=True):
                setattr(by_recommendation[pk], name, value)
    if fast:
        bulk_insert.insert_objects(new)
        created = new
    else:
        created = RectificationItem.objects.bulk_create(new, batch_size=500)
    names = {pk: unit.name for pk, unit in (units or {}).items()}
    record_events(
        [
            EventRecord(
                item_id=item.pk,
                action=EventAction.CREATED,
                actor_id=actor.pk if actor else None,
                after={
                    "status": item.status,
                    "deadline": _iso(item.deadline),
                    # Where a first deadline came from, as every later change records it.
                    **({"deadline_source": item.deadline_source} if item.deadline else {}),
                    "unit": names.get(item.unit_id) or item.unit.name,
                },
                note=note,
                created_at=item.created_at,
            )
            for item in created
        ],
        fast=fast,
    )
    return created


def record_evaluation_changes(
    *,
    changes: Iterable[TextChange],
    actor: User | None,
    note: str,
    action: EventAction = EventAction.IMPORTED_UPDATE,
    ip: str | None = None,
) -> int:
    """One event on the item of each changed recommendation: ``import_updated`` for a
    re-import, ``evaluation_edited`` for a correction in the back-office."""
    changes = list(changes)
    item_ids = dict(
        RectificationItem.objects.filter(
            recommendation_id__in=[c.recommendation_id for c in changes]
        ).values_list("recommendation_id", "pk")
    )
    return record_events(
        [
            EventRecord(
                item_id=item_ids[change.recommendation_id],
                action=action,
                actor_id=actor.pk if actor else None,
                before=change.before,
                after=change.after,
                note=note,
                ip=ip,
            )
            for change in changes
            if change.recommendation_id in item_ids
        ]
    )


def move_project_items(*, project: Project, old_unit: Unit, actor: Actor) -> int:
    """A project moved to another unit in the back-office (it was filed under the wrong one):
    its items move with it, each with a ``unit_changed`` event. An owner who is not a member
    of the new unit is removed (the new unit assigns its own), which the event records too."""
    items = list(
        RectificationItem.objects.select_for_update(of=("self",))
        .filter(recommendation__finding__result__project=project)
        .exclude(unit=project.unit)
        .select_related("owner")
    )
    for item in items:
        before = {"unit": old_unit.name, "owner": item.owner_id, "owner_name": _name(item.owner)}
        item.unit = project.unit
        if item.owner is not None and item.owner.unit_id != project.unit_id:
            item.owner = None
        item.version += 1
        item.save(update_fields=["unit", "owner", "version", "updated_at"])
        record_event(
            item,
            actor,
            EventAction.UNIT_CHANGED,
            before=before,
            after={
                "unit": project.unit.name,
                "owner": item.owner_id,
                "owner_name": _name(item.owner),
            },
            note=f"项目「{project.name}」改属{project.unit.name}",
        )
    return len(items)


def sync_copies(**lookup: Any) -> int:
    """After the back-office changed evaluation data: re-copy it onto the items it reaches
    (``lookup`` filters items, e.g. ``recommendation__finding=finding``)."""
    return RectificationItem.objects.filter(**lookup).sync_from_evaluation()


# --- escalation (督办) ---------------------------------------------------------------------------


def escalate_overdue(
    *, item_ids: Iterable[int], today: datetime.date, escalate_after: int
) -> dict[int, datetime.date]:
    """Flag long-overdue items as escalated (督办), once each, with one ``escalated`` event
    each; returns the items flagged, with the deadline they were late against.

    Runs inside the caller's transaction (the reminder sweep plans the staff's reminders in the
    same one). Two sweeps racing escalate each item once: the rows are locked before they are
    flagged, another sweep skips the rows this one holds, and only rows not yet flagged are
    taken. The locked rows are checked again (still overdue, for long enough, by their current
    deadline): an item closed or extended since the sweep read its candidates is left alone.

    ``version`` is not bumped: the flag is not part of any form, and bumping it would make a
    unit's concurrent, unrelated save fail as stale.
    """
    late_since = today - datetime.timedelta(days=escalate_after)
    won = dict(
        RectificationItem.objects.filter(pk__in=list(item_ids), escalated_at__isnull=True)
        .filter(overdue_q(today), deadline__lte=late_since)
        .select_for_update(skip_locked=True)
        .order_by()
        .values_list("pk", "deadline")
    )
    if not won:
        return {}
    now = clock.now()
    RectificationItem.objects.filter(pk__in=won).update(escalated_at=now)
    record_events(
        [
            EventRecord(
                item_id=pk,
                action=EventAction.ESCALATED,
                before={"escalated_at": None},
                after={"escalated_at": now.isoformat(), "deadline": deadline.isoformat()},
                note=f"逾期 {(today - deadline).days} 天未销号，已转评价管理员督办",
            )
            for pk, deadline in won.items()
        ]
    )
    return won


# --- the workflow ---------------------------------------------------------------------------------


def _required_text(value: str, what: str) -> str:
    """``value`` stripped; ``what`` is the (translated) name of the field, for the message."""
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("Please fill in “%(field)s”.") % {"field": what}, code="required")
    return value


# --- deadlines: every change goes through _move_deadline ----------------------------------------


def is_overdue_now(item: RectificationItem, *, today: datetime.date) -> bool:
    """Whether ``item``, as stored, is overdue (by ``overdue_q``, the one definition)."""
    return RectificationItem.objects.filter(pk=item.pk).overdue(today).exists()


def concerns_about(
    item: RectificationItem, new: datetime.date | None, *, today: datetime.date
) -> list[DeadlineConcern]:
    """Why moving ``item``'s deadline to ``new`` needs a reason (``rules.deadline_concerns``)."""
    if new == item.deadline:
        return []
    return deadline_concerns(
        current=item.deadline,
        new=new,
        source=item.deadline_source,
        extension_pending=ExtensionRequest.objects.filter(
            item=item, status=ExtensionStatus.PENDING
        ).exists(),
        is_overdue=is_overdue_now(item, today=today),
    )


def _move_deadline(
    fresh: RectificationItem,
    new: datetime.date | None,
    *,
    source: DeadlineSource,
    reason: str,
    today: datetime.date,
    count: WorkingDayCount | None = None,
) -> dict[str, Any] | None:
    """THE change of an item's deadline (under the caller's lock); returns what changed for
    the event, or None when the deadline stays.

    A deadline in the past is refused. A change that shortens an approved extension, comes
    while an extension request waits, or lets an overdue item off needs a ``reason``
    (``rules.deadline_concerns``); approving an extension is its own reason. The first deadline
    an item gets stays as its original deadline (整改时限). ``count``: the working days the
    date was counted from, kept with it (and whether a provisional calendar year was used).
    """
    if count is not None and count.date != new:
        count = None  # the count of another date: not this deadline's
    if new == fresh.deadline and not count:
        return None
    if new is not None and new < today:
        raise ValidationError(
            _("The deadline cannot be in the past (%(date)s).") % {"date": new.isoformat()},
            code="past",
        )
    reason = (reason or "").strip()
    concerns = [] if source == DeadlineSource.EXTENSION else concerns_about(fresh, new, today=today)
    if concerns and not reason:
        raise ValidationError(
            _("Give a reason for changing this deadline: %(concerns)s.")
            % {"concerns": "；".join(str(c.label) for c in concerns)},
            code="reason_needed",
        )
    counted = (
        {
            "working_days": count.days,
            "counted_from": count.start.isoformat(),
            "provisional_years": list(count.provisional_years),
        }
        if count
        else {}
    )
    change = {
        "before": {"deadline": _iso(fresh.deadline), "deadline_source": fresh.deadline_source},
        "after": {
            "deadline": _iso(new),
            "deadline_source": str(source),
            "deadline_reason": reason,
            **counted,
            **({"concerns": [str(c) for c in concerns]} if concerns else {}),
        },
    }
    fresh.deadline = new
    fresh.deadline_working_days = count.days if count else None
    fresh.deadline_counted_from = count.start if count else None
    fresh.deadline_provisional = bool(count and count.provisional)
    if fresh.original_deadline is None:
        fresh.original_deadline = new
    fresh.deadline_source = source if new else ""
    fresh.deadline_reason = reason
    if source == DeadlineSource.EXTENSION:
        fresh.extensions_approved += 1
    return change


def _owner_change(fresh: RectificationItem, owner: User | None) -> dict[str, Any] | None:
    if (owner.pk if owner else None) == fresh.owner_id:
        return None
    # Names beside ids: the history reads in words even after an account is renamed.
    return {
        "before": {"owner": fresh.owner_id, "owner_name": _name(fresh.owner)},
        "after": {"owner": owner.pk if owner else None, "owner_name": _name(owner)},
    }


def _name(user: User | None) -> str:
    return user.display_name if user else ""


def assign(
    *,
    item: RectificationItem,
    actor: Actor,
    owner: User | None,
    deadline: datetime.date | None,
    reason: str = "",
    source: DeadlineSource = DeadlineSource.ASSIGNMENT,
    count: WorkingDayCount | None = None,
    expected_version: int | None = None,
) -> RectificationItem:
    """Set the named owner (责任人) and the deadline (整改时限); ``reason`` says why the
    deadline changes (required where ``rules.deadline_concerns`` finds a concern); ``count``
    the working days it was counted from, if it was."""
    if owner is not None and owner.unit_id != item.unit_id:
        raise ValidationError(
            _("The owner must be a member of the responsible unit."), code="owner_unit"
        )
    with _locked(item, actor, Action.ASSIGN, expected_version) as fresh:
        owner_change = _owner_change(fresh, owner)
        deadline_change = _move_deadline(
            fresh, deadline, source=source, reason=reason, today=clock.today(), count=count
        )
        fresh.owner = owner
        changes = [c for c in (owner_change, deadline_change) if c]
        record_event(
            fresh,
            actor,
            EventAction.ASSIGNED,
            before={k: v for c in changes for k, v in c["before"].items()},
            after={k: v for c in changes for k, v in c["after"].items()},
            note=(reason or "").strip(),
        )
    return item


def save_measures(
    *, item: RectificationItem, actor: Actor, measures: str, expected_version: int | None = None
) -> RectificationItem:
    """Write or revise the rectification measures (整改措施); starting work opens 整改中."""
    measures = _required_text(measures, _("Rectification measures"))
    with _locked(item, actor, Action.MEASURES, expected_version) as fresh:
        before = {"measures": fresh.measures, "status": fresh.status}
        fresh.measures = measures
        if fresh.status == ItemStatus.OPEN:
            fresh.status = ItemStatus.IN_PROGRESS
        record_event(
            fresh,
            actor,
            EventAction.MEASURES,
            before=before,
            after={"measures": measures, "status": fresh.status},
        )
    return item


def add_progress(
    *,
    item: RectificationItem,
    actor: Actor,
    note: str,
    files: Sequence[CheckedFile] = (),
    expected_version: int | None = None,
) -> ProgressUpdate:
    """Report progress (整改进展) with evidence files that ``uploads.check_evidence`` passed."""
    note = _required_text(note, _("Progress"))
    with (
        removed_on_failure() as written,
        _locked(item, actor, Action.PROGRESS, expected_version) as fresh,
    ):
        before_status = fresh.status
        if fresh.status == ItemStatus.OPEN:
            fresh.status = ItemStatus.IN_PROGRESS
        progress = ProgressUpdate.objects.create(item=fresh, author=actor.user, note=note)
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
            EventAction.PROGRESS,
            before={"status": before_status},
            after={
                "status": fresh.status,
                "progress": progress.pk,
                "evidence": [f.name for f in files],
            },
            note=note,
        )
    return progress


def submit(
    *, item: RectificationItem, actor: Actor, result: str = "", expected_version: int | None = None
) -> RectificationItem:
    """Submit for closure (提交销号): needs measures and progress with evidence attached."""
    with _locked(item, actor, Action.SUBMIT, expected_version) as fresh:
        if not fresh.measures.strip():
            raise ValidationError(
                _("Write the rectification measures before submitting for closure."),
                code="no_measures",
            )
        # After a return or a reopening the old evidence has already been judged: the unit
        # must add new evidence before it can submit again.
        restarted = (
            Event.objects.filter(
                item=fresh, action__in=[EventAction.RETURNED, EventAction.REOPENED]
            )
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
        before = {"status": fresh.status, "result": fresh.result}
        fresh.status = ItemStatus.SUBMITTED
        fresh.submitted_at = clock.now()
        # The unit has answered the return: it no longer shows on the item or in the list.
        _clear_return(fresh)
        if result.strip():
            fresh.result = result.strip()
        record_event(
            fresh,
            actor,
            EventAction.SUBMITTED,
            before=before,
            after={"status": fresh.status, "result": fresh.result},
        )
    return item


def _clear_return(fresh: RectificationItem) -> None:
    """The item no longer waits for the unit to answer a return (the event keeps it)."""
    fresh.returned_at = None
    fresh.returned_by = None
    fresh.return_reason = ""


def return_item(
    *, item: RectificationItem, actor: Actor, reason: str, expected_version: int | None = None
) -> RectificationItem:
    """Return a submission to the unit (退回) with the reason; it goes back to 整改中."""
    reason = _required_text(reason, _("Reason for returning"))
    with _locked(item, actor, Action.RETURN, expected_version) as fresh:
        fresh.status = ItemStatus.IN_PROGRESS
        # Shown as a banner on the item and as 已退回 in the list until the unit resubmits.
        fresh.returned_at = clock.now()
        fresh.returned_by = actor.user
        fresh.return_reason = reason
        record_event(
            fresh,
            actor,
            EventAction.RETURNED,
            before={"status": ItemStatus.SUBMITTED},
            after={"status": fresh.status},
            note=reason,
        )
    return item


def close(
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
    """Close the item (销号) with its outcome and how it was verified.

    A submitted item may close with any outcome; an item never submitted can only be closed
    by decision as 未整改 (not rectified).
    """
    note = _required_text(note, _("Verification note"))
    verified_by = _required_text(verified_by, _("Verified by"))
    if outcome not in ClosureOutcome.values:
        raise ValidationError(_("Please choose the outcome."), code="outcome")
    if method not in VerificationMethod.values:
        raise ValidationError(_("Please choose how it was verified."), code="method")
    if verified_on > clock.today():
        raise ValidationError(
            _("The verification date cannot be later than today."), code="verified_on"
        )
    with _locked(item, actor, Action.CLOSE, expected_version) as fresh:
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
        fresh.status = ItemStatus.CLOSED
        fresh.closure_outcome = outcome
        fresh.verification_method = method
        fresh.verified_by = verified_by
        fresh.verified_on = verified_on
        fresh.verification_note = note
        fresh.closed_at = clock.now()
        fresh.closed_by = actor.user
        # A returned item closed by decision (未整改): the return is settled, not pending; only
        # an item in 整改中 may carry one (constraint item_returned_only_in_progress).
        _clear_return(fresh)
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


def reopen(
    *,
    item: RectificationItem,
    actor: Actor,
    reason: str,
    new_deadline: datetime.date | None = None,
    expected_version: int | None = None,
) -> RectificationItem:
    """Reopen a closed item (e.g. 虚假整改 found later); it starts again as 待整改, usually with
    a new deadline (the old one has often passed)."""
    reason = _required_text(reason, _("Reason for reopening"))
    with _locked(item, actor, Action.REOPEN, expected_version) as fresh:
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
        # The previous closure no longer stands: its outcome and verification go (the event
        # keeps them), and a new overdue period may escalate again.
        fresh.closure_outcome = ""
        fresh.verification_method = ""
        fresh.verified_by = ""
        fresh.verified_on = None
        fresh.verification_note = ""
        fresh.closed_at = None
        fresh.closed_by = None
        fresh.escalated_at = None
        change = None
        if new_deadline is not None:
            change = _move_deadline(
                fresh,
                new_deadline,
                source=DeadlineSource.REOPENING,
                reason=reason,
                today=clock.today(),
            )
        record_event(
            fresh,
            actor,
            EventAction.REOPENED,
            before=before,
            after={"status": fresh.status, **(change["after"] if change else {})},
            note=reason,
        )
    return item


def request_extension(
    *,
    item: RectificationItem,
    actor: Actor,
    requested_deadline: datetime.date,
    reason: str,
    expected_version: int | None = None,
) -> ExtensionRequest:
    """Ask for a later deadline (延期申请); at most LIWAN_MAX_EXTENSIONS_PER_ITEM per item."""
    reason = _required_text(reason, _("Reason for the extension"))
    with _locked(item, actor, Action.REQUEST_EXTENSION, expected_version) as fresh:
        requests = ExtensionRequest.objects.filter(item=fresh)
        cap = settings.LIWAN_MAX_EXTENSIONS_PER_ITEM
        if requests.filter(status=ExtensionStatus.PENDING).exists():
            raise ValidationError(
                _("An extension request is already awaiting a decision; please wait for it."),
                code="pending",
            )
        if requests.count() >= cap:
            raise ValidationError(
                ngettext(
                    "An item may have at most %(cap)d extension request.",
                    "An item may have at most %(cap)d extension requests.",
                    cap,
                )
                % {"cap": cap},
                code="cap",
            )
        if requested_deadline <= max(fresh.deadline or clock.today(), clock.today()):
            raise ValidationError(
                _("The new deadline must be later than both the current deadline and today."),
                code="date",
            )
        extension = ExtensionRequest.objects.create(
            item=fresh,
            previous_deadline=fresh.deadline,
            requested_deadline=requested_deadline,
            reason=reason,
            requested_by=actor.user,
        )
        record_event(
            fresh,
            actor,
            EventAction.EXTENSION_REQUESTED,
            before={"deadline": _iso(fresh.deadline)},
            after={"requested_deadline": _iso(requested_deadline), "extension": extension.pk},
            note=reason,
        )
    return extension


def decide_extension(
    *,
    extension: ExtensionRequest,
    actor: Actor,
    approve: bool,
    note: str = "",
    expected_version: int | None = None,
) -> ExtensionRequest:
    """Approve (the deadline moves) or reject a pending extension request."""
    if not approve:
        note = _required_text(note, _("Reason for rejecting"))
    with _locked(extension.item, actor, Action.DECIDE_EXTENSION, expected_version) as fresh:
        pending = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
        if pending.status != ExtensionStatus.PENDING:
            raise ValidationError(
                _("This extension request has already been decided."), code="decided"
            )
        if approve and fresh.deadline and pending.requested_deadline <= fresh.deadline:
            # The deadline moved since the request (a later assignment): approving would pull
            # it back. The request is moot; reject it, with a note, instead.
            raise ValidationError(
                _(
                    "The requested date (%(requested)s) is no longer later than the current "
                    "deadline (%(current)s); approving it would shorten the deadline. Reject "
                    "the request instead."
                )
                % {
                    "requested": pending.requested_deadline.isoformat(),
                    "current": fresh.deadline.isoformat(),
                },
                code="moot",
            )
        pending.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
        pending.decided_by = actor.user
        pending.decided_at = clock.now()
        pending.decision_note = note.strip()
        pending.save()
        before = {"deadline": _iso(fresh.deadline)}
        after: dict[str, Any] = {"deadline": _iso(fresh.deadline)}
        if approve:
            change = _move_deadline(
                fresh,
                pending.requested_deadline,
                source=DeadlineSource.EXTENSION,
                reason=pending.reason,
                today=clock.today(),
            )
            if change:
                before, after = change["before"], change["after"]
        record_event(
            fresh,
            actor,
            EventAction.EXTENSION_APPROVED if approve else EventAction.EXTENSION_REJECTED,
            before=before,
            after={**after, "extension": pending.pk},
            note=note,
        )
    extension.refresh_from_db()
    return extension
