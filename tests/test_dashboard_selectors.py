"""dashboard.selectors.dashboard against figures computed by hand (tests/dashboard_data.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from dashboard import selectors
from dashboard.selectors import (
    CATEGORY_UNITS,
    PROJECT_ROWS,
    RANKING_ROWS,
    attention_order,
    closure_rate,
    dashboard,
)
from rectification.choices import RectificationType
from rectification.models import RectificationItem
from tests import dashboard_data, factories, workflow
from tests.dashboard_data import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    # The city-wide category breakdown is cached; ids repeat from one test to the next.
    cache.clear()
    yield
    cache.clear()


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
    assert _status(dash) == {
        "open": 3,
        "in_progress": 1,
        "head_review": 0,
        "submitted": 1,
        "second_review": 0,
        "closed": 2,
    }
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
    # Those needing attention first: one overdue item each for 乙 and 甲一, of which 乙 has
    # closed the smaller share; 甲二 has nothing overdue.
    assert rows == [
        ("项目乙", Decimal("85.00"), "良", 3, 1, Decimal("33.3"), 1),
        ("项目甲一", Decimal("92.00"), "优", 2, 1, Decimal("50.0"), 1),
        ("项目甲二", Decimal("75.00"), "中", 2, 0, Decimal("0.0"), 0),
    ]


def test_a_unit_sees_only_itself(ledger):
    member = factories.UnitStaffFactory(unit=ledger.unit_a)

    dash = dashboard(user=member, year=2020, today=TODAY)

    assert dash.figures.total == 4
    assert _status(dash) == {
        "open": 1,
        "in_progress": 1,
        "head_review": 0,
        "submitted": 1,
        "second_review": 0,
        "closed": 1,
    }
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


# --- Bounded at city scale ------------------------------------------------------------------


def test_each_ranking_shows_one_page_of_units_and_pages_through_the_rest():
    dashboard_data.build_city(30)
    staff = factories.StaffUserFactory()

    first = dashboard(user=staff, year=2020, today=TODAY)
    second = dashboard(user=staff, year=2020, today=TODAY, closure_page=2, overdue_page="2")

    assert len(first.units) == 30
    for name in ("closure_ranking", "overdue_ranking"):
        page_1, page_2 = getattr(first, name), getattr(second, name)
        assert page_1.paginator.count == 30 and page_1.paginator.num_pages == 2
        assert (len(page_1), len(page_2)) == (RANKING_ROWS, 30 - RANKING_ROWS)
        assert (page_2.start_index(), page_2.end_index()) == (RANKING_ROWS + 1, 30)
    assert list(first.closure_ranking) + list(second.closure_ranking) == first.by_closure_rate
    assert list(first.overdue_ranking) + list(second.overdue_ranking) == first.by_overdue
    # Units with a closed item (every third) lead the closure ranking, the overdue ones (even,
    # not a multiple of 3) the overdue ranking.
    assert {u.label for u in first.by_closure_rate[:10]} == {f"城{k:02d}" for k in range(0, 30, 3)}
    assert {u.label for u in first.by_overdue[:10]} == {
        f"城{k:02d}" for k in range(30) if k % 2 == 0 and k % 3
    }
    # Not a page number: the first page; past the end: the last.
    assert (
        dashboard(user=staff, year=2020, today=TODAY, closure_page="x").closure_ranking.number == 1
    )
    assert dashboard(user=staff, year=2020, today=TODAY, closure_page=9).closure_ranking.number == 2


def test_a_category_names_its_first_units_and_counts_the_others():
    city = dashboard_data.build_city(13)
    extra = factories.FindingFactory(result=city.items[-1].recommendation.finding.result, number=3)
    extra.categories.add(city.category)
    factories.ItemFactory(recommendation__finding=extra)  # 城12 has three findings

    dash = dashboard(user=factories.StaffUserFactory(), year=2020, today=TODAY)

    row = next(row for row in dash.categories if row.category_id == city.category.pk)
    assert (row.findings, row.unit_count) == (27, 13)
    assert len(row.units) == CATEGORY_UNITS == 10
    assert row.more_units == 3
    # Most findings first, then by label.
    assert [label for _id, label, _n in row.units] == ["城12"] + [f"城{k:02d}" for k in range(9)]
    assert [n for _id, _label, n in row.units] == [3] + [2] * 9


def test_the_projects_needing_attention_come_first_a_page_at_a_time():
    city = dashboard_data.build_city(30)
    staff = factories.StaffUserFactory()

    first = dashboard(user=staff, year=2020, today=TODAY)
    second = dashboard(user=staff, year=2020, today=TODAY, projects_page=2)

    assert first.projects.paginator.count == 30
    # Not a page number: the first page; past the end: the last.
    last = dashboard(user=staff, year=2020, today=TODAY, projects_page=99).projects
    assert (last.number, list(last)) == (2, list(second.projects))
    assert list(dashboard(user=staff, year=2020, today=TODAY, projects_page="x").projects) == list(
        first.projects
    )
    assert (len(first.projects), len(second.projects)) == (PROJECT_ROWS, 30 - PROJECT_ROWS)
    rows = list(first.projects) + list(second.projects)
    assert rows == sorted(
        rows,
        key=lambda row: attention_order(
            row.seq, row.figures.total, row.figures.closed, row.figures.overdue
        ),
    )
    assert {row.project for row in rows} == {f"城项目{k:02d}" for k in range(30)}
    # Overdue first (k even, not a multiple of 3: 10 projects), all-open next, closed last.
    assert [row.figures.overdue for row in rows[:11]] == [1] * 10 + [0]
    assert [row.figures.closed for row in rows[-10:]] == [1] * 10
    by_name = {unit.name: unit.pk for unit in city.units}
    for row in rows:
        assert row.unit_id == by_name[f"广州市荔湾区城{row.project[3:]}单位"]
        assert row.score == Decimal("85.00")


def test_the_query_count_does_not_grow_with_units_or_projects(ledger):
    staff = factories.StaffUserFactory()
    dashboard(user=staff, year=2020, today=TODAY)  # reads the user's roles once, for good

    def count(**pages) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        cache.clear()
        counts = []
        for _cold_then_warm in range(2):
            with CaptureQueriesContext(connection) as ctx:
                dashboard(user=staff, year=2020, today=TODAY, **pages)
            counts.append(len(ctx.captured_queries))
        return counts[0], counts[1]

    small = count()
    dashboard_data.build_city(40)
    assert count() == small
    assert count(projects_page=2, closure_page=3, overdue_page=2) == small
    # Warm: the year's counts and the category breakdown come from the cache.
    assert small[1] < small[0]


# --- The cached counts of the whole city ----------------------------------------------------


def _aggregates_over_items(queries) -> list[str]:  # type: ignore[no-untyped-def]
    """The year's counts over the item table (the confirmed repeats, counted over every year
    from their own small table, are not among them)."""
    return [
        q["sql"]
        for q in queries
        if "COUNT(" in q["sql"]
        and 'FROM "rectification_rectificationitem"' in q["sql"]
        and "repeatlink" not in q["sql"]
    ]


def test_the_citys_counts_are_read_from_the_cache_until_an_item_changes(ledger):
    staff = factories.StaffUserFactory()
    before = dashboard(user=staff, year=2020, today=TODAY)
    with CaptureQueriesContext(connection) as warm:
        again = dashboard(user=staff, year=2020, today=TODAY)
    assert not _aggregates_over_items(warm.captured_queries)
    assert again.figures == before.figures and again.by_type == before.by_type

    # A change through the services writes its audit record: the next reader counts afresh.
    item = ledger.items["B1"]
    workflow.worked_on(item, factories.UnitStaffFactory(unit=item.unit), staff)
    after = dashboard(user=staff, year=2020, today=TODAY)
    assert (_status(after)["open"], _status(after)["in_progress"]) == (
        _status(before)["open"] - 1,
        _status(before)["in_progress"] + 1,
    )
    # The next day is counted afresh too (overdue and due soon move with it).
    with CaptureQueriesContext(connection) as next_day:
        dashboard(user=staff, year=2020, today=TODAY + datetime.timedelta(days=1))
    assert _aggregates_over_items(next_day.captured_queries)


def test_a_unit_users_counts_are_never_shared(ledger):
    unit_user = factories.UnitStaffFactory(unit=ledger.items["A1"].unit)
    dashboard(user=unit_user, year=2020, today=TODAY)
    with CaptureQueriesContext(connection) as again:
        dashboard(user=unit_user, year=2020, today=TODAY)
    assert _aggregates_over_items(again.captured_queries)


def test_a_change_past_the_services_shows_once_the_cache_lapses(ledger, monkeypatch):
    staff = factories.StaffUserFactory()
    before = dashboard(user=staff, year=2020, today=TODAY)
    item = ledger.items["B1"]
    factories.force_update(RectificationItem.objects.filter(pk=item.pk), status="in_progress")
    # No audit record: the fingerprint cannot see it, and the cached counts are shown …
    assert dashboard(user=staff, year=2020, today=TODAY).figures == before.figures
    # … until FIGURES_CACHE_SECONDS have passed (here: no cache at all).
    monkeypatch.setattr(selectors, "FIGURES_CACHE_SECONDS", 0)
    assert dashboard(user=staff, year=2020, today=TODAY).figures != before.figures


# --- The cached category breakdown ----------------------------------------------------------


_JOINS_LINKS = 'JOIN "evaluations_finding_categories"'  # the breakdown's query


def _c1(user) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    dash = dashboard(user=user, year=2020, today=TODAY)
    row = next(row for row in dash.categories if row.name == "测试类别C1")
    return row.findings, row.unit_count


def test_the_category_breakdown_follows_every_change_it_counts(ledger):
    staff = factories.StaffUserFactory()
    c1, c2 = ledger.categories["C1"], ledger.categories["C2"]
    assert _c1(staff) == (4, 2)

    # A status change leaves the breakdown as it was: it comes from the cache.
    item = ledger.items["B1"]
    factories.force_update(RectificationItem.objects.filter(pk=item.pk), status="in_progress")
    with CaptureQueriesContext(connection) as ctx:
        assert _c1(staff) == (4, 2)
    assert not [q for q in ctx.captured_queries if _JOINS_LINKS in q["sql"]]

    ledger.items["A3"].recommendation.finding.categories.add(c1)  # a new link
    assert _c1(staff) == (5, 2)
    ledger.items["A1"].recommendation.finding.categories.remove(c1)  # a removed link
    assert _c1(staff) == (4, 2)
    ledger.items["A3"].recommendation.finding.categories.set([c2])  # replaced
    assert _c1(staff) == (3, 2)
    new = factories.ItemFactory(  # a new item of a third unit
        recommendation__finding__result__round=ledger.results["PB"].round,
        recommendation__finding__result__seq=9,
    )
    new.recommendation.finding.categories.add(c1)
    assert _c1(staff) == (4, 3)
    c1.findings.clear()
    assert _c1(staff) == (0, 0)


def test_the_category_breakdown_is_exact_without_the_cache(ledger, monkeypatch):
    monkeypatch.setattr(selectors, "CATEGORY_CACHE_SECONDS", 0)
    staff = factories.StaffUserFactory()
    assert _c1(staff) == (4, 2)
    ledger.items["A3"].recommendation.finding.categories.add(ledger.categories["C1"])
    assert _c1(staff) == (5, 2)


def test_a_units_breakdown_is_never_cached(ledger):
    member = factories.UnitStaffFactory(unit=ledger.unit_a)
    assert _c1(member) == (2, 1)
    with CaptureQueriesContext(connection) as ctx:
        assert _c1(member) == (2, 1)
    assert [q for q in ctx.captured_queries if _JOINS_LINKS in q["sql"]]


def test_with_nothing_overdue_or_closed_the_projects_keep_the_summary_tables_order(liwan_2020):
    dash = dashboard(user=factories.StaffUserFactory(), year=2020, today=TODAY)

    assert [row.seq for row in dash.projects] == list(range(1, 11))
    assert dash.projects.paginator.num_pages == 1
    assert dash.closure_ranking.paginator.num_pages == dash.overdue_ranking.paginator.num_pages == 1
    assert all(row.unit_count == len(row.units) for row in dash.categories)  # every unit named


def test_it_counts_completion_per_rectification_type(ledger):
    items = list(RectificationItem.objects.filter(round_year=2020).order_by("pk"))
    types = ["immediate", "immediate", "staged", "ongoing"]
    for item, kind in zip(items, types, strict=False):
        item.rectification_type = kind
        item.save(update_fields=["rectification_type"])
    staff_dash = dashboard(user=factories.StaffUserFactory(), year=2020, today=TODAY)

    rows = {
        row.type: (row.label, row.progress.total, row.progress.closed, row.progress.overdue)
        for row in staff_dash.by_type
    }
    expected = {}
    for value, label in [*RectificationType.choices, ("none", "尚未确定")]:
        chosen = [i for i in items if (i.rectification_type or "none") == value]
        expected[value] = (
            str(label),
            len(chosen),
            sum(i.status == "closed" for i in chosen),
            sum(1 for i in chosen if i.deadline and i.deadline < TODAY and i.status != "closed"),
        )
    assert rows == expected
    assert [row.type for row in staff_dash.by_type] == ["immediate", "staged", "ongoing", "none"]


def test_it_lists_every_type_even_without_items_and_no_untyped_row_when_all_are_typed(ledger):
    RectificationItem.objects.filter(round_year=2020).update(rectification_type="immediate")

    dash = dashboard(user=factories.StaffUserFactory(), year=2020, today=TODAY)

    assert [(row.type, row.progress.total) for row in dash.by_type] == [
        ("immediate", 7),
        ("staged", 0),
        ("ongoing", 0),
    ]


def test_the_cached_counts_are_labelled_in_the_readers_language(ledger):
    staff = factories.StaffUserFactory()
    with translation.override("zh-hans"):
        chinese = [row.label for row in dashboard(user=staff, year=2020, today=TODAY).by_type]
    with translation.override("en"):
        english = [row.label for row in dashboard(user=staff, year=2020, today=TODAY).by_type]
    assert chinese[0] == "立行立改" and english[0] == "Fix at once"
