"""Bulk assignment: owner and/or deadline for many items in one action (批量分派).

Planning is a pure read — what each selected item would become — so the page can show a
preview; applying calls ``services.assign`` once per item that changes, so each item gets its
own ``assigned`` Event and its own permission, lock and version checks, exactly as if staff had
assigned it on its page. All of it runs in one transaction: a stale or refused item leaves every
item as it was.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from liwan import clock
from rectification import services
from rectification.choices import DeadlineConcern, DeadlineSource, ExtensionStatus, ItemStatus
from rectification.models import ExtensionRequest, RectificationItem
from rectification.rules import deadline_concerns

if TYPE_CHECKING:
    from calendars.services import WorkingDayCount
    from evaluations.models import Unit

# The most items one bulk action takes: a year of a large district is a few hundred; beyond
# that a filter has probably been forgotten.
MAX_ITEMS = 500


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP  # "leave this field as it is"


class Skip(models.TextChoices):
    CLOSED = "closed", _("Closed: owner and deadline stay as they were")
    UNCHANGED = "unchanged", _("Already so: nothing to change")
    NOT_TICKED = "not_ticked", _("Needs attention: left as it is unless ticked")


@dataclass(frozen=True)
class PlannedChange:
    """What one selected item would become; ``skip`` says why it would not change, and
    ``concerns`` why its deadline change needs a tick and a reason."""

    item: RectificationItem
    owner: User | None
    deadline: datetime.date | None
    skip: Skip | None = None
    concerns: tuple[DeadlineConcern, ...] = ()

    @property
    def owner_changes(self) -> bool:
        return self.skip is None and self.owner_id != self.item.owner_id

    @property
    def deadline_changes(self) -> bool:
        return self.skip is None and self.deadline != self.item.deadline

    @property
    def owner_id(self) -> int | None:
        return self.owner.pk if self.owner is not None else None


def plan_assignments(
    *,
    items: Iterable[RectificationItem],
    owners: Mapping[int, User | None] | None = None,
    deadline: datetime.date | _Keep | None = KEEP,
    include: Iterable[int] = (),
    today: datetime.date | None = None,
) -> list[PlannedChange]:
    """What assigning would do to each of ``items``.

    ``owners`` maps a unit id to the owner its items get (``None`` removes the owner); the
    items of a unit not in the mapping keep theirs — an owner must belong to the item's unit, so
    one person cannot own the items of several units. ``deadline`` is a date, ``None`` (no
    deadline) or ``KEEP``. Closed items are never changed (reopen them first). An item whose
    new deadline raises a concern (``rules.deadline_concerns``: an approved extension
    shortened, an extension request pending, an overdue item let off) changes only if its id is
    in ``include`` — staff ticked it in the preview.
    """
    items = list(items)
    today = today or clock.today()
    owners = owners or {}
    include = set(include)
    pending = set(
        ExtensionRequest.objects.filter(
            item__in=[i.pk for i in items], status=ExtensionStatus.PENDING
        ).values_list("item_id", flat=True)
    )
    overdue = set(
        RectificationItem.objects.filter(pk__in=[i.pk for i in items])
        .overdue(today)
        .values_list("pk", flat=True)
    )
    plan = []
    for item in items:
        owner = owners.get(item.unit_id, item.owner)
        new_deadline = item.deadline if deadline is KEEP else deadline
        concerns: tuple[DeadlineConcern, ...] = ()
        skip = None
        if item.status == ItemStatus.CLOSED:
            skip = Skip.CLOSED
        elif (owner.pk if owner else None) == item.owner_id and new_deadline == item.deadline:
            skip = Skip.UNCHANGED
        else:
            concerns = tuple(
                deadline_concerns(
                    current=item.deadline,
                    new=new_deadline,
                    source=item.deadline_source,
                    extension_pending=item.pk in pending,
                    is_overdue=item.pk in overdue,
                )
            )
            if concerns and item.pk not in include:
                skip = Skip.NOT_TICKED
        plan.append(
            PlannedChange(
                item=item, owner=owner, deadline=new_deadline, skip=skip, concerns=concerns
            )
        )
    return plan


def bulk_assign(
    *,
    items: Iterable[RectificationItem],
    actor: services.Actor,
    owners: Mapping[int, User | None] | None = None,
    deadline: datetime.date | _Keep | None = KEEP,
    include: Iterable[int] = (),
    reason: str = "",
    count: WorkingDayCount | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> list[PlannedChange]:
    """Assign every item of ``items`` that changes; return those changes.

    ``include`` and ``reason``: the ticked items whose deadline change needs a reason, and
    that reason (the service refuses them without one). ``expected_versions`` (item id →
    version shown in the preview) makes an item edited since the preview raise
    ``StaleItemError`` instead of being overwritten. Any error — stale item, refused
    permission, owner from another unit, a missing reason — rolls back the whole action.
    """
    plan = plan_assignments(items=items, owners=owners, deadline=deadline, include=include)
    applied = [change for change in plan if change.skip is None]
    with transaction.atomic():
        for change in applied:
            services.assign(
                item=change.item,
                actor=actor,
                owner=change.owner,
                deadline=change.deadline,
                reason=reason,
                source=DeadlineSource.BULK_ASSIGNMENT,
                count=count,
                expected_version=(expected_versions or {}).get(change.item.pk),
            )
    return applied


@dataclass(frozen=True)
class UnitOwners:
    """One unit of a selection: how many of its items are selected and who may own them."""

    unit: Unit
    item_count: int
    members: list[User]
    # Pre-selected in the form: the unit's only staff member (经办人), when none of its
    # selected items has an owner yet — the usual case when a new year is set up.
    suggested: User | None


def owner_choices(items: Sequence[RectificationItem]) -> list[UnitOwners]:
    """The units of ``items`` (by name) with their active members, in one query."""
    per_unit: dict[int, list[RectificationItem]] = {}
    for item in items:
        per_unit.setdefault(item.unit_id, []).append(item)
    if not per_unit:
        return []
    in_group = User.groups.through.objects.filter(user_id=OuterRef("pk"))
    members: dict[int, list[User]] = {}
    for user in (
        User.objects.filter(unit_id__in=per_unit, is_active=True)
        .annotate(
            is_unit_staff=Exists(in_group.filter(group__name=Role.UNIT_STAFF)),
            is_unit_head=Exists(in_group.filter(group__name=Role.UNIT_HEAD)),
        )
        .order_by("full_name", "username")
    ):
        members.setdefault(user.unit_id, []).append(user)
    rows = []
    for unit_items in per_unit.values():
        unit = unit_items[0].unit
        people = members.get(unit.pk, [])
        staff = [user for user in people if user.is_unit_staff]  # type: ignore[attr-defined]
        unowned = all(item.owner_id is None for item in unit_items)
        rows.append(
            UnitOwners(
                unit=unit,
                item_count=len(unit_items),
                members=people,
                suggested=staff[0] if unowned and len(staff) == 1 else None,
            )
        )
    return sorted(rows, key=lambda row: row.unit.name)
