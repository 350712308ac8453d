"""Deadlines (整改时限), owners and extensions: every change of a deadline goes through
:func:`_move_deadline`, the one function that keeps the original deadline, the source and the
reason of the current one, and refuses what the rules refuse."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from liwan import clock
from rectification.choices import (
    DeadlineConcern,
    DeadlineSource,
    EventAction,
    ExtensionStatus,
)
from rectification.models import ExtensionRequest, RectificationItem
from rectification.rules import Action, deadline_concerns
from rectification.services.core import (
    Actor,
    _iso,
    _locked,
    _name,
    _required_text,
    record_event,
)
from rectification.services.work import plan_due_for

if TYPE_CHECKING:
    from accounts.models import User
    from calendars.services import WorkingDayCount


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
        if owner is not None and fresh.plan_due is None and not fresh.measures:
            # The plan (整改方案) is due a set time after the item is first handed to someone.
            fresh.plan_due = plan_due_for(clock.today())
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
