"""The budget-linkage rules (预算挂钩规则): pure functions of plain values, no queries.

Which advice a project's result gets is a written table, ``settings.LIWAN_BUDGET_RULES`` (its
default and meaning are in ``liwan/settings.py`` and ``docs/results.md``): for
each grade (优 / 良 / 中 / 差) and each state of the project's rectification, one advice. The
bureau writes the table once a year with the budget office; staff may override the advice for
one project with a reason (``services.decide_budget_advice``).
"""

from __future__ import annotations

from collections.abc import Mapping

from accounts.roles import is_evaluation_staff, sees_all_units
from evaluations.models import Grade
from results.choices import BudgetAdvice, RectificationState

# grade → rectification state → advice, as the settings spell it (plain strings).
RuleTable = Mapping[str, Mapping[str, str]]


def rectification_state(*, items: int, closed: int, overdue: int) -> RectificationState:
    """A project's rectification from the counts of its items (overdue by ``overdue_q``)."""
    if items == 0:
        return RectificationState.NONE
    if overdue:
        return RectificationState.OVERDUE
    if closed == items:
        return RectificationState.DONE
    return RectificationState.UNDER_WAY


def proposed_advice(rules: RuleTable, *, grade: str, state: str) -> BudgetAdvice:
    """The advice the rule table gives a result of ``grade`` whose rectification is ``state``.
    The table is complete (``rule_table_errors`` is a system check), so this cannot miss."""
    return BudgetAdvice(rules[grade][state])


def holding_advice(proposed: str, decided: str) -> BudgetAdvice:
    """The advice that holds: staff's newest decision where it overrode the rule (``decided``
    not empty), else the rule's ``proposed``. An empty decision is a return to the rule."""
    return BudgetAdvice(decided or proposed)


def rule_table_errors(rules: object) -> list[str]:
    """What is wrong with a rule table: every grade and every state needs one valid advice."""
    if not isinstance(rules, Mapping):
        return ["LIWAN_BUDGET_RULES must be a mapping of grade to a mapping of state to advice."]
    errors = []
    for grade in Grade.values:
        row = rules.get(grade)
        if not isinstance(row, Mapping):
            errors.append(f"LIWAN_BUDGET_RULES has no row for grade {grade!r}.")
            continue
        for state in RectificationState.values:
            advice = row.get(state)
            if advice not in BudgetAdvice.values:
                errors.append(
                    f"LIWAN_BUDGET_RULES[{grade!r}][{state!r}] is {advice!r}; "
                    f"expected one of {', '.join(BudgetAdvice.values)}."
                )
    unknown = set(rules) - set(Grade.values)
    if unknown:
        errors.append(f"LIWAN_BUDGET_RULES names unknown grades: {', '.join(sorted(unknown))}.")
    return errors


def may_see_budget_linkage(user) -> bool:  # type: ignore[no-untyped-def]
    """The budget sheet is the bureau's: evaluation staff and oversight readers, every unit."""
    return sees_all_units(user)


def may_decide_budget_advice(user) -> bool:  # type: ignore[no-untyped-def]
    """Only evaluation staff override the rule's advice."""
    return is_evaluation_staff(user)


def may_prepare_publication(user) -> bool:  # type: ignore[no-untyped-def]
    """The draft of a public disclosure, with the redaction check's findings, is the bureau's
    (every unit's texts are in it)."""
    return sees_all_units(user)


def may_publish(user) -> bool:  # type: ignore[no-untyped-def]
    """Only evaluation staff edit the public wording and publish."""
    return is_evaluation_staff(user)
