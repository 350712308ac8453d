"""Pagination of the ledger that stays fast on the last page of a whole province."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from liwan.params import int_param
from rectification.models import RectificationItem
from rectification.querysets import LEDGER_ORDER


class CountedPaginator(Paginator):
    """A paginator told its count by the caller, who has it without a COUNT over the rows (the
    ledger's counts per status, a stored computation's row total)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int | None = None, **kwargs: Any):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.count = count  # overrides the cached_property: no COUNT query


class KeysetFirstPaginator(CountedPaginator):
    """Pages in two steps: the page's ids from the narrow, indexed order, then those rows.

    The ledger's rows carry joins and correlated subqueries (latest progress, evidence count).
    With a plain OFFSET, PostgreSQL builds every row it skips, subqueries included: page 3,000
    of 200,000 items took 5 s. Selecting only the ids lets it walk the ledger-order index and
    build just the 50 rows shown (BENCHMARKS.md).

    ``count`` may be given when the caller has already counted the rows (the ledger counts per
    status anyway), saving a second COUNT over the same filter.
    """

    def __init__(
        self,
        object_list: Any,
        per_page: int,
        *,
        cursor: Cursor | None = None,
        years: Callable[[], Mapping[int, int] | None] | None = None,
        **kwargs: Any,
    ):
        """``years`` gives the list's items per year when they are known without counting
        (the tallies), for a page asked for by its number to skip whole years."""
        super().__init__(object_list, per_page, **kwargs)
        # Links carry cursors only in the ledger order (a chosen sort pages by number).
        self.keyed = tuple(object_list.query.order_by) == LEDGER_ORDER
        self.cursor = cursor if self.keyed else None
        self.years = years if self.keyed else None

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        ids = self._ids_from_cursor(number) if self.cursor else None
        if not ids:
            bottom = (number - 1) * self.per_page
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
            ids = self._ids_past_years(bottom, top) if bottom and self.years else None
            if ids is None:
                ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(rows_of(self.object_list, ids), number, self)

    def _ids_past_years(self, bottom: int, top: int) -> list[int] | None:
        """The ids of rows ``bottom``–``top`` with the newer years' rows skipped by their
        number rather than walked: OFFSET read 150,000 index entries for page 3,000 of a
        city's 200,000 items, 750,000 at a country's. The years' numbers come from the
        tallies, exact as the page's count is; ``None`` when they are not known."""
        assert self.years is not None
        years = self.years()
        if not years:
            return None
        skipped = 0
        for year in sorted(years, reverse=True):
            if skipped + years[year] > bottom:
                break
            skipped += years[year]
        else:
            return None  # past the end: the page's number decides
        items = self.object_list.order_by()
        size = top - bottom
        start = bottom - skipped
        ids = list(
            items.filter(round_year=year)
            .order_by(*LEDGER_ORDER)
            .values_list("pk", flat=True)[start : start + size]
        )
        if len(ids) < size:
            ids += _ids(items.filter(round_year__lt=year), LEDGER_ORDER, size - len(ids))
        return ids

    def _get_page(self, *args: Any, **kwargs: Any) -> Page:
        return LedgerPage(*args, **kwargs)

    def _ids_from_cursor(self, number: int) -> list[int]:
        """The page's ids found from the neighbouring page's last (or first) row rather than
        by skipping every row before it: OFFSET walked 150,000 index entries for page 3,000
        (≈ 10 ms of the query at a city's scale, 126 against 73 ms a page at a country's), this
        reads 50. The page's number is the one its link carried, a label: items added or
        closed since the previous page shift it, not the rows. The last page keeps its orphans
        as OFFSET would; a cursor past the end (everything after it closed and filtered out)
        finds nothing, and the page is then found by its number."""
        cursor = self.cursor
        assert cursor is not None
        size = self.per_page
        if number * size + self.orphans >= self.count:
            size += self.orphans
        items = self.object_list.order_by()
        if cursor.forward:
            # Ledger order is the year descending, then (number, problem, id) ascending: the
            # rest of the cursor's year, then the years before it, each read from the index.
            ids = _ids(items.filter(cursor.beyond(), round_year=cursor.year), LEDGER_ORDER, size)
            if len(ids) < size:
                earlier = items.filter(round_year__lt=cursor.year)
                ids += _ids(earlier, LEDGER_ORDER, size - len(ids))
            return ids
        ids = _ids(items.filter(cursor.beyond(), round_year=cursor.year), BACKWARDS, size)
        if len(ids) < size:
            later = items.filter(round_year__gt=cursor.year)
            ids += _ids(later, BACKWARDS, size - len(ids))
        return ids[::-1]


# The ledger order reversed, for the rows before a cursor.
BACKWARDS = tuple(name[1:] if name.startswith("-") else f"-{name}" for name in LEDGER_ORDER)


class LedgerPage(Page):
    """A page whose Next and Previous links carry the cursor of its last and first row."""

    @property
    def next_cursor(self) -> str:
        keyed = self.paginator.keyed and self.object_list  # type: ignore[attr-defined]
        return Cursor.of(self.object_list[-1]) if keyed else ""

    @property
    def previous_cursor(self) -> str:
        keyed = self.paginator.keyed and self.object_list  # type: ignore[attr-defined]
        return Cursor.of(self.object_list[0]) if keyed else ""


def _ids(items: QuerySet, order: tuple[str, ...], limit: int) -> list[int]:
    return list(items.order_by(*order).values_list("pk", flat=True)[:limit])


class Cursor(NamedTuple):
    """A position in the ledger order: the key of the row a page starts after (``forward``)
    or ends before, as the page links carry it (``2024.12.3.5678``)."""

    year: int
    seq: int
    number: int
    pk: int
    forward: bool

    @classmethod
    def parse(cls, *, after: str | None, before: str | None) -> Cursor | None:
        """The cursor of a page link's parameters, or ``None`` when it has none or a malformed
        one (the page is then found by its number)."""
        text, forward = (after, True) if after else (before, False)
        parts = (text or "").split(".")
        if len(parts) != 4:
            return None
        values = [int_param(part) for part in parts]
        if None in values:
            return None
        year, seq, number, pk = values
        return cls(year, seq, number, pk, forward)  # type: ignore[arg-type]

    @staticmethod
    def of(item: Any) -> str:
        """The cursor text of a ledger row."""
        return f"{item.round_year}.{item.result_seq}.{item.finding_number}.{item.pk}"

    def beyond(self) -> RawSQL:
        """Within the cursor's year, the rows past it in the direction of travel: a row
        comparison, which PostgreSQL reads as one range of the ledger-order index (three ORed
        comparisons would not be)."""
        table = RectificationItem._meta.db_table
        columns = ", ".join(
            f'"{table}"."{name}"' for name in ("result_seq", "finding_number", "id")
        )
        operator = ">" if self.forward else "<"
        # Only the three integers are parameters; the rest is fixed text.
        return RawSQL(  # noqa: S611 # nosec B611
            f"({columns}) {operator} (%s, %s, %s)",
            (self.seq, self.number, self.pk),
            output_field=BooleanField(),
        )


def rows_of(rows: QuerySet, ids: list[int]) -> list[Any]:
    """The rows of ``ids``, in that order: the second step of paging through ``rows`` (the
    first picks the ids from the bare, indexed table)."""
    found = {row.pk: row for row in rows.order_by().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]
