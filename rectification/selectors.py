"""Reads of the ledger.

``unit_scope`` is the one access-scoping rule and ``items_visible_to`` its queryset: every page,
export, download and count that shows items starts from them. ``ledger`` is the one ledger
query: the list, the web export, bulk selection and the export command all take their items
and counts from it, and the dashboard's drill-down links (``rectification.links``) speak its
parameters.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Literal

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery

from accounts.roles import is_unit_member, sees_all_units
from rectification import tallies
from rectification.choices import ItemStatus
from rectification.filters import LedgerFilter
from rectification.models import Evidence, ProgressUpdate, RectificationItem
from rectification.querysets import RectificationItemQuerySet, overdue_q

if TYPE_CHECKING:
    from accounts.models import User


# ``unit_scope`` of a person who sees every unit.
ALL_UNITS: Final = "all"


def unit_scope(user: User) -> int | Literal["all"] | None:
    """Whose items ``user`` may see: evaluation staff and oversight readers every unit
    (``ALL_UNITS``), a unit user their unit only (its id), anyone else nothing (``None``)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if sees_all_units(user):
        return ALL_UNITS
    if is_unit_member(user):
        return user.unit_id
    return None


def items_visible_to(user: User) -> RectificationItemQuerySet:
    """The items ``user`` may see (``unit_scope``): another unit's item is therefore simply
    not found (404)."""
    items = RectificationItem.objects.all()
    scope = unit_scope(user)
    if scope is None:
        return items.none()
    if scope == ALL_UNITS:
        return items
    return items.filter(unit_id=scope)


@dataclass
class Ledger:
    """The ledger as one viewer asked for it: scoped once, filtered once, one "today".

    ``items`` is the bare item table, scoped, filtered and in the order asked for (cheap to
    count and to select ids from); ``rows`` adds what a ledger row shows. An invalid parameter
    is left out of the filtering (the list shows its error beside the field); callers that must
    refuse instead (the export, bulk selection) check ``valid``.
    """

    filterset: LedgerFilter
    items: RectificationItemQuerySet
    today: datetime.date
    scope: int | Literal["all"] | None  # the viewer's ``unit_scope``

    @property
    def valid(self) -> bool:
        """No parameter given, or every parameter valid."""
        return not self.filterset.is_bound or self.filterset.is_valid()

    @property
    def chosen(self) -> dict[str, Any]:
        """The valid parameters, parsed (empty when none were given)."""
        if not self.filterset.is_bound:
            return {}
        self.filterset.is_valid()
        return self.filterset.form.cleaned_data

    @property
    def rows(self) -> RectificationItemQuerySet:
        return ledger_rows(self.items, today=self.today)

    @cached_property
    def capped(self) -> bool:
        """A keyword search matching more than ``LIWAN_LEDGER_COUNT_LIMIT`` items: counting
        every match of a common word means reading every matching row (0.5 s at a city's
        200,000 items), so it is counted only that far and its first pages are listed."""
        if not self.chosen.get("q"):
            return False
        limit = settings.LIWAN_LEDGER_COUNT_LIMIT
        return self.items.order_by()[: limit + 1].count() > limit

    @cached_property
    def counts(self) -> dict[str, int | None]:
        """Items per status, overdue and in all; for a ``capped`` search, only ``total`` (the
        limit: that many can be paged through) and ``None`` for the rest."""
        if self.capped:
            return {
                "total": settings.LIWAN_LEDGER_COUNT_LIMIT,
                "overdue": None,
                **dict.fromkeys(ItemStatus.values),
            }
        tallied = self._tallied()
        return tallied if tallied is not None else ledger_counts(self.items, today=self.today)

    @cached_property
    def total(self) -> int:
        """``counts["total"]`` alone, for a list shown only by its number (a worklist's section):
        one count of the items, or the tallies' sum, without the counts per status."""
        if "counts" in self.__dict__ or self.capped:
            return self.counts["total"]  # type: ignore[return-value]
        by_status = self._by_status()
        if by_status is not None:
            return sum(by_status.values())
        return self.items.order_by().count()

    def _tallied(self) -> dict[str, int] | None:
        """The counts from the tallies kept per (year, unit, status), when the list is narrowed
        by nothing else (the first page everyone opens, a year, a unit, a status); only the
        overdue items are counted, from the (status, deadline) index. ``None`` otherwise."""
        by_status = self._by_status()
        if by_status is None:
            return None
        overdue = self.items.order_by().filter(overdue_q(self.today)).count()
        return {"total": sum(by_status.values()), "overdue": overdue, **by_status}

    def _by_status(self) -> dict[str, int] | None:
        """Items per status from the tallies, or ``None`` when they cannot answer."""
        if self._tallied_pairs is None:
            return None
        counted = dict.fromkeys(ItemStatus.values, 0)
        for (_, status), n in self._tallied_pairs.items():
            counted[status] += n
        return counted

    def per_year(self) -> dict[int, int] | None:
        """The list's items per year from the tallies, or ``None`` when they cannot answer: a
        page asked for by its number skips whole years by them (``KeysetFirstPaginator``)."""
        if self._tallied_pairs is None:
            return None
        counted: dict[int, int] = defaultdict(int)
        for (year, _), n in self._tallied_pairs.items():
            counted[year] += n
        return dict(counted)

    @cached_property
    def _tallied_pairs(self) -> dict[tuple[int, str], int] | None:
        """The list's items per (year, status) from the tallies, when the list is narrowed by
        nothing they do not keep; ``None`` otherwise. One query for the counts and the years."""
        if self.scope is None:
            return None
        chosen = {name: value for name, value in self.chosen.items() if value not in NOT_GIVEN}
        if not chosen.keys() <= TALLIED:
            return None
        unit = self.scope if self.scope != ALL_UNITS else chosen.get("unit")
        status = chosen.get("status")
        return {
            (year, value): n
            for (year, value), n in tallies.per_year_and_status(
                year=chosen.get("year"), unit=unit
            ).items()
            if status in (None, value)
        }


def ledger(
    *, viewer: User | None, params: Mapping[str, Any] | None, today: datetime.date
) -> Ledger:
    """The items ``viewer`` may see, filtered and sorted by ``params`` (the ledger list's query
    parameters, ``LedgerFilter``). ``viewer=None`` is the whole ledger, for a command an
    operator runs on the server; a request always passes its user."""
    return _ledger(viewer, LedgerFilter(params or None, user=viewer, today=today), today)


def ledgers(
    *, viewer: User, params: Iterable[Mapping[str, Any]], today: datetime.date
) -> list[Ledger]:
    """``ledger`` for each of several parameter sets of one viewer (a worklist's sections),
    one filter set rebound to each rather than one built for each."""
    filterset = LedgerFilter(None, user=viewer, today=today)
    return [_ledger(viewer, filterset.rebound(one or None), today) for one in params]


def _ledger(viewer: User | None, filterset: LedgerFilter, today: datetime.date) -> Ledger:
    scope = ALL_UNITS if viewer is None else unit_scope(viewer)
    visible = RectificationItem.objects.all() if viewer is None else items_visible_to(viewer)
    items = visible.in_ledger_order()
    if filterset.is_bound:
        # Validates first (an invalid filter is then left out); a chosen sort replaces the
        # ledger order and keeps it as the tie-break.
        filterset.is_valid()
        items = filterset.filter_queryset(items)
    return Ledger(filterset=filterset, items=items, today=today, scope=scope)


# The filters the tallies can answer (the sort changes no count), and the values of a filter
# that was not given.
TALLIED = frozenset({"year", "unit", "status", "sort"})
NOT_GIVEN = (None, "", [])


def ledger_rows(
    items: RectificationItemQuerySet, *, today: datetime.date
) -> RectificationItemQuerySet:
    """Items with everything a ledger row shows, in a constant number of queries, in the order
    ``items`` has (the ledger order if none was chosen).

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
    rows = (
        items.with_overdue(today)
        .with_warning(today)
        .with_repeat()
        .with_tentative_deadline()
        .select_related(
            "unit",
            "owner",
            "recommendation__finding__result__round",
            "recommendation__finding__result__project",
        )
        .annotate(latest_note=Subquery(latest_note), evidence_count=Subquery(evidence_count))
    )
    return rows if rows.query.order_by else rows.in_ledger_order()


def ledger_counts(items: RectificationItemQuerySet, *, today: datetime.date) -> dict[str, int]:
    """Items per status, overdue and in all, for the ledger's filtered list (one query).

    Counting a column of the (status, deadline) indexes rather than the id lets those indexes
    answer alone, without reading the wide rows (status is never NULL).
    """
    return items.order_by().aggregate(
        total=Count("status"),
        overdue=Count("status", filter=overdue_q(today)),
        **{status: Count("status", filter=Q(status=status)) for status in ItemStatus.values},
    )
