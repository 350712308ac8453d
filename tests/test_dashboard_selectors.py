"""dashboard.selectors.dashboard against figures computed by hand (tests/dashboard_data.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.selectors import closure_rate, dashboard
from tests import dashboard_data, factories
from tests.dashboard_data import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    return dashboard_data.build()


def _status(dash) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return dict(dash.figures.by_status)


def test_it_counts_a_years_items_as_staff_see_them(ledger):
    dash = dashboard(user=factories.StaffUserFactory(), year=2020, today=TODAY)

    assert dash.year == 2020
    assert dash.years == [2020, 2019]
    assert dash.figures.total == 7
    assert _status(dash) == {"open": 3, "in_progress": 1, "submitted": 1, "closed": 2}
    assert dash.figures.overdue == 2  # A2, B3; not A1 (closed), not the 2019 item
    assert dash.figures.closure_rate == Decimal("28.6")  # 2 / 7
    assert dash.due_soon_count == 2
    assert [item.pk for item in dash.due_soon] == [
        ledger.items["A3"].pk,
        ledger.items["A4"].pk,
    ]


def test_it_ranks_units_by_closure_rate_and_by_overdue_items(ledger):
    dash = dashboard(user=factories.OversightFactory(), year=2020, today=TODAY)

    by_rate = [(u.label, u.figures.total, u.figures.closed, u.figures.closure_rate)
               for u in dash.by_closure_rate]  # fmt: skip
    assert by_rate == [("乙单位", 3, 1, Decimal("33.3")), ("甲单位", 4, 1, Decimal("25.0"))]
    by_overdue = [(u.label, u.figures.overdue) for u in dash.by_overdue]
    # One overdue item each: the unit with the lower closure rate ranks first.
    assert by_overdue == [("甲单位", 1), ("乙单位", 1)]


def test_it_counts_findings_per_category_with_the_units_behind_each(ledger):
    dash = dashboard(user=factories.StaffUserFactory(), year=2020, today=TODAY)

    rows = {row.name: (row.findings, row.units) for row in dash.categories if row.findings}
    a, b = ledger.unit_a.pk, ledger.unit_b.pk
    assert rows == {
        "测试类别C1": (4, [(b, "乙单位", 2), (a, "甲单位", 2)]),  # ties: by name
        "测试类别C2": (2, [(a, "甲单位", 2)]),
        "测试类别C3": (1, [(b, "乙单位", 1)]),
    }
    assert [row.name for row in dash.categories][:3] == ["测试类别C1", "测试类别C2", "测试类别C3"]
    assert dash.uncategorised == 1  # A4


def test_it_puts_each_projects_score_beside_its_progress(ledger):
    dash = dashboard(user=factories.StaffUserFactory(), year=2020, today=TODAY)

    rows = [
        (p.project, p.score, p.grade, p.figures.total, p.figures.closed,
         p.figures.closure_rate, p.figures.overdue)
        for p in dash.projects
    ]  # fmt: skip
    assert rows == [
        ("项目甲一", Decimal("92.00"), "优", 2, 1, Decimal("50.0"), 1),
        ("项目甲二", Decimal("75.00"), "中", 2, 0, Decimal("0.0"), 0),
        ("项目乙", Decimal("85.00"), "良", 3, 1, Decimal("33.3"), 1),
    ]


def test_a_unit_sees_only_itself(ledger):
    member = factories.UnitStaffFactory(unit=ledger.unit_a)

    dash = dashboard(user=member, year=2020, today=TODAY)

    assert dash.figures.total == 4
    assert _status(dash) == {"open": 1, "in_progress": 1, "submitted": 1, "closed": 1}
    assert dash.figures.overdue == 1
    assert dash.figures.closure_rate == Decimal("25.0")
    assert [u.label for u in dash.units] == ["甲单位"]
    assert [p.project for p in dash.projects] == ["项目甲一", "项目甲二"]
    c1 = next(row for row in dash.categories if row.name == "测试类别C1")
    assert (c1.findings, c1.units) == (2, [(ledger.unit_a.pk, "甲单位", 2)])


def test_it_shows_the_latest_year_unless_asked_and_ignores_a_year_it_cannot_see(ledger):
    staff = factories.StaffUserFactory()
    assert dashboard(user=staff, year=None, today=TODAY).year == 2020
    assert dashboard(user=staff, year=2019, today=TODAY).figures.total == 1
    assert dashboard(user=staff, year=1999, today=TODAY).year == 2020
    member_b = factories.UnitStaffFactory(unit=ledger.unit_b)
    assert dashboard(user=member_b, year=2019, today=TODAY).year == 2020  # no 2019 item of B


def test_it_is_empty_for_a_user_without_items(ledger):
    dash = dashboard(user=factories.UnitStaffFactory(), year=None, today=TODAY)
    assert (dash.year, dash.years, dash.figures.total, dash.units) == (None, [], 0, [])


@pytest.mark.parametrize(
    ("closed", "total", "rate"),
    [(0, 0, "0.0"), (1, 3, "33.3"), (2, 3, "66.7"), (1, 8, "12.5"), (3, 3, "100.0")],
)
def test_closure_rate_rounds_half_up_to_one_decimal(closed, total, rate):
    assert closure_rate(closed, total) == Decimal(rate)
