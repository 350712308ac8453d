"""Reads of the ledger. ``items_visible_to`` is the one access-scoping rule: every page, export,
download and count that shows items starts from it."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, Q, Subquery

from accounts.roles import is_unit_member, sees_all_units
from liwan import clock
from rectification.choices import ItemStatus
from rectification.models import Evidence, ProgressUpdate, RectificationItem
from rectification.querysets import RectificationItemQuerySet, overdue_q

if TYPE_CHECKING:
    from accounts.models import User


def items_visible_to(user: User) -> RectificationItemQuerySet:
    """Evaluation staff and oversight readers see every unit; a unit user sees their unit only;
    anyone else sees nothing. Another unit's item is therefore simply not found (404)."""
    items = RectificationItem.objects.all()
    if not user.is_authenticated or not user.is_active:
        return items.none()
    if sees_all_units(user):
        return items
    if is_unit_member(user):
        return items.filter(unit_id=user.unit_id)
    return items.none()


def ledger_rows(
    items: RectificationItemQuerySet, *, today: datetime.date | None = None
) -> RectificationItemQuerySet:
    """Items with everything a ledger row shows, in a constant number of queries.

    Latest progress note and evidence count come from correlated subqueries rather than
    prefetching, so streaming exports can iterate without loading related rows.
    """
    latest_note = (
        ProgressUpdate.objects.filter(item=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("note")[:1]
    )
    evidence_count = (
        Evidence.objects.filter(progress__item=OuterRef("pk"))
        .order_by()
        .values("progress__item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        items.with_overdue(today or clock.today())
        .select_related(
            "unit",
            "owner",
            "recommendation__finding__result__round",
            "recommendation__finding__result__project",
        )
        .annotate(latest_note=Subquery(latest_note), evidence_count=Subquery(evidence_count))
        .in_ledger_order()
    )


def filter_ledger(
    items: RectificationItemQuerySet, *, year: int | None = None, unit: str | None = None
) -> RectificationItemQuerySet:
    """The export command's --year/--unit filters (the web download uses LedgerFilter)."""
    if year:
        items = items.filter(round_year=year)
    if unit:
        items = items.filter(unit__name=unit)
    return items


def ledger_counts(items: RectificationItemQuerySet) -> dict[str, int]:
    """Items per status, overdue and in all, for the ledger's filtered list (one query).

    Counting a column of the (status, deadline) indexes rather than the id lets those indexes
    answer alone, without reading the wide rows (status is never NULL).
    """
    today = clock.today()
    return items.order_by().aggregate(
        total=Count("status"),
        overdue=Count("status", filter=overdue_q(today)),
        **{status: Count("status", filter=Q(status=status)) for status in ItemStatus.values},
    )
