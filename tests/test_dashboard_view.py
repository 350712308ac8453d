"""The dashboard page: scoped figures, drill-down links that hold their numbers, constant queries."""

from __future__ import annotations

import html
import json
import re

import pytest
import time_machine
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
    assert data["status"]["values"] == [3, 1, 1, 2]
    assert data["closure"]["labels"] == ["乙单位", "甲单位"]
    assert data["closure"]["values"] == [33.3, 25.0]
    assert data["categories"]["values"][:3] == [4, 2, 1]
    assert data["projects"]["scores"] == [92.0, 75.0, 85.0]
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

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    make(49)
    assert count() == one
