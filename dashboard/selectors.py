"""The dashboard's figures, read in SQL from the items the user may see.

Everything starts from ``items_visible_to(user)`` (staff and oversight readers: every unit; a
unit: itself) and "overdue" is ``overdue_q`` — the same definitions as the ledger list, so
each number equals the length of the filtered ledger list it links to. The number of queries
does not depend on the number of items: every figure is an aggregate or a bounded list.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q

from evaluations.models import FindingCategory
from rectification.choices import ItemStatus
from rectification.querysets import RectificationItemQuerySet, overdue_q
from rectification.selectors import items_visible_to

if TYPE_CHECKING:
    from accounts.models import User
    from rectification.models import RectificationItem

YEAR = "round_year"
# "Due soon": the deadline falls within this many days from today (today included).
DUE_SOON_DAYS = 14
# The due-soon list shows this many rows; the count links to the full list on the ledger.
DUE_SOON_ROWS = 20


def closure_rate(closed: int, total: int) -> Decimal:
    """Closed (销号) items as a percentage of all items, one decimal; 0 for no items."""
    if not total:
        return Decimal("0.0")
    return (Decimal(closed) * 100 / total).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _counts(today: datetime.date) -> dict[str, Count]:
    """The per-status, overdue and closed counts every level of the dashboard shows."""
    return {
        "total": Count("pk"),
        "overdue": Count("pk", filter=overdue_q(today)),
        **{status: Count("pk", filter=Q(status=status)) for status in ItemStatus.values},
    }


@dataclass(frozen=True)
class Figures:
    """Counts of one set of items (a year, a unit, a project)."""

    total: int
    overdue: int
    by_status: dict[str, int]

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

    @classmethod
    def from_row(cls, row: dict) -> Figures:
        return cls(
            total=row["total"],
            overdue=row["overdue"],
            by_status={status: row[status] for status in ItemStatus.values},
        )


@dataclass(frozen=True)
class UnitRow:
    unit_id: int
    name: str
    short_name: str
    figures: Figures

    @property
    def label(self) -> str:
        return self.short_name or self.name


@dataclass(frozen=True)
class CategoryRow:
    category_id: int | None  # None: findings not categorised yet
    name: str
    findings: int
    # (unit id, unit label, findings of that unit in this category), most findings first.
    units: list[tuple[int, str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class ProjectRow:
    result_id: int
    project_id: int
    seq: int
    project: str
    unit_id: int
    unit: str
    score: Decimal
    grade: str
    figures: Figures


@dataclass(frozen=True)
class Dashboard:
    year: int | None
    years: list[int]
    today: datetime.date
    due_until: datetime.date
    figures: Figures
    due_soon_count: int
    due_soon: list[RectificationItem]
    units: list[UnitRow]
    categories: list[CategoryRow]
    uncategorised: int
    projects: list[ProjectRow]

    @property
    def by_closure_rate(self) -> list[UnitRow]:
        """Best first; among equal rates, the unit with more items closed ranks higher."""
        return sorted(
            self.units, key=lambda u: (-u.figures.closure_rate, -u.figures.closed, u.name)
        )

    @property
    def by_overdue(self) -> list[UnitRow]:
        """Most overdue items first."""
        return sorted(
            self.units, key=lambda u: (-u.figures.overdue, u.figures.closure_rate, u.name)
        )


def dashboard_years(items: RectificationItemQuerySet) -> list[int]:
    return list(items.order_by(f"-{YEAR}").values_list(YEAR, flat=True).distinct())


def dashboard(*, user: User, year: int | None, today: datetime.date) -> Dashboard:
    """The figures of ``year`` (the latest year with items when ``None``) as ``user`` sees them."""
    visible = items_visible_to(user)
    years = dashboard_years(visible)
    if year not in years:
        year = years[0] if years else None
    items = visible.filter(**{YEAR: year}).order_by()
    due_until = today + datetime.timedelta(days=DUE_SOON_DAYS)
    figures = Figures.from_row(items.aggregate(**_counts(today)))
    due = (
        items.filter(deadline__gte=today, deadline__lte=due_until)
        .exclude(status=ItemStatus.CLOSED)
        .select_related("unit", "owner", "recommendation__finding__result__project")
        .order_by("deadline", "unit__name", "pk")
    )
    due_soon_count = due.count()
    categories, uncategorised = _categories(items)
    return Dashboard(
        year=year,
        years=years,
        today=today,
        due_until=due_until,
        figures=figures,
        due_soon_count=due_soon_count,
        due_soon=list(due[:DUE_SOON_ROWS]),
        units=_units(items, today),
        categories=categories,
        uncategorised=uncategorised,
        projects=_projects(items, today),
    )


def _units(items: RectificationItemQuerySet, today: datetime.date) -> list[UnitRow]:
    rows = items.values("unit_id", "unit__name", "unit__short_name").annotate(**_counts(today))
    return [
        UnitRow(
            unit_id=row["unit_id"],
            name=row["unit__name"],
            short_name=row["unit__short_name"],
            figures=Figures.from_row(row),
        )
        for row in rows.order_by("unit__name")
    ]


def _categories(items: RectificationItemQuerySet) -> tuple[list[CategoryRow], int]:
    """Findings per category across units, with the units behind each count.

    One ledger item answers one finding, so counting items is counting findings; a finding
    with two categories counts once in each.
    """
    per_unit = (
        items.values(
            "recommendation__finding__categories", "unit_id", "unit__name", "unit__short_name"
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    units: dict[int | None, list[tuple[int, str, int]]] = {}
    for row in per_unit:
        units.setdefault(row["recommendation__finding__categories"], []).append(
            (row["unit_id"], row["unit__short_name"] or row["unit__name"], row["n"])
        )
    rows = []
    for category in FindingCategory.objects.order_by("order", "name"):
        behind = sorted(units.get(category.pk, []), key=lambda u: (-u[2], u[1]))
        rows.append(
            CategoryRow(
                category_id=category.pk,
                name=category.name,
                findings=sum(n for _id, _label, n in behind),
                units=behind,
            )
        )
    rows.sort(key=lambda row: -row.findings)  # stable: equal counts keep the taxonomy's order
    uncategorised = sum(n for _id, _label, n in units.get(None, []))
    return rows, uncategorised


def _projects(items: RectificationItemQuerySet, today: datetime.date) -> list[ProjectRow]:
    result = "recommendation__finding__result"
    rows = (
        items.values(
            f"{result}_id",
            f"{result}__seq",
            f"{result}__project_id",
            f"{result}__project__name",
            f"{result}__score",
            f"{result}__grade",
            "unit_id",
            "unit__name",
            "unit__short_name",
        )
        .annotate(**_counts(today))
        .order_by(f"{result}__seq")
    )
    return [
        ProjectRow(
            result_id=row[f"{result}_id"],
            project_id=row[f"{result}__project_id"],
            seq=row[f"{result}__seq"],
            project=row[f"{result}__project__name"],
            unit_id=row["unit_id"],
            unit=row["unit__short_name"] or row["unit__name"],
            score=row[f"{result}__score"],
            grade=row[f"{result}__grade"],
            figures=Figures.from_row(row),
        )
        for row in rows
    ]
