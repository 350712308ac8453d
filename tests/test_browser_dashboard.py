"""The dashboard in a real browser: charts drawn by the vendored Chart.js under the site's
Content-Security-Policy, and drill-down from a table number and from a chart bar."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests import dashboard_data, factories
from tests.browser import browser_context, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_cache():
    # The city-wide category breakdown is cached (in this process: the live server's thread
    # shares it); ids repeat from one test to the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def browser_page(live_server) -> Iterator:  # type: ignore[no-untyped-def]
    with browser_context(height=900) as context:
        page = context.new_page()
        page.problems = []  # console errors and CSP violations, checked by the test
        page.on(
            "console",
            lambda message: (
                page.problems.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        # The console reports a failed load without its address; record the addresses here
        # (the browser's own request for /favicon.ico is not ours to answer).
        page.on(
            "response",
            lambda response: (
                page.problems.append(f"{response.status} {response.url}")
                if response.status >= 400 and not response.url.endswith("/favicon.ico")
                else None
            ),
        )
        yield page


def _ledger_rows(page) -> int:  # type: ignore[no-untyped-def]
    return page.locator("#ledger-table tbody tr").count()


def test_the_dashboard_draws_its_charts_and_drills_down_to_the_ledger(browser_page, live_server):
    page = browser_page
    ledger = dashboard_data.build()
    factories.StaffUserFactory(username="pingjia")
    base = live_server.url

    login(page, base, "pingjia")
    page.click("nav >> text=整改看板")
    page.wait_for_selector("#chart-categories[data-rendered=true]")

    # Each chart is a canvas Chart.js has drawn on: it has a size and non-blank pixels.
    for chart in ("status", "closure", "categories", "projects"):
        canvas = page.locator(f"#chart-{chart}")
        assert canvas.get_attribute("data-rendered") == "true", chart
        box = canvas.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, chart
        drawn = page.evaluate(
            """(id) => {
                const canvas = document.getElementById(id);
                const pixels = canvas.getContext("2d")
                    .getImageData(0, 0, canvas.width, canvas.height).data;
                let ink = 0;
                for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) ink++; }
                return ink;
            }""",
            f"chart-{chart}",
        )
        assert drawn > 500, chart

    # A number in the table beneath a chart opens the ledger list it counts.
    link = page.locator(
        f'#table-categories tr[data-category="{ledger.categories["C1"].pk}"] '
        'a[data-figure="category-findings"]'
    )
    expected = int(link.inner_text())
    link.click()
    page.wait_for_selector("#ledger-table")
    assert re.search(r"category=\d+", page.url)
    assert _ledger_rows(page) == expected == 4

    # A bar of a chart does the same: the first bar of the category chart is C1 (most findings).
    page.go_back()
    page.wait_for_selector("#chart-categories[data-rendered=true]")
    point = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById("chart-categories"));
            const bar = chart.getDatasetMeta(0).data[0];
            return {x: bar.x - 5, y: bar.y};
        }"""
    )
    box = page.locator("#chart-categories").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_url(re.compile(rf"category={ledger.categories['C1'].pk}"))
    page.wait_for_selector("#ledger-table")
    assert _ledger_rows(page) == 4

    # Nothing was refused by the Content-Security-Policy, and no script failed.
    assert page.problems == []


def _bars(page, chart: str) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "(id) => Chart.getChart(document.getElementById(id)).data.labels.length", chart
    )


def test_with_30_units_the_charts_draw_a_page_and_the_pager_turns_it(browser_page, live_server):
    page = browser_page
    city = dashboard_data.build_city(30)
    factories.StaffUserFactory(username="pingjia")

    login(page, live_server.url, "pingjia")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#chart-projects[data-rendered=true]")

    # Each chart draws the rows of the table beneath it: a page, not every unit or project.
    assert _bars(page, "chart-closure") == 15
    assert _bars(page, "chart-projects") == 25
    assert page.locator("#table-closure tbody tr").count() == 15
    more = page.locator(
        f'#table-categories tr[data-category="{city.category.pk}"] a[data-figure="category-more"]'
    )
    assert more.inner_text() == "等另外 20 个单位"

    # The ranking's next page: ranks 16 to 30, drawn too; the page scrolls back to the ranking.
    page.click('[data-pager="closure"] a[data-page="next"]')
    page.wait_for_url(re.compile(r"closure_page=2#closure-heading$"))
    page.wait_for_selector("#chart-closure[data-rendered=true]")
    assert _bars(page, "chart-closure") == 15
    ranks = page.locator("#table-closure tbody tr td:first-child").all_inner_texts()
    assert ranks == [str(n) for n in range(16, 31)]

    # "and 20 more" opens the ledger of the category: every finding behind the bar (60; the
    # ledger shows 50 a page).
    more.click()
    page.wait_for_selector("#ledger-table")
    assert re.search(rf"category={city.category.pk}", page.url)
    assert page.locator("#status-counts .fw-semibold").first.inner_text() == "60"
    assert _ledger_rows(page) == 50

    assert page.problems == []
