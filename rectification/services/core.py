"""The ground every ledger service stands on: who acts, the row lock and stale-form check, and
the one writer of items and of the audit trail.

Every ``Event`` and every new ``RectificationItem`` is made here: the transitions (the other
modules of this package) through :func:`record_event`; the importer through :func:`open_items`
and :func:`record_evaluation_changes`; the reminder sweep through :func:`escalate_overdue`; the
benchmark seeder through :func:`open_items` and :func:`record_events` (``fast=True``).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from liwan import bulk_insert, clock
from rectification import tallies
from rectification.choices import (
    DeadlineSource,
    EventAction,
)
from rectification.models import (
    Event,
    RectificationItem,
)
from rectification.querysets import COPIED_FIELDS, evaluation_copies, overdue_q
from rectification.rules import Action, require

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User
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

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        # REMOTE_ADDR is the client's own address: TrustedProxyMiddleware has already put the
        # proxy's forwarded one there when the site is behind trusted proxies.
        return cls(user=request.user, ip=request.META.get("REMOTE_ADDR"))  # type: ignore[arg-type]


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
        before = tallies.key_of(fresh)
        yield fresh
        fresh.version += 1
        fresh.save()
        tallies.shift(tallies.moved(before, tallies.key_of(fresh)))
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
    tallies.shift(tallies.added(created))
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
    change: Counter[tallies.Key] = Counter()
    for item in items:
        before = {"unit": old_unit.name, "owner": item.owner_id, "owner_name": _name(item.owner)}
        was = tallies.key_of(item)
        item.unit = project.unit
        if item.owner is not None and item.owner.unit_id != project.unit_id:
            item.owner = None
        item.version += 1
        item.save(update_fields=["unit", "owner", "version", "updated_at"])
        change.update(tallies.moved(was, tallies.key_of(item)))
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
    tallies.shift(change)
    return len(items)


def sync_copies(**lookup: Any) -> int:
    """After the back-office changed evaluation data: re-copy it onto the items it reaches
    (``lookup`` filters items, e.g. ``recommendation__finding=finding``)."""
    with transaction.atomic():
        # The year is one of the copies, so the items it moves change their tallies. They are
        # locked before they are read: a status changed meanwhile by someone else would
        # otherwise be counted twice (by its writer, and in our difference).
        stale = list(
            RectificationItem.objects.filter(**lookup)
            .out_of_sync()
            .select_for_update(of=("self",))
            .values_list("pk", "round_year", "unit_id", "status")
        )
        if not stale:
            return 0
        ids = [pk for pk, *_key in stale]
        changed = RectificationItem.objects.filter(pk__in=ids).sync_from_evaluation()
        before: Counter[tallies.Key] = Counter(tuple(key) for _pk, *key in stale)
        after = tallies.count_of(RectificationItem.objects.filter(pk__in=ids))
        tallies.shift(tallies.difference(after, before))
    return changed


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


def _clear_return(fresh: RectificationItem) -> None:
    """The item no longer waits for the unit to answer a return (its event keeps it): the unit
    resubmitted, or staff took it to review by decision. Only 整改中 may carry a return
    (constraint item_returned_only_in_progress)."""
    fresh.returned_at = None
    fresh.returned_by = None
    fresh.return_reason = ""


def _required_text(value: str, what: str) -> str:
    """``value`` stripped; ``what`` is the (translated) name of the field, for the message."""
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("Please fill in “%(field)s”.") % {"field": what}, code="required")
    return value


def _name(user: User | None) -> str:
    return user.display_name if user else ""
