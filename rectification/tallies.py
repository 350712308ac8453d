"""Items per (year, unit, status), kept exact by the writers of items: the ledger's counts per
status without counting a city's 200,000 items on every page.

Every change of an item's year, unit or status is followed by ``shift`` in the same
transaction (``rectification.services``: the row lock's save, ``open_items``,
``move_project_items``, ``sync_copies``). ``rebuild`` counts everything again, for data loaded
past the services and for ``manage.py rebuild_tallies``; ``drift`` says where the kept counts
and a live count differ (``rebuild_tallies --check``, and the test suite after every test).

"Overdue" is not kept here: it changes with the date, not with a write, so it is always
counted live (``querysets.overdue_q``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.db import connections, router, transaction
from django.db.models import Count, QuerySet, Sum

from rectification.models import RectificationItem, StatusTally

if TYPE_CHECKING:
    from evaluations.models import Unit

# (round year, unit id, status)
Key = tuple[int, int, str]

# Rows per upsert statement: four parameters each, under SQLite's oldest limit of 999.
_BATCH = 200


def key_of(item: RectificationItem) -> Key:
    return (item.round_year, item.unit_id, item.status)


def count_of(items: QuerySet) -> dict[Key, int]:
    """``items`` counted per key (one GROUP BY)."""
    rows = (
        items.order_by()
        .values_list("round_year", "unit_id", "status")
        .annotate(n=Count("pk"))
        .values_list("round_year", "unit_id", "status", "n")
    )
    return {(year, unit, status): n for year, unit, status, n in rows}


def difference(after: Mapping[Key, int], before: Mapping[Key, int]) -> dict[Key, int]:
    return {key: after.get(key, 0) - before.get(key, 0) for key in {*after, *before}}


def added(items: Iterable[RectificationItem]) -> dict[Key, int]:
    """The change of new ``items`` (saved, with their copies of the evaluation filled)."""
    return Counter(map(key_of, items))


def moved(before: Key, after: Key) -> dict[Key, int]:
    """The change of one item whose key went from ``before`` to ``after``."""
    return {} if before == after else {before: -1, after: 1}


def shift(change: Mapping[Key, int]) -> None:
    """Add ``change`` to the tallies, in the caller's transaction.

    One upsert adds to each row under the row's lock, so concurrent writers never lose each
    other's counts; the rows are written in key order, so two writers that touch the same
    rows wait for each other instead of deadlocking.
    """
    rows = sorted((key, n) for key, n in change.items() if n)
    if not rows:
        return
    connection = connections[router.db_for_write(StatusTally)]
    name = connection.ops.quote_name
    table = name(StatusTally._meta.db_table)
    year, unit, status, items = map(name, ("round_year", "unit_id", "status", "items"))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
            # Only quoted names and placeholders are formatted in: the values are parameters.
            cursor.execute(
                f"INSERT INTO {table} ({year}, {unit}, {status}, {items}) "  # noqa: S608 # nosec B608
                f"VALUES {values} ON CONFLICT ({year}, {unit}, {status}) "
                f"DO UPDATE SET {items} = {table}.{items} + EXCLUDED.{items}",
                [value for key, n in batch for value in (*key, n)],
            )


def rebuild() -> int:
    """Count every item again and replace the tallies; returns the rows written.

    On PostgreSQL the table is locked against writers for the transaction: a writer that
    shifted before waits to commit first (and is counted), one that shifts after waits for the
    new rows (and adds to them), so no change is counted twice or lost.
    """
    with transaction.atomic(using=router.db_for_write(StatusTally)):
        connection = connections[router.db_for_write(StatusTally)]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(StatusTally._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        StatusTally.objects.all().delete()
        rows = [
            StatusTally(round_year=year, unit_id=unit, status=status, items=n)
            for (year, unit, status), n in count_of(RectificationItem.objects.all()).items()
        ]
        StatusTally.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def drift() -> dict[Key, tuple[int, int]]:
    """Where the tallies differ from a live count: key → (kept, counted)."""
    kept = {
        (year, unit, status): n
        for year, unit, status, n in StatusTally.objects.exclude(items=0).values_list(
            "round_year", "unit_id", "status", "items"
        )
    }
    counted = count_of(RectificationItem.objects.all())
    return {
        key: (kept.get(key, 0), counted.get(key, 0))
        for key in {*kept, *counted}
        if kept.get(key, 0) != counted.get(key, 0)
    }


def per_status(*, year: int | None = None, unit: Unit | int | None = None) -> dict[str, int]:
    """Items per status, of one year and/or one unit or of all (statuses without items are
    left out)."""
    counted: Counter[str] = Counter()
    for (_, status), n in per_year_and_status(year=year, unit=unit).items():
        counted[status] += n
    return dict(counted)


def per_year_and_status(
    *, year: int | None = None, unit: Unit | int | None = None
) -> dict[tuple[int, str], int]:
    """Items per (year, status), of one year and/or one unit or of all (pairs without items
    are left out): the ledger's counts per status and its items per year in one query."""
    rows = StatusTally.objects.all()
    if year is not None:
        rows = rows.filter(round_year=year)
    if unit is not None:
        rows = rows.filter(unit=unit)
    return {
        (round_year, status): n
        for round_year, status, n in rows.order_by()
        .values_list("round_year", "status")
        .annotate(n=Sum("items"))
        if n
    }
