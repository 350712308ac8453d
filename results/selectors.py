"""The budget sheet (预算挂钩表) of one round, as data: one row per project result with its grade,
the state of its rectification, the rule's advice, staff's decision and the advice that holds.

The totals are counted by the database and the rows are read a page at a time: a round's
results are grouped by what decides their advice (grade, item counts, staff's newest decision),
a few hundred groups whatever the size of the round, and the rule (``rules.rectification_state``,
``rules.proposed_advice``, ``rules.holding_advice``) is applied to each group in Python, so it is
written once. A page's rows, and the workbook's, are built by ``budget_rows``; both count items
with ``overdue_q``, the one definition of overdue.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, overload

from django.conf import settings
from django.db import connections, router
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from evaluations.models import EvaluationResult, EvaluationRound, Grade
from rectification.choices import ItemStatus
from rectification.models import RectificationItem
from rectification.querysets import overdue_q
from results.choices import BudgetAdvice, RectificationState
from results.models import BudgetDecision
from results.rules import (
    holding_advice,
    may_see_budget_linkage,
    proposed_advice,
    rectification_state,
)

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class BudgetRow:
    result: EvaluationResult
    items: int
    closed: int
    overdue: int
    state: RectificationState
    proposed: BudgetAdvice
    decision: BudgetDecision | None  # the newest, if staff ever decided

    @property
    def overridden(self) -> bool:
        return self.decision is not None and bool(self.decision.advice)

    @property
    def advice(self) -> BudgetAdvice:
        """The advice that holds: staff's where they overrode the rule, else the rule's."""
        return holding_advice(self.proposed, self.decision.advice if self.decision else "")


@dataclass(frozen=True)
class AdviceTotal:
    advice: BudgetAdvice
    projects: int
    budget: Decimal  # this year's budget of those projects, 万元


class SheetRows(Sequence[BudgetRow]):
    """A round's rows in table order, read when sliced or iterated: the page reads 50 of them,
    the workbook all. Its length is the number of results, known from the totals."""

    def __init__(self, round_: EvaluationRound, *, today: datetime.date, count: int) -> None:
        self.round = round_
        self.today = today
        self.count = count

    def _results(self) -> QuerySet[EvaluationResult]:
        # A result's number is unique in its round, so it orders the rows alone.
        return EvaluationResult.objects.filter(round=self.round).order_by("seq")

    def _rows(self, results: QuerySet[EvaluationResult]) -> list[BudgetRow]:
        # The ids of a page first, from the (round, number) index, then their results with
        # project and unit: joining the round's thousands of results to sort them took 8 ms.
        ids = list(results.values_list("pk", flat=True))
        full = EvaluationResult.objects.select_related("project__unit").in_bulk(ids)
        return list(budget_rows([full[pk] for pk in ids], today=self.today))

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: int) -> BudgetRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[BudgetRow]: ...

    def __getitem__(self, index: int | slice) -> BudgetRow | list[BudgetRow]:
        if isinstance(index, slice):
            return self._rows(self._results()[index])
        return self._rows(self._results()[index : index + 1])[0]

    def __iter__(self) -> Iterator[BudgetRow]:
        return iter(
            budget_rows(list(self._results().select_related("project__unit")), today=self.today)
        )


@dataclass
class BudgetSheet:
    round: EvaluationRound
    years: list[int]
    rows: SheetRows
    totals: list[AdviceTotal]
    overridden: int  # projects whose advice staff changed

    @property
    def states(self) -> list[RectificationState]:
        return list(RectificationState)

    @property
    def rule_rows(self) -> list[tuple[str, list[BudgetAdvice]]]:
        """The rule table as the page shows it: one row per grade, one cell per state."""
        rules = settings.LIWAN_BUDGET_RULES
        return [
            (grade, [proposed_advice(rules, grade=grade, state=s) for s in RectificationState])
            for grade in Grade.values
        ]

    @property
    def filename(self) -> str:
        return f"{self.round.year}年度预算挂钩意见表.xlsx"


def budget_years() -> list[int]:
    return list(EvaluationRound.objects.order_by("-year").values_list("year", flat=True))


def budget_sheet(*, user: User, year: int | None, today: datetime.date) -> BudgetSheet | None:
    """The sheet of ``year`` (the newest round when none), or None when ``user`` may not see
    budget linkage or there is no such round. Two queries and a few hundred groups in Python,
    whatever the size of the round; the rows are read when the page or the workbook asks."""
    if not may_see_budget_linkage(user):
        return None
    years = budget_years()
    if year is None and years:
        year = years[0]
    round_ = EvaluationRound.objects.filter(year=year).first()
    if round_ is None:
        return None
    rules = settings.LIWAN_BUDGET_RULES
    projects: dict[str, int] = defaultdict(int)
    budget: dict[str, Decimal] = defaultdict(Decimal)
    overridden = 0
    for group in _advice_groups(round_, today=today):
        state = rectification_state(items=group.items, closed=group.closed, overdue=group.overdue)
        proposed = proposed_advice(rules, grade=group.grade, state=state)
        advice = holding_advice(proposed, group.decided)
        projects[advice] += group.projects
        budget[advice] += group.budget
        overridden += group.projects if group.decided else 0
    totals = [
        AdviceTotal(advice=advice, projects=projects[advice], budget=budget[advice])
        for advice in BudgetAdvice
    ]
    return BudgetSheet(
        round=round_,
        years=years,
        rows=SheetRows(round_, today=today, count=sum(projects.values())),
        totals=totals,
        overridden=overridden,
    )


@dataclass(frozen=True)
class _Group:
    """Results of a round alike in everything their advice depends on, and how many."""

    grade: str
    items: int
    closed: int
    overdue: int
    decided: str  # the newest decision's advice; empty: none, or back to the rule's
    projects: int
    budget: Decimal


def _item_counts(items: QuerySet[RectificationItem], today: datetime.date) -> QuerySet:
    """Items, closed and overdue per (year, unit, result number), grouped in the order of the
    (year, unit, number, status, deadline) index, which answers alone: joining every item to
    its finding read a whole year of rows. A result's items may lie with several units, so a
    reader sums over the unit."""
    return (
        items.values("round_year", "unit_id", "result_seq")
        .annotate(
            items=Count("status"),
            closed=Count("status", filter=Q(status=ItemStatus.CLOSED)),
            overdue=Count("status", filter=overdue_q(today)),
        )
        .order_by()
    )


def _advice_groups(round_: EvaluationRound, *, today: datetime.date) -> list[_Group]:
    """The round's results grouped by grade, item counts and staff's newest decision, with
    their number and budget: one statement. The item counts and the newest decision are the
    ORM's own queries (``_item_counts``, with ``overdue_q``), joined to the results here
    because the ORM does not join a grouped subquery. At 24,000 results a round, building
    every row in Python took ≈ 250 ms; the groups are a few hundred."""
    counts_sql, counts_params = _item_counts(
        RectificationItem.objects.filter(round_year=round_.year), today
    ).query.sql_with_params()
    newest = BudgetDecision.objects.filter(
        result__round=round_,
        id=Subquery(
            BudgetDecision.objects.filter(result=OuterRef("result"))
            .order_by("-id")
            .values("id")[:1]
        ),
    ).values("result_id", "advice")
    newest_sql, newest_params = newest.query.sql_with_params()
    results = EvaluationResult._meta.db_table
    # Only table names and the ORM's compiled statements are spliced in; every value is a
    # parameter.
    sql = f"""
        SELECT r.grade, COALESCE(c.items, 0), COALESCE(c.closed, 0), COALESCE(c.overdue, 0),
               COALESCE(d.advice, ''), COUNT(*), SUM(r.budget)
        FROM {results} r
        LEFT JOIN (
            SELECT per_unit.result_seq, SUM(per_unit.items) AS items,
                   SUM(per_unit.closed) AS closed, SUM(per_unit.overdue) AS overdue
            FROM ({counts_sql}) per_unit GROUP BY per_unit.result_seq
        ) c ON c.result_seq = r.seq
        LEFT JOIN ({newest_sql}) d ON d.result_id = r.id
        WHERE r.round_id = %s
        GROUP BY r.grade, COALESCE(c.items, 0), COALESCE(c.closed, 0), COALESCE(c.overdue, 0),
                 COALESCE(d.advice, '')
    """  # noqa: S608 # nosec B608
    budget_field = EvaluationResult._meta.get_field("budget")
    with connections[router.db_for_read(EvaluationResult)].cursor() as cursor:
        cursor.execute(sql, [*counts_params, *newest_params, round_.pk])
        return [
            _Group(
                grade=grade,
                items=int(items),
                closed=int(closed),
                overdue=int(overdue),
                decided=decided,
                projects=projects,
                # SQLite (the demo) sums decimals as floats.
                budget=Decimal(str(budget)).quantize(
                    Decimal(1).scaleb(-budget_field.decimal_places)
                ),
            )
            for grade, items, closed, overdue, decided, projects, budget in cursor.fetchall()
        ]


# Up to this many results (one project's decision page, a page of the sheet), the count asks
# for their numbers only; the workbook counts the round.
SEQ_FILTER_LIMIT = 100


def budget_rows(results: list[EvaluationResult], *, today: datetime.date) -> Iterator[BudgetRow]:
    years = dict(
        EvaluationRound.objects.filter(pk__in={r.round_id for r in results}).values_list(
            "pk", "year"
        )
    )
    items = RectificationItem.objects.filter(round_year__in=set(years.values()))
    decided = BudgetDecision.objects.filter(result__round__in=years)
    if len(results) <= SEQ_FILTER_LIMIT:
        items = items.filter(result_seq__in={r.seq for r in results})
        # A whole round's decisions are read by its round: 6,000 result ids in the query took
        # 30 ms to send and plan, the round's decisions 1 ms to read.
        decided = decided.filter(result__in=[r.pk for r in results])
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: {"items": 0, "closed": 0, "overdue": 0}
    )
    for row in _item_counts(items, today):
        figures = counts[(row["round_year"], row["result_seq"])]
        for name in ("items", "closed", "overdue"):
            figures[name] += row[name]
    decisions: dict[int, list[BudgetDecision]] = defaultdict(list)
    for decision in decided.select_related("decided_by").order_by("-id"):
        decisions[decision.result_id].append(decision)
    rules = settings.LIWAN_BUDGET_RULES
    for result in results:
        figures = counts.get(
            (years[result.round_id], result.seq), {"items": 0, "closed": 0, "overdue": 0}
        )
        state = rectification_state(
            items=figures["items"], closed=figures["closed"], overdue=figures["overdue"]
        )
        history = decisions.get(result.pk)
        yield BudgetRow(
            result=result,
            items=figures["items"],
            closed=figures["closed"],
            overdue=figures["overdue"],
            state=state,
            proposed=proposed_advice(rules, grade=result.grade, state=state),
            decision=history[0] if history else None,
        )


def budget_row(*, user: User, result_id: int, today: datetime.date) -> BudgetRow | None:
    """One result's row (for its decision page), or None if unseen or unknown."""
    if not may_see_budget_linkage(user):
        return None
    result = (
        EvaluationResult.objects.select_related("project__unit", "round")
        .filter(pk=result_id)
        .first()
    )
    if result is None:
        return None
    return next(iter(budget_rows([result], today=today)))


def decision_history(result: EvaluationResult) -> list[BudgetDecision]:
    return list(
        BudgetDecision.objects.filter(result=result).select_related("decided_by").order_by("-id")
    )
