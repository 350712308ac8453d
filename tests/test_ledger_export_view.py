from __future__ import annotations

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories, workflow

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


@time_machine.travel(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.UTC), tick=False)
def test_it_exports_the_deadlines_story_and_the_return_in_both_formats(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rectification import services
    from rectification.uploads import check_evidence

    extended = factories.ItemFactory()
    unit = extended.unit
    returned = factories.ItemFactory(recommendation__finding__result__project__unit=unit)
    plain = factories.ItemFactory(recommendation__finding__result__project__unit=unit)
    projects = [i.recommendation.finding.result.project.name for i in (extended, returned, plain)]
    staff = services.Actor(user=factories.StaffUserFactory())
    member = services.Actor(user=factories.UnitStaffFactory(unit=unit))
    for item in (extended, returned):
        services.assign(item=item, actor=staff, owner=None, deadline=datetime.date(2026, 12, 31))
    for to in (datetime.date(2027, 1, 31), datetime.date(2027, 2, 28)):
        request = services.request_extension(
            item=extended, actor=member, requested_deadline=to, reason="需协调"
        )
        services.decide_extension(extension=request, actor=staff, approve=True)
    workflow.plan_accepted(returned, member, staff, measures="措施")
    pdf = check_evidence(SimpleUploadedFile("纪要.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))
    services.add_progress(item=returned, actor=member, note="进展", files=[pdf])
    services.submit(item=returned, actor=member)
    services.return_item(item=returned, actor=staff, reason="=佐证材料不足")
    client.force_login(staff.user)

    response = client.get(URL, {"format": "xlsx", "unit": unit.pk})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    header, *rows = list(workbook.active.iter_rows(values_only=True))
    columns = ["整改时限", "原定整改时限", "延期次数", "时限依据", "是否退回", "退回原因"]
    assert set(columns) <= set(header)
    at = {name: header.index(name) for name in columns}
    # One row per item (each has its own project), in the ledger order: the table's sequence.
    assert [row[header.index("项目名称")] for row in rows] == projects
    cells = [{name: row[i] for name, i in at.items()} for row in rows]
    assert [r["整改时限"] for r in cells] == [
        datetime.datetime(2027, 2, 28),
        datetime.datetime(2026, 12, 31),
        None,
    ]
    assert [r["原定整改时限"] for r in cells] == [
        datetime.datetime(2026, 12, 31),
        datetime.datetime(2026, 12, 31),
        None,
    ]
    assert [r["延期次数"] for r in cells] == [2, 0, 0]
    assert [r["时限依据"] for r in cells] == ["批准延期", "评价管理员设定", None]
    assert [r["是否退回"] for r in cells] == ["否", "是", "否"]
    assert [r["退回原因"] for r in cells] == [None, "'=佐证材料不足", None]

    csv_rows = _csv_rows(client.get(URL, {"format": "csv", "unit": unit.pk}))
    at = {name: csv_rows[0].index(name) for name in columns}
    assert [row[csv_rows[0].index("项目名称")] for row in csv_rows[1:]] == projects
    assert [[row[i] for i in at.values()] for row in csv_rows[1:]] == [
        ["2027-02-28", "2026-12-31", "2", "批准延期", "否", ""],
        ["2026-12-31", "2026-12-31", "0", "评价管理员设定", "是", "'=佐证材料不足"],
        ["", "", "0", "", "否", ""],
    ]


def test_it_exports_the_rectification_type_and_a_relapse(client):
    item, owner = workflow.owned_item(deadline=datetime.date(2030, 6, 30))
    relapsed, other = workflow.owned_item(deadline=datetime.date(2030, 6, 30))
    plain = factories.ItemFactory(recommendation__finding__result__project__unit=item.unit)
    workflow.plan_accepted(item, owner, rectification_type="ongoing")
    workflow.closed(workflow.submitted(relapsed, other))
    staff = factories.StaffUserFactory()
    from rectification import services

    follow_up = services.schedule_follow_up(
        item=relapsed, actor=workflow.actor(staff), due_on=datetime.date.today()
    )
    services.record_follow_up(
        follow_up=follow_up, actor=workflow.actor(staff), holds=False, finding="问题反弹"
    )
    client.force_login(staff)

    rows = _csv_rows(client.get(URL, {"format": "csv"}))
    header = rows[0]
    by_id = {
        row[header.index("项目名称")]: (
            row[header.index("整改类型")],
            row[header.index("是否反弹")],
        )
        for row in rows[1:]
    }

    assert by_id == {
        item.recommendation.finding.result.project.name: ("持续整改", "否"),
        relapsed.recommendation.finding.result.project.name: ("立行立改", "是"),
        plain.recommendation.finding.result.project.name: ("", "否"),
    }
