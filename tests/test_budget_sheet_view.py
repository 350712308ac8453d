"""The budget sheet (预算挂钩): who sees it, each project's state and advice, the totals, the
2020 demo data against a hand-written expectation, paging, constant queries and the workbook."""

from __future__ import annotations

import datetime
import html
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from evaluations.models import Grade
from rectification.services import Actor
from results import selectors
from results.choices import BudgetAdvice, RectificationState
from results.models import BudgetDecision
from results.services import decide_budget_advice
from tests import factories, workflow

pytestmark = pytest.mark.django_db

URL = reverse("results:budget-sheet")
XLSX_URL = reverse("results:budget-sheet-xlsx")
TODAY = datetime.date.today()


def _result(grade: str = Grade.GOOD, budget: str = "100.00", **kwargs):  # type: ignore[no-untyped-def]
    return factories.ResultFactory(grade=grade, budget=Decimal(budget), **kwargs)


def _item(result, deadline_in: int = 30):  # type: ignore[no-untyped-def]
    owner = factories.UnitStaffFactory(unit=result.project.unit)
    item = factories.ItemFactory(
        recommendation__finding__result=result,
        recommendation__finding__number=result.findings.count() + 1,
        owner=owner,
        deadline=TODAY + datetime.timedelta(days=deadline_in),
    )
    return item, owner


def _cells(page: str) -> dict[int, dict[str, str]]:
    """Per result on the page: its state, the rule's advice and the advice that holds."""
    rows = {}
    for pk, row in re.findall(r'<tr id="result-\d+" data-result="(\d+)">(.*?)</tr>', page, re.S):
        rows[int(pk)] = {
            "state": re.search(r'data-state="(\w+)"', row)[1],
            "proposed": re.search(r'data-proposed="(\w+)"', row)[1],
            "advice": re.search(r'data-advice="(\w+)"', row)[1],
            "overridden": "data-overridden" in row,
        }
    return rows


def _decide(result, who, advice: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    """A decision through the one writer, as the decision page makes it."""
    newest = BudgetDecision.objects.filter(result=result).order_by("-id").first()
    decide_budget_advice(
        result=result,
        actor=Actor(user=who),
        advice=advice,
        reason=reason,
        seen_decision=newest.pk if newest else 0,
        today=TODAY,
    )


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def test_it_proposes_each_projects_advice_from_grade_and_rectification(client, staff):
    quiet = _result(Grade.FAIR)  # no items
    done = _result(Grade.GOOD)
    item, owner = _item(done)
    workflow.closed(workflow.submitted(item, owner))
    under_way = _result(Grade.GOOD)
    _item(under_way)
    late = _result(Grade.FAIR)
    _item(late, deadline_in=-1)
    _item(late)
    poor = _result(Grade.POOR)
    _item(poor)

    page = client.get(URL).content.decode()

    assert _cells(page) == {
        quiet.pk: {"state": "none", "proposed": "reduce", "advice": "reduce", "overridden": False},
        done.pk: {"state": "done", "proposed": "support", "advice": "support", "overridden": False},
        under_way.pk: {
            "state": "under_way",
            "proposed": "after_rectification",
            "advice": "after_rectification",
            "overridden": False,
        },
        late.pk: {"state": "overdue", "proposed": "defer", "advice": "defer", "overridden": False},
        poor.pk: {
            "state": "under_way",
            "proposed": "defer",
            "advice": "defer",
            "overridden": False,
        },
    }
    assert "已销号 0 / 共 2" in html.unescape(page)  # the late project: 0 of 2 closed
    assert "逾期 1 项" in page


# A city's round (more results than SEQ_FILTER_LIMIT) reads its items and decisions by round.
@pytest.mark.parametrize("seq_filter_limit", [100, 0], ids=["some results", "a whole round"])
def test_a_staff_decision_holds_over_the_rule_and_counts_in_the_totals(
    client, staff, monkeypatch, seq_filter_limit
):
    monkeypatch.setattr(selectors, "SEQ_FILTER_LIMIT", seq_filter_limit)
    kept = _result(Grade.GOOD, budget="250.50")
    _item(kept)
    other = _result(Grade.GOOD, budget="100.00")
    _item(other)
    _decide(kept, staff, BudgetAdvice.SUPPORT, "重点保障项目")

    response = client.get(URL)
    page = response.content.decode()

    assert _cells(page)[kept.pk] == {
        "state": "under_way",
        "proposed": "after_rectification",
        "advice": "support",
        "overridden": True,
    }
    totals = {t.advice: (t.projects, t.budget) for t in response.context["sheet"].totals}
    assert totals == {
        BudgetAdvice.SUPPORT: (1, Decimal("250.50")),
        BudgetAdvice.REDUCE: (0, Decimal("0")),
        BudgetAdvice.DEFER: (0, Decimal("0")),
        BudgetAdvice.AFTER_RECTIFICATION: (1, Decimal("100.00")),
    }
    assert "其中 1 个项目的意见经人工调整" in page
    # A later return to the rule's advice ends the override.
    _decide(kept, staff, "", "保障理由不再成立")
    assert _cells(client.get(URL).content.decode())[kept.pk]["advice"] == "after_rectification"


def test_oversight_reads_it_and_units_do_not_find_it(client):
    _result()
    client.force_login(factories.OversightFactory())
    page = client.get(URL).content.decode()
    assert "预算挂钩" in page and 'id="nav-budget"' in page
    for user in (factories.UnitStaffFactory(), factories.UnitHeadFactory()):
        client.force_login(user)
        assert client.get(URL).status_code == 404
        assert client.get(XLSX_URL).status_code == 404
        assert 'id="nav-budget"' not in client.get(reverse("rectification:ledger")).content.decode()


def test_it_shows_the_year_asked_for_and_the_newest_by_default(client, staff):
    old = _result(round=factories.RoundFactory(year=2019))
    new = _result(round=factories.RoundFactory(year=2021))
    assert list(_cells(client.get(URL).content.decode())) == [new.pk]
    assert list(_cells(client.get(URL, {"year": "2019"}).content.decode())) == [old.pk]
    assert client.get(URL, {"year": "2018"}).status_code == 404  # no such round
    # Not a plausible year: the newest, as with none.
    assert list(_cells(client.get(URL, {"year": "²"}).content.decode())) == [new.pk]


def test_it_pages_fifty_projects_at_a_time(client, staff):
    for _ in range(51):
        _result()
    first = client.get(URL).content.decode()
    second = client.get(URL, {"year": "2020", "page": "2"}).content.decode()
    assert len(_cells(first)) == 50 and len(_cells(second)) == 1
    assert 'data-pager="budget"' in first


def test_its_query_count_does_not_grow_with_the_projects(client, staff):
    def add_project() -> None:
        result = _result()
        _item(result)
        _decide(result, staff, BudgetAdvice.DEFER, "暂缓")

    add_project()
    client.get(URL)  # the first request of a process fills caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for _ in range(6):
        add_project()
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).status_code == 200
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as few_xlsx:
        b"".join(client.get(XLSX_URL).streaming_content)
    add_project()
    with CaptureQueriesContext(connection) as more_xlsx:
        b"".join(client.get(XLSX_URL).streaming_content)
    assert len(more_xlsx) == len(few_xlsx)


def test_the_workbook_carries_every_project_with_typed_cells(client, staff):
    result = _result(Grade.GOOD, budget="1234.56")
    _item(result)
    # A formula typed as a reason stays text in the workbook.
    _decide(result, staff, BudgetAdvice.REDUCE, '=HYPERLINK("x")')
    response = client.get(XLSX_URL, {"year": "2020"})
    assert response["Content-Disposition"].startswith("attachment")
    assert "2020" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:7] == (
        "序号",
        "主管部门",
        "项目名称",
        "预算金额（万元）",
        "实际支出（万元）",
        "评价得分",
        "评价等级",
    )
    row = rows[1]
    assert row[0] == 1 and row[3] == 1234.56 and row[6] == "良"
    assert row[7:13] == (1, 0, 0, "整改中", "整改后安排", "核减")
    assert row[13] == '\'=HYPERLINK("x")'
    assert row[14].startswith(staff.display_name)
    assert sheet["D2"].number_format == "#,##0.00"
    assert sheet.freeze_panes == "A2"


# --- the 2020 demo data -------------------------------------------------------------------

NOW = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)
# By 序号: the advice that holds on 2026-12-03 with the demo's steps. 1 is 优 and under way
# (支持); 3 is 良 and under way, but staff supported it (the demo's one decision); 4 has an
# overdue item; 9 (区财政局) is all closed (支持); the other 良 projects are under way.
DEMO_2020 = {
    1: ("under_way", "support", "support"),
    2: ("under_way", "after_rectification", "after_rectification"),
    3: ("under_way", "after_rectification", "support"),
    4: ("overdue", "after_rectification", "after_rectification"),
    5: ("under_way", "after_rectification", "after_rectification"),
    6: ("under_way", "after_rectification", "after_rectification"),
    7: ("under_way", "after_rectification", "after_rectification"),
    8: ("under_way", "after_rectification", "after_rectification"),
    9: ("done", "support", "support"),
    10: ("under_way", "after_rectification", "after_rectification"),
}


def test_the_2020_demo_sheet_matches_the_hand_written_expectation(client, liwan_2020, settings):
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    client.force_login(User.objects.get(username="jiandu"))
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        response = client.get(URL)
    sheet = response.context["sheet"]
    got = {
        row.result.seq: (row.state.value, row.proposed.value, row.advice.value)
        for row in sheet.rows
    }
    assert got == DEMO_2020
    assert sheet.overridden == 1
    assert 'id="decision-form"' not in response.content.decode()


def test_the_totals_counted_by_the_database_agree_with_the_rule_applied_to_every_row(
    client, staff, settings
):
    # A rule table in which every advice depends on the grade and the state, so a group given
    # the wrong state or grade lands in another total.
    advice = list(BudgetAdvice)
    settings.LIWAN_BUDGET_RULES = {
        grade: {
            state: advice[(g + s) % len(advice)]
            for s, state in enumerate(RectificationState.values)
        }
        for g, grade in enumerate(Grade.values)
    }
    budgets = iter(range(101, 200))
    for grade in Grade.values:
        _result(grade, budget=f"{next(budgets)}.25")  # no items
        done = _result(grade, budget=f"{next(budgets)}.50")
        item, owner = _item(done)
        workflow.closed(workflow.submitted(item, owner))
        under_way = _result(grade, budget=f"{next(budgets)}.75")
        _item(under_way)
        _item(under_way)
        late = _result(grade, budget=f"{next(budgets)}.00")
        _item(late, deadline_in=-1)
    # A result whose items lie with two units: its counts are summed over both.
    shared = _result(Grade.GOOD, budget="7.10")
    _item(shared, deadline_in=-3)
    factories.ItemFactory(
        recommendation__finding__result=shared,
        recommendation__finding__number=9,
        unit=factories.UnitFactory(),
        deadline=TODAY + datetime.timedelta(days=5),
    )
    # Staff's decisions: one override, one override taken back, one changed twice.
    overridden, taken_back, changed = _result(Grade.FAIR), _result(Grade.POOR), _result()
    _decide(overridden, staff, BudgetAdvice.SUPPORT, "重点保障")
    _decide(taken_back, staff, BudgetAdvice.SUPPORT, "重点保障")
    _decide(taken_back, staff, "", "按规则")
    _decide(changed, staff, BudgetAdvice.REDUCE, "压减")
    _decide(changed, staff, BudgetAdvice.DEFER, "暂缓")

    sheet = client.get(URL).context["sheet"]
    rows = list(sheet.rows)

    by_row: dict[str, tuple[int, Decimal]] = {a: (0, Decimal(0)) for a in BudgetAdvice}
    for row in rows:
        projects, budget = by_row[row.advice]
        by_row[row.advice] = (projects + 1, budget + row.result.budget)
    assert {t.advice: (t.projects, t.budget) for t in sheet.totals} == by_row
    assert all(projects for projects, _ in by_row.values())  # every total is tested
    assert sheet.overridden == sum(row.overridden for row in rows) == 2
    assert len(sheet.rows) == len(rows) == 4 * len(Grade.values) + 4
    shared_row = next(row for row in rows if row.result == shared)
    assert (shared_row.items, shared_row.overdue, shared_row.state) == (2, 1, "overdue")


def test_everything_written_into_its_rows_is_escaped(client, staff):
    hostile = "<script>alert(1)</script>"
    result = _result(project__name=f"项目{hostile}", project__unit__short_name=f"单位{hostile}")
    _item(result, deadline_in=-1)
    _decide(result, staff, BudgetAdvice.SUPPORT, hostile)

    page = client.get(URL).content.decode()

    assert hostile not in page
    assert page.count("项目&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # the card and the row
    assert page.count("单位&lt;script&gt;") == 2
    assert _cells(page)[result.pk]["overridden"]
