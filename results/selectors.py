"""The budget sheet (预算挂钩表) of one round, as data: one row per project result with its grade,
the state of its rectification, the rule's advice, staff's decision and the advice that holds.

Three queries whatever the size of the round: the results, their items counted per result
(overdue by ``overdue_q``, the one definition), and the decisions. The page and the workbook
read the same rows.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db.models import Count, Q

from evaluations.models import EvaluationResult, EvaluationRound, Grade
from rectification.choices import ItemStatus
from rectification.models import RectificationItem
from rectification.querysets import overdue_q
from results.choices import BudgetAdvice, RectificationState
from results.models import BudgetDecision
from results.rules import may_see_budget_linkage, proposed_advice, rectification_state

if TYPE_CHECKING:
    from accounts.models import User


class ResultKey(NamedTuple):
    """What a row's advice and the sheet's totals need of a result. A round's 6,000 results as
    model instances took 40 ms to make; the page gives its 50 rows their full results
    (``with_projects``)."""

    pk: int
    round_id: int
    seq: int
    grade: str
    budget: Decimal


@dataclass(frozen=True)
class BudgetRow:
    result: EvaluationResult | ResultKey
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
        return BudgetAdvice(self.decision.advice) if self.overridden else self.proposed


@dataclass(frozen=True)
class AdviceTotal:
    advice: BudgetAdvice
    projects: int
    budget: Decimal  # this year's budget of those projects, 万元


@dataclass
class BudgetSheet:
    round: EvaluationRound
    years: list[int]
    rows: list[BudgetRow]
    totals: list[AdviceTotal] = field(default_factory=list)

    @property
    def overridden(self) -> int:
        return sum(row.overridden for row in self.rows)

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


def budget_sheet(
    *, user: User, year: int | None, today: datetime.date, projects: bool = True
) -> BudgetSheet | None:
    """The sheet of ``year`` (the newest round when none), or None when ``user`` may not see
    budget linkage or there is no such round. Without ``projects`` the rows' results are
    ``ResultKey``s, only what the advice and the totals need (a page of them is given its
    projects by ``with_projects``): a round's thousands of results with their project and unit
    cost more than the rest of the sheet."""
    if not may_see_budget_linkage(user):
        return None
    years = budget_years()
    if year is None and years:
        year = years[0]
    round_ = EvaluationRound.objects.filter(year=year).first()
    if round_ is None:
        return None
    ordered = EvaluationResult.objects.filter(round=round_).order_by("seq", "id")
    results: list[EvaluationResult] | list[ResultKey] = (
        list(ordered.select_related("project__unit"))
        if projects
        else [ResultKey(*key) for key in ordered.values_list("pk", *ResultKey._fields[1:])]
    )
    rows = list(budget_rows(results, today=today))
    return BudgetSheet(round=round_, years=years, rows=rows, totals=_totals(rows))


def with_projects(rows: Iterable[BudgetRow]) -> list[BudgetRow]:
    """``rows`` (a page of a sheet read without projects) with their results read in full,
    project and unit included: one query."""
    rows = list(rows)
    full = EvaluationResult.objects.select_related("project__unit").in_bulk(
        [row.result.pk for row in rows]
    )
    return [replace(row, result=full[row.result.pk]) for row in rows]


# Up to this many results (one project's decision page, a unit's few), the count asks for
# their numbers only; a whole round's sheet counts the round.
SEQ_FILTER_LIMIT = 100


def budget_rows(
    results: list[EvaluationResult] | list[ResultKey], *, today: datetime.date
) -> Iterable[BudgetRow]:
    # Items per result from the item's own copies of its round's year and the result's number
    # (a result is one row of its round's table), grouped in the order of the
    # (year, unit, number, status, deadline) index, which answers alone: joining every item to
    # its finding read a whole year of rows.
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
    for row in (
        items.values("round_year", "unit_id", "result_seq")
        .annotate(
            items=Count("status"),
            closed=Count("status", filter=Q(status=ItemStatus.CLOSED)),
            overdue=Count("status", filter=overdue_q(today)),
        )
        .order_by()
    ):
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


def _totals(rows: list[BudgetRow]) -> list[AdviceTotal]:
    projects: dict[str, int] = defaultdict(int)
    budget: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        projects[row.advice] += 1
        budget[row.advice] += row.result.budget
    return [
        AdviceTotal(advice=advice, projects=projects[advice], budget=budget[advice])
        for advice in BudgetAdvice
    ]
