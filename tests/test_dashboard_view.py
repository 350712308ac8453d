"""The dashboard page: scoped figures, drill-down links that hold their numbers, constant queries."""

from __future__ import annotations

import html
import json
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.models import FindingCategory
from tests import dashboard_data, factories
from tests.dashboard_data import NOON

pytestmark = pytest.mark.django_db
URL = reverse("dashboard:index")
LEDGER = reverse("rectification:ledger")
# A plain number inside a link to the ledger: <a … href="/?year=2020&amp;status=open" …>3</a>
NUMBER_LINK = re.compile(r'<a\b[^>]*href="(/\?[^"]*)"[^>]*>\s*(\d+)\s*</a>')
CARD = re.compile(r'<a\b[^>]*href="(/\?[^"]*)"[^>]*data-figure="([\w-]+)"[^>]*>(.*?)</a>', re.S)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    # The city-wide category breakdown is cached; ids repeat from one test to the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ledger():
    return dashboard_data.build()


def _ledger_count(client, href: str) -> int:  # type: ignore[no-untyped-def]
    response = client.get(html.unescape(href))
    assert response.status_code == 200, href
    return response.context["total_count"]


def test_every_number_opens_a_ledger_list_of_that_many_items(client, ledger):
    client.force_login(factories.StaffUserFactory())
    page = client.get(URL).content.decode()

    links = NUMBER_LINK.findall(page)
    assert len(links) > 30  # statuses, units, categories, units behind them, projects
    for href, number in links:
        assert _ledger_count(client, href) == int(number), html.unescape(href)
    cards = {name: (href, body) for href, name, body in CARD.findall(page)}
    assert set(cards) >= {"total", "overdue", "due-soon", "closure-rate"}
    for name, expected in [("total", 7), ("overdue", 2), ("due-soon", 2), ("closure-rate", 2)]:
        href, _body = cards[name]
        assert _ledger_count(client, href) == expected, name
    assert "28.6%" in cards["closure-rate"][1]


def test_it_shows_the_hand_computed_figures(client, ledger):
    client.force_login(factories.OversightFactory())
    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'data-figure="total".*?>7<', page, re.S)
    assert re.search(r'data-figure="overdue".*?>2<', page, re.S)
    assert re.search(r'data-figure="due-soon".*?>2<', page, re.S)
    ranking = re.findall(r'<tr data-unit="(\d+)">', page.split('id="table-closure"')[1])
    assert ranking[:2] == [str(ledger.unit_b.pk), str(ledger.unit_a.pk)]
    assert f'data-item="{ledger.items["A3"].pk}"' in page  # due soon
    assert f'data-item="{ledger.items["B1"].pk}"' not in page  # due in 15 days


def test_it_hands_the_charts_their_data_and_links_as_json(client, ledger):
    client.force_login(factories.StaffUserFactory())
    page = client.get(URL).content.decode()

    match = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', page)
    assert match, "the chart data travels as a JSON block"
    data = json.loads(match.group(1))
    assert data["status"]["values"] == [3, 1, 0, 1, 0, 2]  # every status, in workflow order
    assert data["closure"]["labels"] == ["乙单位", "甲单位"]
    assert data["closure"]["values"] == [33.3, 25.0]
    assert data["categories"]["values"][:3] == [4, 2, 1]
    assert data["projects"]["scores"] == [85.0, 92.0, 75.0]  # those needing attention first
    for link in data["categories"]["links"] + data["closure"]["links"]:
        assert link.startswith(f"{LEDGER}?year=2020&")
    assert 'src="/static/vendor/chartjs/chart.umd.js"' in page
    assert "<script>" not in page  # no inline script: the CSP allows none


def test_a_unit_sees_only_itself_and_no_ranking(client, ledger):
    client.force_login(factories.UnitHeadFactory(unit=ledger.unit_a))
    page = client.get(URL).content.decode()

    assert re.search(r'data-figure="total".*?>4<', page, re.S)
    assert "乙单位" not in page
    assert "项目乙" not in page
    assert 'id="table-closure"' not in page
    assert reverse("dashboard:unit-report", args=[ledger.unit_a.pk, 2020]) in page


def test_a_due_soon_row_shows_what_it_did(client, ledger):
    # The rows load only the fields they show; the query-count tests below prove that showing
    # them asks for nothing more (40 more units bring 20 more items due soon).
    ledger.items["A3"].owner = factories.UnitStaffFactory(unit=ledger.unit_a, full_name="张三")
    ledger.items["A3"].save()
    client.force_login(factories.StaffUserFactory())

    page = client.get(URL).content.decode()

    row = page.split(f'data-item="{ledger.items["A3"].pk}"')[1].split("</tr>")[0]
    for shown in ("2021-03-20", "甲单位", "建议A3。", "张三", "待整改"):
        assert shown in row


def test_it_switches_year(client, ledger):
    client.force_login(factories.StaffUserFactory())

    response = client.get(URL, {"year": 2019})

    assert response.context["dash"].year == 2019
    assert response.context["dash"].figures.total == 1


def test_it_shows_an_empty_state_to_a_user_without_items(client, ledger):
    client.force_login(factories.UnitStaffFactory())
    response = client.get(URL)
    assert 'id="empty-state"' in response.content.decode()


@pytest.mark.parametrize("factory", [factories.StaffUserFactory, factories.UnitStaffFactory])
def test_its_query_count_is_the_same_for_1_and_50_items(client, factory):
    user = factory()
    unit = user.unit or factories.UnitFactory()
    category = FindingCategory.objects.create(name="测试类别")

    def make(n: int) -> None:
        for item in factories.ItemFactory.create_batch(
            n, recommendation__finding__result__project__unit=unit
        ):
            item.recommendation.finding.categories.add(category)

    make(1)
    client.force_login(user)
    client.get(URL)  # the session's first request also writes the session

    def count() -> tuple[int, int]:
        # On an empty cache, then with the category breakdown cached (readers of every unit).
        cache.clear()
        counts = []
        for _cold_then_warm in range(2):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(URL).status_code == 200
            counts.append(len(ctx.captured_queries))
        return counts[0], counts[1]

    one = count()
    make(49)
    assert count() == one


def test_its_query_count_is_the_same_for_2_units_and_40(client):
    dashboard_data.build()
    client.force_login(factories.StaffUserFactory())
    client.get(URL)

    def count() -> tuple[int, int]:
        cache.clear()
        counts = []
        for url in (URL, f"{URL}?projects_page=2&closure_page=2&overdue_page=3"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx.captured_queries))
        return counts[0], counts[1]

    small = count()
    dashboard_data.build_city(40)
    assert count() == small


# --- Bounded at city scale ------------------------------------------------------------------


def _rows(page: str, table: str, attribute: str) -> list[str]:
    body = page.split(f'id="{table}"')[1].split("</table>")[0]
    return re.findall(rf'<tr {attribute}="(\d+)"', body)


def _footer(page: str, name: str) -> str:
    match = re.search(rf'<div [^>]*data-pager="{name}">(.*?)</div>', page, re.S)
    assert match, f"no pager under {name}"
    return match.group(1)


def test_with_30_units_each_ranking_shows_15_and_pages_to_the_rest(client):
    dashboard_data.build_city(30)
    client.force_login(factories.StaffUserFactory())

    response = client.get(URL)
    page = response.content.decode()
    dash = response.context["dash"]
    by_rate = [str(u.unit_id) for u in dash.by_closure_rate]
    by_overdue = [str(u.unit_id) for u in dash.by_overdue]
    assert _rows(page, "table-closure", "data-unit") == by_rate[:15]
    assert _rows(page, "table-overdue", "data-unit") == by_overdue[:15]
    footer = _footer(page, "closure")
    assert "第 1–15 名，共 30 个单位" in footer
    next_page = html.unescape(re.search(r'href="([^"]*)"[^>]*data-page="next"', footer).group(1))
    assert next_page == "?closure_page=2#closure-heading"
    data = json.loads(html.unescape(re.search(r'id="dashboard-data"[^>]*>(.*?)<', page).group(1)))
    assert len(data["closure"]["labels"]) == 15  # the chart draws the rows of its table

    page_2 = client.get(f"{URL}?year=2020&closure_page=2").content.decode()
    assert _rows(page_2, "table-closure", "data-unit") == by_rate[15:]
    assert _rows(page_2, "table-overdue", "data-unit") == by_overdue[:15]  # its own page
    ranks = re.findall(
        r'<tr data-unit="\d+">\s*<td>(\d+)</td>', page_2.split('id="table-closure"')[1]
    )
    assert ranks[:15] == [str(n) for n in range(16, 31)]
    assert "第 16–30 名，共 30 个单位" in _footer(page_2, "closure")
    previous = re.search(r'href="([^"]*)"[^>]*data-page="previous"', _footer(page_2, "closure"))
    assert html.unescape(previous.group(1)) == "?year=2020#closure-heading"
    # The numbers of the second page open their ledger lists too.
    body = page_2.split('id="table-closure"')[1].split("</table>")[0]
    for href, number in NUMBER_LINK.findall(body)[:9]:
        assert _ledger_count(client, href) == int(number), html.unescape(href)


def test_a_category_names_10_units_and_links_the_rest_to_the_ledger(client):
    city = dashboard_data.build_city(13)
    client.force_login(factories.StaffUserFactory())

    page = client.get(URL).content.decode()

    row = page.split(f'<tr data-category="{city.category.pk}">')[1].split("</tr>")[0]
    assert re.findall(r">(城\d\d) \(2\)</a>", row) == [f"城{k:02d}" for k in range(10)]
    assert re.search(r'<td class="text-end">13</td>', row)  # units behind the bar
    more = re.search(r'<a [^>]*href="([^"]*)"[^>]*data-figure="category-more">([^<]*)</a>', row)
    assert more and more.group(2) == "等另外 3 个单位"
    assert html.unescape(more.group(1)) == f"{LEDGER}?year=2020&category={city.category.pk}"
    assert _ledger_count(client, more.group(1)) == 26  # every finding of the category
    data = json.loads(html.unescape(re.search(r'id="dashboard-data"[^>]*>(.*?)<', page).group(1)))
    notes = data["categories"]["notes"][data["categories"]["labels"].index(city.category.name)]
    assert notes == [f"城{k:02d}: 2" for k in range(10)] + ["等另外 3 个单位"]


def test_the_projects_table_shows_25_a_page_those_needing_attention_first(client):
    dashboard_data.build_city(30)
    client.force_login(factories.OversightFactory())

    response = client.get(URL)
    page = response.content.decode()
    first = response.context["dash"].projects
    assert len(_rows(page, "table-projects", "data-result")) == 25
    assert [row.figures.overdue for row in first][:10] == [1] * 10
    footer = _footer(page, "projects")
    assert "第 1–25 个项目，共 30 个" in footer
    next_page = html.unescape(re.search(r'href="([^"]*)"[^>]*data-page="next"', footer).group(1))
    assert next_page == "?projects_page=2#projects-heading"

    response = client.get(f"{URL}{next_page.split('#')[0]}")
    rows = _rows(response.content.decode(), "table-projects", "data-result")
    assert len(rows) == 5
    assert [row.figures.closed for row in response.context["dash"].projects] == [1] * 5
    assert 'data-pager="projects"' in response.content.decode()


def test_the_2020_page_needs_no_pager(client, ledger):
    client.force_login(factories.StaffUserFactory())
    page = client.get(URL).content.decode()
    assert "data-pager=" not in page
    assert 'data-figure="category-more"' not in page


@pytest.mark.parametrize("value", ["²", "１２", "9" * 30, "-1", "abc", "1999"])
def test_it_shows_the_newest_year_for_a_year_that_is_not_a_plausible_number(client, value):
    dashboard_data.build()
    client.force_login(factories.StaffUserFactory())
    response = client.get(URL, {"year": value})
    assert response.status_code == 200
    assert response.context["dash"].year == client.get(URL).context["dash"].year


def test_its_charts_label_projects_by_project_and_cut_long_names_keeping_them_whole_in_the_tooltip(
    client, ledger
):
    from dashboard.charts import AXIS_LABEL_CHARS
    from evaluations.models import Unit

    Unit.objects.update(short_name="")  # units imported without a short name
    client.force_login(factories.StaffUserFactory())
    page = client.get(URL).content.decode()
    data = json.loads(
        re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', page)[1]
    )
    projects = data["projects"]
    assert all(title.split("（")[0] in page for title in projects["titles"])
    for label, title in zip(projects["labels"], projects["titles"], strict=True):
        project = title.split("（")[0]
        assert label.split(". ", 1)[1].rstrip("…") in project, "a bar is labelled by its project"
    for spec in ("closure", "overdue", "projects"):
        assert all(len(label) <= AXIS_LABEL_CHARS for label in data[spec]["labels"])
    assert all(len(title) > 0 for title in data["closure"]["titles"])


def test_it_shows_completion_by_type_each_number_linking_to_its_ledger_list(client, ledger):
    client.force_login(factories.StaffUserFactory())

    page = client.get(URL).content.decode()

    table = page.split('id="table-type"', 1)[1].split("</table>", 1)[0]
    for kind in ("immediate", "staged", "ongoing", "none"):
        assert f'data-type="{kind}"' in table
    assert "rectification_type=none" in table and "立行立改" in table


def test_its_warning_colours_count_the_open_items_and_open_their_ledger_lists(
    client, ledger, settings
):
    settings.LIWAN_WARNING_YELLOW_DAYS = 7
    client.force_login(factories.StaffUserFactory())
    page = client.get(URL).content.decode()
    counts = {
        level: (href, int(number))
        for href, level, number in re.findall(
            r'href="(/\?[^"]*)" data-warning-count="(\w+)"[^>]*>.*?</span>(\d+)</a>', page, re.S
        )
    }
    # Seven days from 15 March: A2 and B3 overdue (red), A3 due on the 20th (yellow), A4 and B1
    # due on the 29th and 30th (green); the closed A1 and B2 have no colour.
    assert {level: number for level, (_href, number) in counts.items()} == {
        "red": 2,
        "yellow": 1,
        "green": 2,
    }
    for _level, (href, number) in counts.items():
        assert _ledger_count(client, href) == number
