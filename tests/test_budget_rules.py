"""The budget-linkage rule table (预算挂钩规则): the default cells, the state of a project's
rectification, and the system check that refuses an incomplete table."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from results.checks import budget_rules_complete
from results.choices import BudgetAdvice, RectificationState
from results.rules import proposed_advice, rectification_state, rule_table_errors

S, R, D, A = (
    BudgetAdvice.SUPPORT,
    BudgetAdvice.REDUCE,
    BudgetAdvice.DEFER,
    BudgetAdvice.AFTER_RECTIFICATION,
)
# The default table written out by hand: columns none, done, under way, overdue.
EXPECTED = {
    "优": (S, S, S, A),
    "良": (S, S, A, A),
    "中": (R, R, A, D),
    "差": (D, R, D, D),
}
STATES = (
    RectificationState.NONE,
    RectificationState.DONE,
    RectificationState.UNDER_WAY,
    RectificationState.OVERDUE,
)


@pytest.mark.parametrize("grade", EXPECTED)
def test_the_default_table_gives_each_grade_and_state_its_advice(settings, grade):
    got = tuple(
        proposed_advice(settings.LIWAN_BUDGET_RULES, grade=grade, state=state) for state in STATES
    )
    assert got == EXPECTED[grade]


@pytest.mark.parametrize(
    ("items", "closed", "overdue", "state"),
    [
        (0, 0, 0, RectificationState.NONE),
        (3, 3, 0, RectificationState.DONE),
        (3, 1, 0, RectificationState.UNDER_WAY),
        (3, 0, 0, RectificationState.UNDER_WAY),
        (3, 2, 1, RectificationState.OVERDUE),  # one overdue item outweighs the closed ones
    ],
)
def test_a_projects_rectification_state_follows_from_its_counts(items, closed, overdue, state):
    assert rectification_state(items=items, closed=closed, overdue=overdue) == state


def test_a_table_the_bureau_writes_is_what_the_advice_follows(settings):
    settings.LIWAN_BUDGET_RULES = {
        grade: dict.fromkeys(RectificationState.values, "defer") for grade in EXPECTED
    } | {"优": dict.fromkeys(RectificationState.values, "support")}
    assert rule_table_errors(settings.LIWAN_BUDGET_RULES) == []
    assert proposed_advice(settings.LIWAN_BUDGET_RULES, grade="优", state="overdue") == S
    assert proposed_advice(settings.LIWAN_BUDGET_RULES, grade="中", state="done") == D


def test_an_incomplete_or_misspelt_table_is_named_cell_by_cell():
    table = {
        "优": {"none": "support", "done": "support", "under_way": "support"},  # no overdue
        "良": {"none": "support", "done": "suport", "under_way": "defer", "overdue": "defer"},
        "中": dict.fromkeys(RectificationState.values, "reduce"),
        "A": dict.fromkeys(RectificationState.values, "reduce"),  # no such grade; 差 missing
    }
    assert rule_table_errors(table) == [
        "LIWAN_BUDGET_RULES['优']['overdue'] is None; "
        "expected one of support, reduce, defer, after_rectification.",
        "LIWAN_BUDGET_RULES['良']['done'] is 'suport'; "
        "expected one of support, reduce, defer, after_rectification.",
        "LIWAN_BUDGET_RULES has no row for grade '差'.",
        "LIWAN_BUDGET_RULES names unknown grades: A.",
    ]
    assert rule_table_errors([]) != []


def test_the_system_check_refuses_to_start_with_a_broken_table(settings):
    assert budget_rules_complete() == []
    settings.LIWAN_BUDGET_RULES = {"优": {}}
    errors = budget_rules_complete()
    assert errors and {error.id for error in errors} == {"results.E001"}
    with pytest.raises(SystemCheckError):
        call_command("check")
