"""The dashboard in a real browser: charts drawn by the vendored Chart.js under the site's
Content-Security-Policy, and drill-down from a table number and from a chart bar."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests import dashboard_data, factories
from tests.browser import browser_context, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
