"""The dashboard's figures, read in SQL from the items the user may see.

Everything starts from ``items_visible_to(user)`` (staff and oversight readers: every unit; a
unit: itself) and "overdue" is ``overdue_q`` — the same definitions as the ledger list, so
each number equals the length of the filtered ledger list it links to.

Bounded at city scale (500 units, 40,000 items and 6,000 projects a year):

- the number of queries does not depend on the number of items: every figure is an aggregate,
  and every list the page shows is a bounded page (rankings, projects, the units behind a
  category, items due soon);
- the aggregates read the item table alone, filtered on its ``round_year`` copy and grouped by
  (unit, ``result_seq``): no join to the round, the result or the unit. The year's counts by
  status come from the ``item_year_status_deadline`` index alone. Only the category breakdown
  joins (item → recommendation → finding's categories); as it does not depend on any item's
  status, the city-wide breakdown is kept in the cache under a fingerprint of what it does
  depend on (see ``_cached_category_summary``);
- the whole city's counts of a year are the same for every reader until an item changes, and
  every change writes an audit record: they are kept in the cache under the newest record's
  id and the day, for a minute at most (see ``_cached_counts``). A unit's own figures are
  counted on each request.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.roles import sees_all_units
from evaluations.models import EvaluationResult, EvaluationRound, Finding, FindingCategory, Unit
from liwan.replica import primary_reads
from rectification.choices import ItemStatus, RectificationType, RepeatStatus, WarningLevel
from rectification.models import Event, RectificationItem, RepeatLink
from rectification.querysets import (
    RectificationItemQuerySet,
    overdue_q,
    repeat_links,
    warning_q,
)
from rectification.selectors import items_visible_to

if TYPE_CHECKING:
    from accounts.models import User

YEAR = "round_year"
# "Due soon": the deadline falls within this many days from today (today included).
DUE_SOON_DAYS = 14
# The due-soon list shows this many rows; the count links to the full list on the ledger.
DUE_SOON_ROWS = 20
# Each unit ranking shows this many units a page (its chart draws the same units); the rest
# of the units are a page away (``?closure_page=`` / ``?overdue_page=``).
RANKING_ROWS = 15
# The category table names this many units behind each bar, then "and N more" (the ledger).
# As many as the district has today: its page names every unit, as it always did.
CATEGORY_UNITS = 10
# The projects table shows this many projects a page (``?projects_page=``).
PROJECT_ROWS = 25
# How long the city-wide category breakdown of a year may be served from the cache (seconds;
# 0 turns the cache off). It is checked against a fingerprint on every request, so this only
# bounds changes the fingerprint cannot see (``_cached_category_summary``).
CATEGORY_CACHE_SECONDS = 5 * 60
_CATEGORY_CACHE_PREFIX = "dashboard:categories"
_CATEGORY_GENERATION_KEY = f"{_CATEGORY_CACHE_PREFIX}:generation"
# How long the whole city's counts of a year may be served from the cache (seconds; 0 turns
# the cache off): a bound on the changes its fingerprint cannot see (``_cached_counts``).
FIGURES_CACHE_SECONDS = 60
_FIGURES_CACHE_PREFIX = "dashboard:figures"


def closure_rate(closed: int, total: int) -> Decimal:
    """Closed (销号) items as a percentage of all items, one decimal; 0 for no items."""
    if not total:
        return Decimal("0.0")
    return (Decimal(closed) * 100 / total).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    """Counts of one year's items, by status."""

    total: int
    overdue: int
    by_status: dict[str, int]
    # Items per supervision colour (三色预警), red to green; closed items have none.
    by_warning: dict[str, int] = field(default_factory=dict)
    # Items confirmed as repeating an earlier round's problem (屡审屡犯).
    repeats: int = 0

    @property
    def warning_rows(self) -> list[tuple[str, str, int]]:
        """(level, label, count), red first."""
        return [
            (value, label, self.by_warning.get(value, 0)) for value, label in WarningLevel.choices
        ]

    @property
    def closed(self) -> int:
        return self.by_status.get(ItemStatus.CLOSED, 0)

    @property
    def not_closed(self) -> int:
        return self.total - self.closed

    @property
    def closure_rate(self) -> Decimal:
        return closure_rate(self.closed, self.total)

    @property
    def status_rows(self) -> list[tuple[str, str, int]]:
        """(status, label, count) in workflow order."""
        return [(value, label, self.by_status[value]) for value, label in ItemStatus.choices]


@dataclass(frozen=True)
class Progress:
    """Items, closed items and overdue items of one unit or one project."""

    total: int
    closed: int
    overdue: int

    @cached_property
    def closure_rate(self) -> Decimal:
        return closure_rate(self.closed, self.total)

    @property
    def not_closed(self) -> int:
        return self.total - self.closed


@dataclass(frozen=True)
class TypeRow:
    """Completion of one rectification type (整改类型), as national figures report it: e.g. 94%
    of 立行立改 items closed, 62% of 分阶段整改. ``type`` "none": no plan accepted yet."""

    type: str
    label: str
    progress: Progress


@dataclass(frozen=True)
class UnitRow:
    unit_id: int
    name: str
    short_name: str
    figures: Progress

    @property
    def label(self) -> str:
        return self.short_name or self.name


@dataclass(frozen=True)
class CategoryRow:
    category_id: int
    name: str
    findings: int
    # The first CATEGORY_UNITS units behind the count, as (unit id, unit label, findings of
    # that unit in this category), most findings first, then by label.
    units: list[tuple[int, str, int]] = field(default_factory=list)
    unit_count: int = 0  # all the units behind the count

    @property
    def more_units(self) -> int:
        """Units behind the count that ``units`` leaves out."""
        return self.unit_count - len(self.units)


@dataclass(frozen=True)
class ProjectRow:
    result_id: int | None  # None only if the item's copy of the sequence number is stale
    project_id: int | None
    seq: int
    project: str
    unit_id: int
    unit: str
    score: Decimal | None
    grade: str
    figures: Progress


@dataclass(frozen=True)
class Dashboard:
    year: int | None
    years: list[int]
    today: datetime.date
    due_until: datetime.date
    figures: Figures
    due_soon_count: int
    due_soon: list[RectificationItem]
    by_type: list[TypeRow]  # in the order of RectificationType, then those without a type
    units: list[UnitRow]  # every unit with items this year, by name
    categories: list[CategoryRow]
    uncategorised: int
    # One page of the projects, those needing attention first (see ``attention_order``).
    projects: Page
    # One page of each unit ranking (RANKING_ROWS units).
    closure_ranking: Page
    overdue_ranking: Page
    # Confirmed repeats (屡审屡犯) of every year, per unit and per category.
    repeats: RepeatCounts = field(default_factory=lambda: RepeatCounts([], []))

    @property
    def by_closure_rate(self) -> list[UnitRow]:
        return by_closure_rate(self.units)

    @property
    def by_overdue(self) -> list[UnitRow]:
        return by_overdue(self.units)


@dataclass(frozen=True)
class RepeatCounts:
    by_unit: list[tuple[int, str, int]]  # (unit id, label, repeats), most first
    by_category: list[tuple[int, str, int]]  # (category id, name, repeats), most first

    def __bool__(self) -> bool:
        return bool(self.by_unit)


def repeat_counts(items: RectificationItemQuerySet) -> RepeatCounts:
    """The items of ``items`` that staff confirmed as repeats of an earlier round's problem,
    counted per unit and per problem category across the years (one query, two if any)."""
    repeats = items.filter(Exists(repeat_links())).order_by()
    by_unit = list(
        repeats.values("unit_id", "unit__short_name", "unit__name")
        .annotate(n=Count("id"))
        .order_by("-n", "unit__name")
    )
    if not by_unit:
        return RepeatCounts([], [])  # no repeat confirmed: no category to count them by
    by_category = (
        repeats.filter(recommendation__finding__categories__isnull=False)
        .values(
            "recommendation__finding__categories__id",
            "recommendation__finding__categories__name",
        )
        .annotate(n=Count("id"))
        .order_by("-n", "recommendation__finding__categories__name")
    )
    return RepeatCounts(
        by_unit=[(r["unit_id"], r["unit__short_name"] or r["unit__name"], r["n"]) for r in by_unit],
        by_category=[
            (
                r["recommendation__finding__categories__id"],
                r["recommendation__finding__categories__name"],
                r["n"],
            )
            for r in by_category
        ],
    )


def by_closure_rate(units: list[UnitRow]) -> list[UnitRow]:
    """Best first; among equal rates, the unit with more items closed ranks higher."""
    return sorted(units, key=lambda u: (-u.figures.closure_rate, -u.figures.closed, u.name))


def by_overdue(units: list[UnitRow]) -> list[UnitRow]:
    """Most overdue items first; among equal counts, the lower closure rate ranks higher."""
    return sorted(units, key=lambda u: (-u.figures.overdue, u.figures.closure_rate, u.name))


def attention_order(seq: int, total: int, closed: int, overdue: int) -> tuple[int, float, int]:
    """The order of the projects table: the projects needing attention first.

    Most overdue items first; then the lowest share of items closed; among equals, the order of
    the year's summary table (sequence number) — so a year with nothing overdue and nothing
    closed yet lists its projects as the summary table does.
    """
    return (-overdue, closed / total if total else 0.0, seq)


def dashboard_years(items: RectificationItemQuerySet) -> list[int]:
    """The years in which ``items`` has an item, newest first.

    One existence probe per round on the indexed ``round_year``, rather than a DISTINCT over
    every item (a quarter of a second at 200,000 items).
    """
    rounds = EvaluationRound.objects.filter(Exists(items.filter(**{YEAR: OuterRef("year")})))
    return list(rounds.order_by("-year").values_list("year", flat=True))


def dashboard(
    *,
    user: User,
    year: int | None,
    today: datetime.date,
    projects_page: Any = 1,
    closure_page: Any = 1,
    overdue_page: Any = 1,
) -> Dashboard:
    """The figures of ``year`` (the latest year with items when ``None``) as ``user`` sees them.

    The ``*_page`` numbers pick the page of each paginated list; a page that is not a number is
    the first, one past the end the last (``Paginator.get_page``).
    """
    visible = items_visible_to(user)
    years = dashboard_years(visible)
    if year not in years:
        year = years[0] if years else None
    due_until = today + datetime.timedelta(days=DUE_SOON_DAYS)
    if year is None:
        return _empty(years, today, due_until)
    items = visible.filter(**{YEAR: year}).order_by()
    city = sees_all_units(user)
    counted = (
        _cached_counts(items, year, today, due_until, projects_page)
        if city
        else _counts(items, today, due_until, projects_page)
    )
    figures, due_soon_count, units, projects = (
        counted.figures,
        counted.due_soon_count,
        counted.units,
        counted.projects,
    )
    labels = {row.unit_id: row.label for row in units}
    fingerprint = None
    if city:
        # Every item of the year, whatever its unit: the breakdown is the same for every reader
        # of the whole city, so it can be shared through the cache.
        fingerprint = (year, tuple((row.unit_id, row.figures.total) for row in units))
    categories, uncategorised = _categories(items, labels, fingerprint)
    return Dashboard(
        year=year,
        years=years,
        today=today,
        due_until=due_until,
        figures=figures,
        due_soon_count=due_soon_count,
        due_soon=counted.due_soon,
        by_type=counted.by_type,
        units=units,
        categories=categories,
        uncategorised=uncategorised,
        projects=_project_page(year, projects, labels),
        # Both rankings order every unit (500 at most: cheap in Python) and show one page.
        closure_ranking=Paginator(by_closure_rate(units), RANKING_ROWS).get_page(closure_page),
        overdue_ranking=Paginator(by_overdue(units), RANKING_ROWS).get_page(overdue_page),
        repeats=repeat_counts(visible),
    )


@dataclass(frozen=True)
class YearCounts:
    """What the dashboard counts over a year's items on every request."""

    figures: Figures
    due_soon_count: int
    due_soon: list[RectificationItem]
    by_type: list[TypeRow]
    units: list[UnitRow]
    projects: Page


def _counts(
    items: RectificationItemQuerySet,
    today: datetime.date,
    due_until: datetime.date,
    projects_page: Any,
) -> YearCounts:
    figures, due_soon_count = _year_figures(items, today, due_until)
    units, projects = _units_and_projects(items, today, projects_page)
    return YearCounts(
        figures=figures,
        due_soon_count=due_soon_count,
        due_soon=_due_soon(items, today, due_until),
        by_type=completion_by_type(items, today),
        units=units,
        projects=projects,
    )


def _cached_counts(
    items: RectificationItemQuerySet,
    year: int,
    today: datetime.date,
    due_until: datetime.date,
    projects_page: Any,
) -> YearCounts:
    """``_counts`` of the whole city's items of a year, through the cache.

    Counting a city's year takes four aggregates over 40,000 index entries (≈ 35 ms), the same
    for every reader of the whole city until something changes. Every change to an item goes
    through the services, which write its audit record (``Event``) in the same transaction;
    so the newest record's id (one index probe), with the newest item's id, the day, the page
    asked for and the language (the types' labels), is a fingerprint that moves with every
    change. What it misses shows within ``FIGURES_CACHE_SECONDS``: a change made without a
    record (a renumbering re-import, the back-office), and one whose transaction took its
    record's id before a later one committed first (ids are handed out before commit).
    """
    if not FIGURES_CACHE_SECONDS:
        return _counts(items, today, due_until, projects_page)
    # Kept for everyone under a key the primary's changes make: the key and the counts are
    # both the primary's, not a standby's that may not have replayed the change yet.
    with primary_reads():
        latest = (
            Event.objects.order_by("-pk").values_list("pk", flat=True).first(),
            RectificationItem.objects.order_by("-pk").values_list("pk", flat=True).first(),
        )
        page = str(projects_page)[:12]
        fingerprint = (year, today, due_until, page, latest, translation.get_language())
        digest = hashlib.sha256(repr(fingerprint).encode()).hexdigest()
        key = f"{_FIGURES_CACHE_PREFIX}:{digest}"
        counted = cache.get(key)
        if counted is None:
            counted = _counts(items, today, due_until, projects_page)
            cache.set(key, counted, FIGURES_CACHE_SECONDS)
    return counted


def _empty(years: list[int], today: datetime.date, due_until: datetime.date) -> Dashboard:
    """No year with items: nothing to count."""
    nothing = Paginator([], 1).get_page(1)
    return Dashboard(
        year=None,
        years=years,
        today=today,
        due_until=due_until,
        figures=Figures(total=0, overdue=0, by_status={s: 0 for s in ItemStatus.values}),
        due_soon_count=0,
        due_soon=[],
        by_type=[],
        units=[],
        categories=[],
        uncategorised=0,
        projects=nothing,
        closure_ranking=nothing,
        overdue_ranking=nothing,
    )


# Every count reads the status column rather than the id: status is never NULL, so the count
# is the same, and (round_year, status, deadline …) indexes hold it while they do not hold the
# id — PostgreSQL can then count from the index alone instead of visiting every row.
ITEMS = "status"


def _due_soon(
    items: RectificationItemQuerySet, today: datetime.date, due_until: datetime.date
) -> list[RectificationItem]:
    """The first DUE_SOON_ROWS items due soon, with what their rows show.

    The rows are picked in a subquery that joins only the unit (for the order), so the
    database joins the recommendation and owner of those rows only, not of every item due
    soon in the city (1,700 at 40,000 items a year).
    """
    order = ("deadline", "unit__name", "pk")
    due = items.filter(deadline__gte=today, deadline__lte=due_until).exclude(
        status=ItemStatus.CLOSED
    )
    first = due.order_by(*order).values("pk")[:DUE_SOON_ROWS]
    rows = (
        RectificationItem.objects.filter(pk__in=first)
        .select_related("unit", "owner", "recommendation")
        .only(*DUE_SOON_FIELDS)
        .order_by(*order)
    )
    return list(rows)


# What a row of the due-soon list shows (templates/dashboard/index.html): not the item's long
# texts (measures, result, notes).
DUE_SOON_FIELDS = (
    "deadline",
    "status",
    "unit__name",
    "unit__short_name",
    "recommendation__title",
    "owner__username",
    "owner__full_name",
    "owner__first_name",
    "owner__last_name",
)


def _year_figures(
    items: RectificationItemQuerySet, today: datetime.date, due_until: datetime.date
) -> tuple[Figures, int]:
    """The year's counts by status, overdue and due soon: one GROUP BY status that PostgreSQL
    answers from the (round_year, status, deadline) index alone; the confirmed repeats from
    their own small table (asking it per item would read every row of the year)."""
    due_soon = Q(deadline__gte=today, deadline__lte=due_until) & ~Q(status=ItemStatus.CLOSED)
    rows = items.values("status").annotate(
        n=Count(ITEMS),
        overdue=Count(ITEMS, filter=overdue_q(today)),
        due_soon=Count(ITEMS, filter=due_soon),
        yellow=Count(ITEMS, filter=warning_q(WarningLevel.YELLOW, today)),
        green=Count(ITEMS, filter=warning_q(WarningLevel.GREEN, today)),
    )
    by_status = {status: 0 for status in ItemStatus.values}
    overdue = due_soon_count = yellow = green = 0
    for row in rows.order_by():
        by_status[row["status"]] = row["n"]
        overdue += row["overdue"]
        due_soon_count += row["due_soon"]
        yellow += row["yellow"]
        green += row["green"]
    repeats = (
        RepeatLink.objects.filter(status=RepeatStatus.CONFIRMED, item__in=items.order_by())
        .values("item_id")
        .distinct()
        .count()
    )
    figures = Figures(
        total=sum(by_status.values()),
        overdue=overdue,
        by_status=by_status,
        by_warning={
            WarningLevel.RED: overdue,
            WarningLevel.YELLOW: yellow,
            WarningLevel.GREEN: green,
        },
        repeats=repeats,
    )
    return figures, due_soon_count


def completion_by_type(items: RectificationItemQuerySet, today: datetime.date) -> list[TypeRow]:
    """Items, closed and overdue per rectification type: one GROUP BY. Every type is listed,
    with zeros where it has no item; items without a type only when there are some."""
    counts = {
        row["rectification_type"]: row
        for row in items.values("rectification_type")
        .annotate(
            n=Count(ITEMS),
            closed=Count(ITEMS, filter=Q(status=ItemStatus.CLOSED)),
            overdue=Count(ITEMS, filter=overdue_q(today)),
        )
        .order_by()
    }
    rows = []
    for value in [*RectificationType.values, ""]:
        row = counts.get(value)
        if row is None and value == "":
            continue
        progress = Progress(
            total=row["n"] if row else 0,
            closed=row["closed"] if row else 0,
            overdue=row["overdue"] if row else 0,
        )
        kind = value or "none"
        rows.append(TypeRow(type=kind, label=type_label(kind), progress=progress))
    return rows


def type_label(kind: str) -> str:
    """The label of a ``TypeRow.type``: its rectification type's, or for "none" (no plan
    accepted yet) "Not yet decided"."""
    if kind in RectificationType.values:
        return str(RectificationType(kind).label)
    return _("Not yet decided")


# One project of the year: (unit id, result sequence number, items, closed, overdue).
ProjectCounts = tuple[int, int, int, int, int]


def _units_and_projects(
    items: RectificationItemQuerySet, today: datetime.date, page_number: Any
) -> tuple[list[UnitRow], Page]:
    """Every unit's progress and one page of the projects' (``attention_order``), from one
    aggregate over the item table.

    A project is a result of the year, which the item knows by its copy of the result's
    sequence number (unique within a year): grouping by (unit, result_seq) needs no join, and
    the units' figures are the sums of their projects'. The database groups the year's items by
    project once and returns the sums per unit and the projects of the page, not the 6,000
    projects of a city's year (see ``_unit_sums_and_projects``).
    """
    projects = (
        items.values("unit_id", "result_seq")
        .annotate(
            n=Count(ITEMS),
            closed=Count(ITEMS, filter=Q(status=ItemStatus.CLOSED)),
            overdue=Count(ITEMS, filter=overdue_q(today)),
        )
        .values_list("unit_id", "result_seq", "n", "closed", "overdue")
        .order_by()
    )
    try:
        number = max(int(page_number), 1)
    except (TypeError, ValueError):
        number = 1
    sums, page_rows = _unit_sums_and_projects(projects, (number - 1) * PROJECT_ROWS)
    paginator = Paginator(range(sum(count for *_sums, count in sums.values())), PROJECT_ROWS)
    # Past the end (an old link): the last page, as Paginator.get_page; the query did the same.
    number = min(number, paginator.num_pages)
    names = Unit.objects.filter(pk__in=sums).values_list("pk", "name", "short_name")
    units = [
        UnitRow(unit_id=pk, name=name, short_name=short_name, figures=Progress(*sums[pk][:3]))
        for pk, name, short_name in names.order_by("name")
    ]
    return units, Page(page_rows, number, paginator)


def _unit_sums_and_projects(
    projects: QuerySet, offset: int
) -> tuple[dict[int, tuple[int, int, int, int]], list[ProjectCounts]]:
    """Per unit (items, closed, overdue, projects), and PROJECT_ROWS projects from ``offset``
    in ``attention_order`` (from the last page's offset when ``offset`` is past the end), of
    the per-project aggregate ``projects``.

    One statement around the ORM's own SQL: the projects are grouped once (a WITH query) and
    read twice, summed per unit and sorted for the page. Fetching the 6,000 projects instead
    cost Python more than the database: 6,000 rows to build, and the garbage collections they
    set off (ten a request, and now and then a full one of 0.1 s).
    """
    sql, params = projects.query.sql_with_params()
    connection = connections[projects.db]
    unit, seq, n, closed, overdue = map(
        connection.ops.quote_name, ("unit_id", "result_seq", "n", "closed", "overdue")
    )
    share = f"CAST({closed} AS DOUBLE PRECISION) / {n}"

    def total(column: str) -> str:
        return f"CAST(SUM({column}) AS INTEGER)"

    # Only the ORM's SQL (its values go as parameters) and quoted column names: no input.
    statement = (
        f"WITH projects AS ({sql}) "  # noqa: S608 # nosec B608
        f"SELECT 0, {unit}, 0, {total(n)}, {total(closed)}, {total(overdue)}, COUNT(*) "
        f"FROM projects GROUP BY {unit} "
        f"UNION ALL SELECT * FROM ("
        f"SELECT 1, {unit}, {seq}, {n}, {closed}, {overdue}, 0 FROM projects "
        f"ORDER BY {overdue} DESC, {share}, {seq} LIMIT %s OFFSET ("
        f"SELECT CASE WHEN %s < COUNT(*) THEN %s ELSE (COUNT(*) - 1) / %s * %s END "
        f"FROM projects)"
        f") AS page"
    )
    rows_per_page = PROJECT_ROWS
    with connection.cursor() as cursor:
        cursor.execute(
            statement, (*params, rows_per_page, offset, offset, rows_per_page, rows_per_page)
        )
        rows = cursor.fetchall()
    sums = {row[1]: row[3:] for row in rows if row[0] == 0}
    page = [row[1:6] for row in rows if row[0] == 1]
    # UNION ALL keeps no order: sort the page again, as the database did.
    page.sort(key=lambda p: attention_order(p[1], p[2], p[3], p[4]))
    return sums, page


def _project_page(year: int, page: Page, labels: dict[int, str]) -> Page:
    """``page`` of ``ProjectCounts`` as ProjectRows, with the evaluation score and grade of
    those projects (read for the projects of this page only)."""
    results = {
        row["seq"]: row
        for row in EvaluationResult.objects.filter(
            round__year=year, seq__in={seq for _unit, seq, *_counts in page.object_list}
        ).values("pk", "seq", "project_id", "project__name", "score", "grade")
    }
    rows = []
    for unit_id, seq, n, closed, overdue in page.object_list:
        result = results.get(seq, {})
        rows.append(
            ProjectRow(
                result_id=result.get("pk"),
                project_id=result.get("project_id"),
                seq=seq,
                project=result.get("project__name", ""),
                unit_id=unit_id,
                unit=labels.get(unit_id, ""),
                score=result.get("score"),
                grade=result.get("grade", ""),
                figures=Progress(total=n, closed=closed, overdue=overdue),
            )
        )
    page.object_list = rows
    return page


def _categories(
    items: RectificationItemQuerySet,
    labels: dict[int, str],
    fingerprint: tuple | None,
) -> tuple[list[CategoryRow], int]:
    """Findings per category across units, with the first units behind each count.

    One ledger item answers one finding, so counting items is counting findings; a finding
    with two categories counts once in each. Categories without findings this year are listed
    too (with 0), in the taxonomy's order after the others.
    """
    categories = FindingCategory.objects.order_by("order", "name")
    if fingerprint is not None:
        # The newest item and the newest category link: adding either moves one of them.
        categories = categories.annotate(
            last_item=Subquery(RectificationItem.objects.order_by("-pk").values("pk")[:1]),
            last_link=Subquery(Finding.categories.through.objects.order_by("-pk").values("pk")[:1]),
        )
    categories = list(categories)
    if fingerprint is not None and categories:
        marks = (categories[0].last_item, categories[0].last_link)  # type: ignore[attr-defined]
        summary = _cached_category_summary(items, (*fingerprint, marks))
    else:
        summary = _category_summary(items)
    rows = []
    for category in categories:
        findings, unit_count, candidates = summary.get(category.pk, (0, 0, []))
        units = sorted(
            ((unit_id, labels.get(unit_id, ""), n) for unit_id, n in candidates),
            key=lambda u: (-u[2], u[1]),
        )
        rows.append(
            CategoryRow(
                category_id=category.pk,
                name=category.name,
                findings=findings,
                units=units[:CATEGORY_UNITS],
                unit_count=unit_count,
            )
        )
    rows.sort(key=lambda row: -row.findings)  # stable: equal counts keep the taxonomy's order
    uncategorised = summary.get(None, (0, 0, []))[0]
    return rows, uncategorised


# category id (None: not categorised) → (findings, units behind them, the candidates for the
# first CATEGORY_UNITS units as (unit id, findings)).
CategorySummary = dict[int | None, tuple[int, int, list[tuple[int, int]]]]


def _category_summary(items: RectificationItemQuerySet) -> CategorySummary:
    """Findings per category and unit, summed up per category.

    The first units behind a category are ordered by findings, then by label; labels are
    the units' current names, so the summary keeps every unit that can be among the first
    CATEGORY_UNITS whatever the names: those with at least as many findings as the unit in
    that place.
    """
    links = (
        items.values("recommendation__finding__categories", "unit_id")
        .annotate(n=Count("pk"))
        .values_list("recommendation__finding__categories", "unit_id", "n")
        .order_by()
    )
    per_category: dict[int | None, list[tuple[int, int]]] = {}
    for category_id, unit_id, n in links:
        per_category.setdefault(category_id, []).append((unit_id, n))
    summary: CategorySummary = {}
    for category_id, units in per_category.items():
        counts = sorted((n for _unit, n in units), reverse=True)
        cutoff = counts[CATEGORY_UNITS - 1] if len(counts) >= CATEGORY_UNITS else 0
        candidates = [(unit_id, n) for unit_id, n in units if n >= cutoff]
        summary[category_id] = (sum(counts), len(units), candidates)
    return summary


def _cached_category_summary(
    items: RectificationItemQuerySet, fingerprint: tuple
) -> CategorySummary:
    """``_category_summary`` of the whole city's items of a year, through the cache.

    The breakdown joins every item of the year to its finding's categories (0.3–1 s at 40,000
    items a year on PostgreSQL; no index avoids that join), yet it changes only when items
    come or go or findings are (re)categorised — never with an item's status. So it is cached
    under a fingerprint of exactly that: the year, every unit's number of items that year (an
    item added, removed or given to another unit), the newest item id (one removed and another
    added), the newest category link id (a category added to a finding, by hand or by an
    import) and a generation that taking a category off a finding bumps
    (``forget_category_breakdown``, connected in ``DashboardConfig.ready``).

    What escapes it: a category taken off in another server process while the cache is per
    process (Django's default; a shared cache such as Redis sees the bump everywhere), one
    taken off by a re-import that only removes categories (it deletes the links without the
    signal), and two items swapping units. CATEGORY_CACHE_SECONDS bounds how long those show.
    """
    if not CATEGORY_CACHE_SECONDS:
        return _category_summary(items)
    generation = cache.get(_CATEGORY_GENERATION_KEY, "")
    digest = hashlib.sha256(repr((fingerprint, generation)).encode()).hexdigest()
    key = f"{_CATEGORY_CACHE_PREFIX}:{digest}"
    summary = cache.get(key)
    if summary is None:
        # Kept for everyone under a key the primary's changes make: drawn from the primary, not
        # from a standby that may not have replayed the change yet.
        with primary_reads():
            summary = _category_summary(items)
        cache.set(key, summary, CATEGORY_CACHE_SECONDS)
    return summary


def forget_category_breakdown(*, action: str, **kwargs: Any) -> None:
    """``m2m_changed`` receiver of ``Finding.categories``: once a category has been taken off
    a finding, no cached breakdown holds any more."""
    if action in ("post_remove", "post_clear"):
        cache.set(_CATEGORY_GENERATION_KEY, uuid.uuid4().hex, None)
