from __future__ import annotations

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("rectification:export")


def _csv_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(raw, newline="")))


@pytest.fixture
def two_units():
    mine = factories.ItemFactory()
    theirs = factories.ItemFactory()
    return mine, theirs


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_it_gives_a_unit_user_only_their_own_items(client, two_units):
    mine, _theirs = two_units
    member = factories.UnitStaffFactory(unit=mine.unit)
    client.force_login(member)
    rows = _csv_rows(client.get(URL, {"format": "csv"}))
    units = {row[2] for row in rows[1:]}
    assert units == {mine.unit.name}


def test_it_gives_staff_and_oversight_every_unit(client, two_units):
    mine, theirs = two_units
    for user in (factories.StaffUserFactory(), factories.OversightFactory()):
        client.force_login(user)
        rows = _csv_rows(client.get(URL, {"format": "csv"}))
        assert {row[2] for row in rows[1:]} == {mine.unit.name, theirs.unit.name}


def test_it_gives_a_user_without_a_role_nothing(client, two_units):
    client.force_login(factories.UserFactory())
    assert _csv_rows(client.get(URL, {"format": "csv"}))[1:] == []


def test_it_neutralises_formulas_in_csv_and_xlsx(client):
    item = factories.ItemFactory(measures='=HYPERLINK("http://evil","点我")')
    item.recommendation.title = "@SUM(1+1)"
    item.recommendation.save()
    client.force_login(factories.StaffUserFactory())
    row = _csv_rows(client.get(URL, {"format": "csv"}))[1]
    assert row[11].startswith("'=")
    assert row[10].startswith("'@")
    response = client.get(URL, {"format": "xlsx"})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = list(workbook.active.iter_rows(values_only=True))[1]
    assert values[11].startswith("'=")
    assert values[10].startswith("'@")


def test_it_downloads_as_an_attachment(client, two_units):
    client.force_login(factories.StaffUserFactory())
    response = client.get(URL, {"format": "xlsx", "year": "2020"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "xlsx" in response["Content-Disposition"]


def test_it_rejects_a_bad_format_or_year(client):
    client.force_login(factories.StaffUserFactory())
    assert client.get(URL, {"format": "pdf"}).status_code == 400
    assert client.get(URL, {"format": "csv", "year": "abc"}).status_code == 400


def test_its_query_count_is_the_same_for_1_and_30_items(client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(factories.StaffUserFactory())
    factories.ItemFactory()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            _csv_rows(client.get(URL, {"format": "csv"}))
        return len(ctx.captured_queries)

    count()  # the first request of a session also writes the session's timestamps
    one = count()
    factories.ItemFactory.create_batch(29)
    assert count() == one


def _filename(response) -> str:  # type: ignore[no-untyped-def]
    from urllib.parse import unquote

    header = response["Content-Disposition"]
    return unquote(header.split("filename*=utf-8''")[1]) if "filename*" in header else header


@time_machine.travel(datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_the_file_name_says_what_was_exported(client):
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit__short_name="教育局"
    )
    year = item.round_year
    unit = item.unit
    client.force_login(factories.StaffUserFactory())

    def name(**params: str) -> str:
        return _filename(client.get(URL, {"format": "xlsx", **params}))

    assert name() == "整改台账_全部_2026-12-03.xlsx"
    assert name(year=str(year)) == f"整改台账_{year}_2026-12-03.xlsx"
    assert name(year=str(year), unit=str(unit.pk)) == f"整改台账_{year}_教育局_2026-12-03.xlsx"
    assert name(year=str(year), status="open") == f"整改台账_{year}_筛选_2026-12-03.xlsx"
    assert name(q="绩效", sort="deadline") == "整改台账_筛选_2026-12-03.xlsx"
    assert name(deadline_after="", deadline_before="") == "整改台账_全部_2026-12-03.xlsx"
    assert _filename(client.get(URL, {"format": "csv", "unit": str(unit.pk)})).endswith(
        "_教育局_2026-12-03.csv"
    )


@time_machine.travel(datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_a_unit_users_file_is_named_after_their_unit_not_all(client):
    item = factories.ItemFactory()
    client.force_login(factories.UnitStaffFactory(unit=item.unit))

    name = _filename(client.get(URL, {"format": "xlsx"}))

    assert "全部" not in name
    assert name == f"整改台账_{item.unit.short_name or item.unit.name}_2026-12-03.xlsx"
