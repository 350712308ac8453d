from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evaluations.models import FindingCategory, Unit
from rectification.choices import ItemStatus
from rectification.models import RectificationItem
from rectification.views import LedgerListView
from tests import factories, workflow

pytestmark = pytest.mark.django_db
URL = reverse("rectification:ledger")
TODAY = datetime.date.today()


def _rows(response) -> list[int]:
    return [item.pk for item in response.context["object_list"]]


def test_it_shows_a_unit_only_its_items_without_a_unit_filter(client):
    mine, _theirs = factories.ItemFactory(), factories.ItemFactory()
    client.force_login(factories.UnitStaffFactory(unit=mine.unit))
    response = client.get(URL)
    assert _rows(response) == [mine.pk]
    assert "unit" not in response.context["filter"].form.fields


def test_it_filters_by_status_overdue_deadline_owner_and_keyword(client):
    late = factories.ItemFactory(deadline=TODAY - datetime.timedelta(days=3))
    soon = factories.ItemFactory(
        deadline=TODAY + datetime.timedelta(days=3), status=ItemStatus.IN_PROGRESS
    )
    owner = factories.UnitStaffFactory(unit=soon.unit)
    soon.owner = owner
    soon.save()
    late.recommendation.title = "加强绩效指标管理。"
    late.recommendation.save()
    # As the importer and the back-office do after changing evaluation texts.
    RectificationItem.objects.filter(pk=late.pk).sync_from_evaluation()
    client.force_login(factories.StaffUserFactory())
    assert _rows(client.get(URL, {"overdue": "yes"})) == [late.pk]
    assert _rows(client.get(URL, {"overdue": "no"})) == [soon.pk]
    assert _rows(client.get(URL, {"status": "in_progress"})) == [soon.pk]
    assert _rows(client.get(URL, {"owner": owner.pk})) == [soon.pk]
    assert _rows(client.get(URL, {"q": "绩效指标管理"})) == [late.pk]
    window = {
        "deadline_after": TODAY.isoformat(),
        "deadline_before": (TODAY + datetime.timedelta(days=5)).isoformat(),
    }
    assert _rows(client.get(URL, window)) == [soon.pk]
    assert set(_rows(client.get(URL, {"unit": late.unit.pk}))) == {late.pk}


def test_it_counts_items_per_status_and_overdue(client):
    factories.ItemFactory(deadline=TODAY - datetime.timedelta(days=1))
    factories.ItemFactory(status=ItemStatus.SUBMITTED)
    factories.ItemFactory(status=ItemStatus.HEAD_REVIEW)
    client.force_login(factories.StaffUserFactory())
    response = client.get(URL)
    counts = {status: n for status, _label, n in response.context["status_counts"]}
    # Every status, in the workflow's order.
    assert list(counts.items()) == [
        ("open", 1),
        ("in_progress", 0),
        ("head_review", 1),
        ("submitted", 1),
        ("second_review", 0),
        ("closed", 0),
    ]
    assert response.context["overdue_count"] == 1
    assert response.context["total_count"] == 3


def test_it_sorts_by_deadline_both_ways(client):
    a = factories.ItemFactory(deadline=TODAY + datetime.timedelta(days=1))
    b = factories.ItemFactory(deadline=TODAY + datetime.timedelta(days=9))
    client.force_login(factories.StaffUserFactory())
    assert _rows(client.get(URL, {"sort": "deadline"})) == [a.pk, b.pk]
    assert _rows(client.get(URL, {"sort": "-deadline"})) == [b.pk, a.pk]


def test_it_paginates_at_50(client):
    factories.ItemFactory.create_batch(51)
    client.force_login(factories.StaffUserFactory())
    assert len(_rows(client.get(URL))) == 50
    assert len(_rows(client.get(URL, {"page": 2}))) == 1


def test_it_shows_an_empty_state(client):
    client.force_login(factories.UnitStaffFactory())
    response = client.get(URL)
    assert 'id="empty-state"' in response.content.decode()


def test_its_export_link_keeps_the_filters(client):
    factories.ItemFactory()
    client.force_login(factories.StaffUserFactory())
    body = client.get(URL, {"status": "open", "q": "绩效"}).content.decode()
    assert "/ledger/export/?status=open&amp;q=" in body


@pytest.mark.parametrize("factory", [factories.StaffUserFactory, factories.UnitStaffFactory])
def test_its_query_count_is_the_same_for_1_and_50_rows(client, factory):
    user = factory()
    unit = user.unit or factories.UnitFactory()
    make = lambda n: factories.ItemFactory.create_batch(  # noqa: E731
        n, recommendation__finding__result__project__unit=unit
    )
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


def test_it_filters_by_problem_category_including_the_untagged(client):
    tagged, untagged = factories.ItemFactory(), factories.ItemFactory()
    category = FindingCategory.objects.create(name="测试类别")
    other = FindingCategory.objects.create(name="另一类别")
    tagged.recommendation.finding.categories.set([category, other])
    client.force_login(factories.StaffUserFactory())

    assert _rows(client.get(URL, {"category": category.pk})) == [tagged.pk]
    assert _rows(client.get(URL, {"category": "null"})) == [untagged.pk]
    response = client.get(URL, {"category": other.pk})
    assert response.context["total_count"] == 1  # two categories never count an item twice


def test_it_filters_by_project_and_by_closed_or_not(client):
    closed = factories.ItemFactory(status=ItemStatus.CLOSED, closure_outcome="rectified")
    submitted = factories.ItemFactory(
        status=ItemStatus.SUBMITTED,
        recommendation__finding__result=closed.recommendation.finding.result,
        recommendation__finding__number=2,
    )
    elsewhere = factories.ItemFactory()
    project = closed.recommendation.finding.result.project
    client.force_login(factories.StaffUserFactory())

    assert set(_rows(client.get(URL, {"project": project.pk}))) == {closed.pk, submitted.pk}
    assert _rows(client.get(URL, {"closed": "yes"})) == [closed.pk]
    assert set(_rows(client.get(URL, {"closed": "no"}))) == {submitted.pk, elsewhere.pk}


def test_it_offers_a_unit_only_its_own_projects(client):
    mine, theirs = factories.ItemFactory(), factories.ItemFactory()
    client.force_login(factories.UnitStaffFactory(unit=mine.unit))

    choices = client.get(URL).context["filter"].form.fields["project"].queryset

    assert list(choices) == [mine.recommendation.finding.result.project]
    assert theirs.recommendation.finding.result.project not in choices


def _options(response, name: str) -> list[str]:
    widget = response.context["filter"].form.fields[name].widget
    return [str(key) for key, _label in widget.choices if key != ""]


def test_it_lists_staff_the_projects_and_owners_of_the_chosen_unit_only(client):
    mine, theirs = factories.ItemFactory(), factories.ItemFactory()
    owner = factories.UnitStaffFactory(unit=mine.unit)
    factories.UnitStaffFactory(unit=theirs.unit)
    client.force_login(factories.StaffUserFactory())
    project = mine.recommendation.finding.result.project

    unfiltered = client.get(URL)
    assert _options(unfiltered, "project") == []
    assert _options(unfiltered, "owner") == []
    chosen = client.get(URL, {"unit": mine.unit.pk})
    assert _options(chosen, "project") == [str(project.pk)]
    assert _options(chosen, "owner") == [str(owner.pk)]


def test_it_keeps_a_project_chosen_by_link_without_its_unit(client):
    item = factories.ItemFactory()
    factories.ItemFactory()
    project = item.recommendation.finding.result.project
    client.force_login(factories.StaffUserFactory())

    response = client.get(URL, {"project": project.pk})

    assert _rows(response) == [item.pk]
    assert _options(response, "project") == [str(project.pk)]
    assert f'<option value="{project.pk}" selected>' in response.content.decode()


def test_its_unit_list_escapes_names(client):
    unit = factories.UnitFactory(short_name="<b>单位</b>")
    client.force_login(factories.StaffUserFactory())
    body = client.get(URL).content.decode()
    assert f'<option value="{unit.pk}">&lt;b&gt;单位&lt;/b&gt;</option>' in body
    assert "<b>单位</b>" not in body


def test_its_rows_escape_every_value_people_wrote(client):
    # The rows are written in Python, outside the template's autoescape.
    unit = factories.UnitFactory(short_name="<i>单位</i>")
    owner = factories.UnitStaffFactory(unit=unit, full_name="<u>张三</u>")
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=unit,
        recommendation__finding__result__project__name="<script>项目</script>",
        recommendation__finding__title='"问题"<img src=x>',
        recommendation__title="<b>建议</b>",
        owner=owner,
    )
    client.force_login(factories.StaffUserFactory())
    row = re.search(rf'<tr data-item="{item.pk}".*?</tr>', client.get(URL).content.decode())

    assert row is not None
    html = row.group(0)
    for raw in ("<i>", "<u>", "<script>", "<img", "<b>"):
        assert raw not in html
    for escaped in (
        "&lt;i&gt;单位&lt;/i&gt;",
        "&lt;u&gt;张三&lt;/u&gt;",
        "&lt;script&gt;项目&lt;/script&gt;",
        "&quot;问题&quot;&lt;img src=x&gt;",
        "&lt;b&gt;建议&lt;/b&gt;",
    ):
        assert escaped in html


def test_its_later_pages_follow_the_ledger_order(client):
    items = [
        factories.ItemFactory(
            recommendation__finding__result__round__year=2020 + n % 3,
            recommendation__finding__result__seq=100 - n,
        )
        for n in range(60)
    ]
    expected = [
        i.pk
        for i in sorted(items, key=lambda i: (-i.round_year, i.result_seq, i.finding_number, i.pk))
    ]
    client.force_login(factories.StaffUserFactory())
    assert _rows(client.get(URL)) + _rows(client.get(URL, {"page": 2})) == expected
    assert client.get(URL, {"page": 2}).context["paginator"].count == 60


def _ledger_of_three_years(
    count_per_result: int = 2,
    statuses: tuple[str, ...] = (),
    unit: Unit | None = None,
    seqs: tuple[int, ...] = (2, 1),
) -> list[int]:
    """Items of three years, two results each (numbered ``seqs``, of ``unit`` if given),
    several problems per result (in ``statuses`` in turn, if given): the ids in the ledger
    order (year descending, then result, problem and id ascending)."""
    items = []
    for year in (2021, 2023, 2022):
        for seq in seqs:
            of_unit = {"project__unit": unit} if unit else {}
            result = factories.ResultFactory(round__year=year, seq=seq, **of_unit)
            for number in range(count_per_result, 0, -1):
                finding = factories.FindingFactory(result=result, number=number)
                recommendation = factories.RecommendationFactory(finding=finding)
                status = {"status": statuses[len(items) % len(statuses)]} if statuses else {}
                items.append(factories.ItemFactory(recommendation=recommendation, **status))
    ordered = sorted(items, key=lambda i: (-i.round_year, i.result_seq, i.finding_number, i.pk))
    return [item.pk for item in ordered]


def _link(response, rel: str) -> str | None:
    body = response.content.decode()
    label = {"next": "下一页", "previous": "上一页"}[rel]
    found = re.search(rf'<a class="page-link" href="\?([^"]*)">{label}</a>', body)
    return found.group(1).replace("&amp;", "&") if found else None


def test_its_next_and_previous_links_visit_every_item_once_in_ledger_order(client, monkeypatch):
    monkeypatch.setattr(LedgerListView, "paginate_by", 5)
    expected = _ledger_of_three_years()
    client.force_login(factories.StaffUserFactory())

    forward, response, query = [], client.get(URL), None
    while True:
        forward += _rows(response)
        query = _link(response, "next")
        if query is None:
            break
        assert "after=" in query
        response = client.get(f"{URL}?{query}")
    backward = []
    while (query := _link(response, "previous")) is not None:
        assert "before=" in query
        response = client.get(f"{URL}?{query}")
        backward = _rows(response) + backward

    assert forward == expected
    assert backward == expected[:10]
    assert response.context["page_obj"].number == 1


def test_a_page_found_by_its_cursor_reads_no_offset(client, monkeypatch):
    monkeypatch.setattr(LedgerListView, "paginate_by", 5)
    expected = _ledger_of_three_years()
    client.force_login(factories.StaffUserFactory())
    query = _link(client.get(URL), "next")

    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{URL}?{query}")

    assert _rows(response) == expected[5:10]
    assert not [q for q in captured if "OFFSET" in q["sql"]]
    assert response.context["page_obj"].number == 2


@pytest.mark.parametrize("who", ["staff", "unit"])
@pytest.mark.parametrize(
    "params",
    [{}, {"year": "2022"}, {"status": ItemStatus.IN_PROGRESS}, {"q": "绩效指标"}],
    ids=["everything", "a year", "a status", "a keyword (not tallied)"],
)
def test_every_page_asked_for_by_its_number_is_the_ledger_order(client, monkeypatch, params, who):
    monkeypatch.setattr(LedgerListView, "paginate_by", 3)
    unit = factories.UnitFactory()
    statuses = (ItemStatus.OPEN, ItemStatus.IN_PROGRESS, ItemStatus.OPEN)
    expected = _ledger_of_three_years(count_per_result=3, statuses=statuses, unit=unit)
    # Another unit's items in every year: the unit's pages count none of them, staff's all.
    others = _ledger_of_three_years(count_per_result=1, unit=factories.UnitFactory(), seqs=(3,))
    if who == "staff":
        expected = list(
            RectificationItem.objects.filter(pk__in=expected + others)
            .in_ledger_order()
            .values_list("pk", flat=True)
        )
    listed = RectificationItem.objects.filter(pk__in=expected)
    if "year" in params:
        listed = listed.filter(round_year=2022)
    if "status" in params:
        listed = listed.filter(status=params["status"])
    wanted = [pk for pk in expected if pk in set(listed.values_list("pk", flat=True))]
    staff = factories.StaffUserFactory()
    client.force_login(staff if who == "staff" else factories.UnitStaffFactory(unit=unit))

    pages, number = [], 1
    while True:
        response = client.get(URL, {**params, "page": number})
        pages += _rows(response)
        if not response.context["page_obj"].has_next():
            break
        number += 1

    assert pages == wanted


def test_a_deep_page_asked_for_by_its_number_skips_the_newer_years_by_their_count(
    client, monkeypatch
):
    monkeypatch.setattr(LedgerListView, "paginate_by", 5)
    expected = _ledger_of_three_years(count_per_result=4)  # 8 items a year
    client.force_login(factories.StaffUserFactory())

    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, {"page": 4})  # rows 15–19: the oldest year's first five

    assert _rows(response) == expected[15:20]
    # 2023's eight rows skipped by their count; the last of 2022 by OFFSET, then 2021's first.
    offsets = [int(n) for q in captured for n in re.findall(r"OFFSET (\d+)", q["sql"])]
    assert offsets == [7]


@pytest.mark.parametrize("cursor", ["after=x.1.2.3", "after=1.2.3", "before=².1.1.1", "after="])
def test_a_malformed_cursor_leaves_the_page_to_its_number(client, monkeypatch, cursor):
    monkeypatch.setattr(LedgerListView, "paginate_by", 5)
    expected = _ledger_of_three_years()
    client.force_login(factories.StaffUserFactory())

    response = client.get(f"{URL}?page=2&{cursor}")

    assert _rows(response) == expected[5:10]


def test_a_chosen_sort_pages_by_number_and_its_links_carry_no_cursor(client, monkeypatch):
    monkeypatch.setattr(LedgerListView, "paginate_by", 5)
    _ledger_of_three_years()
    client.force_login(factories.StaffUserFactory())
    by_status = [pk for pk in RectificationItem.objects.order_by("status", "-round_year",
        "result_seq", "finding_number", "id").values_list("pk", flat=True)]  # fmt: skip
    first = client.get(URL, {"sort": "status"})

    query = _link(first, "next")
    second = client.get(f"{URL}?{query}&after=2023.1.1.1")

    assert "after=" not in query
    assert _rows(first) + _rows(second) == by_status[:10]


@pytest.mark.parametrize("value", ["²", "１２", "9" * 30, "-1", "abc"])
def test_it_ignores_an_odd_unit_or_project_number_instead_of_failing(client, value):
    item = factories.ItemFactory()
    client.force_login(factories.StaffUserFactory())
    for name in ("unit", "project", "owner"):
        response = client.get(URL, {name: value})
        assert response.status_code == 200
        assert _rows(response) == [item.pk]


def test_its_pages_sorted_by_a_column_with_ties_neither_repeat_nor_skip_items(client):
    items = factories.ItemFactory.create_batch(60, status=ItemStatus.IN_PROGRESS)
    client.force_login(factories.StaffUserFactory())
    first = _rows(client.get(URL, {"sort": "status"}))
    second = _rows(client.get(URL, {"sort": "status", "page": 2}))
    assert sorted(first + second) == sorted(item.pk for item in items)


def test_its_page_parameter_takes_last_and_refuses_nonsense(client):
    factories.ItemFactory.create_batch(51)
    client.force_login(factories.StaffUserFactory())
    assert len(_rows(client.get(URL, {"page": "last"}))) == 1
    assert client.get(URL, {"page": "abc"}).status_code == 404
    assert client.get(URL, {"page": 9}).status_code == 404


def test_its_sort_order_says_ledger_order_rather_than_dashes(client):
    factories.ItemFactory()
    client.force_login(factories.StaffUserFactory())
    page = client.get(URL).content.decode()
    assert "---------" not in page
    assert "默认顺序" in page or "台账顺序" in page


# --- returns and the deadline's story in the list -------------------------------------------------

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def _row(response, item) -> str:  # type: ignore[no-untyped-def]
    match = re.search(
        rf'<tr data-item="{item.pk}"[^>]*>(.*?)</tr>', response.content.decode(), re.S
    )
    assert match, f"item #{item.pk} is listed"
    return " ".join(match.group(1).split())


def test_it_shows_a_returned_item_as_returned_and_filters_by_it(client):
    staff = factories.StaffUserFactory(full_name="王审核")
    returned = factories.ItemFactory(
        status=ItemStatus.IN_PROGRESS,
        measures="措施",
        returned_at=timezone.now(),
        returned_by=staff,
        return_reason="佐证材料不足",
    )
    working = factories.ItemFactory(
        recommendation__finding__result__project__unit=returned.unit,
        status=ItemStatus.IN_PROGRESS,
        measures="措施",
    )
    client.force_login(factories.UnitStaffFactory(unit=returned.unit))

    response = client.get(URL)

    assert "已退回" in _row(response, returned)
    assert "已退回" not in _row(response, working)
    filtered = client.get(URL, {"returned": "yes"})
    assert _rows(filtered) == [returned.pk]
    assert filtered.context["total_count"] == 1


def test_it_no_longer_lists_a_resubmitted_item_as_returned(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rectification import services
    from rectification.uploads import check_evidence

    item = factories.ItemFactory()
    member = services.Actor(user=factories.UnitStaffFactory(unit=item.unit))
    staff = services.Actor(user=factories.StaffUserFactory())

    def report() -> None:
        pdf = SimpleUploadedFile("纪要.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        services.add_progress(item=item, actor=member, note="进展", files=[check_evidence(pdf)])

    workflow.plan_accepted(item, member, staff, measures="措施")
    report()
    services.submit(item=item, actor=member)
    services.return_item(item=item, actor=staff, reason="材料不足")
    client.force_login(member.user)
    assert _rows(client.get(URL, {"returned": "yes"})) == [item.pk]

    report()
    services.submit(item=item, actor=member)

    assert _rows(client.get(URL, {"returned": "yes"})) == []
    assert "已退回" not in _row(client.get(URL), item)


def test_it_shows_the_original_deadline_and_the_extensions_beside_the_current_one(client):
    from rectification import services

    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        extended, plain = factories.ItemFactory(), factories.ItemFactory()
        staff = services.Actor(user=factories.StaffUserFactory())
        member = services.Actor(user=factories.UnitStaffFactory(unit=extended.unit))
        for item in (extended, plain):
            services.assign(
                item=item, actor=staff, owner=None, deadline=datetime.date(2026, 12, 31)
            )
        for to in (datetime.date(2027, 1, 31), datetime.date(2027, 2, 28)):
            request = services.request_extension(
                item=extended, actor=member, requested_deadline=to, reason="需协调"
            )
            services.decide_extension(extension=request, actor=staff, approve=True)
        client.force_login(staff.user)
        response = client.get(URL)

    row = _row(response, extended)
    assert "2027-02-28" in row
    assert "原定 2026-12-31 · 延期 2 次" in row
    row = _row(response, plain)
    assert "2026-12-31" in row
    assert "原定" not in row
    assert "延期" not in row


def test_it_marks_a_deadline_counted_over_a_provisional_year(client):
    from calendars.services import count_working_days
    from rectification import services

    item = factories.ItemFactory()
    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        count = count_working_days(start=datetime.date(2026, 12, 3), days=30)
        staff = services.Actor(user=factories.StaffUserFactory())
        services.assign(item=item, actor=staff, owner=None, deadline=count.date, count=count)
        client.force_login(staff.user)
        row = _row(client.get(URL), item)

    assert "2027-01-15" in row
    assert "暂定" in row


def test_it_shows_each_items_warning_colour_and_filters_by_it(client, settings):
    settings.LIWAN_WARNING_YELLOW_DAYS = 7
    late = factories.ItemFactory(deadline=TODAY - datetime.timedelta(days=1))
    soon = factories.ItemFactory(deadline=TODAY + datetime.timedelta(days=7))
    later = factories.ItemFactory(deadline=TODAY + datetime.timedelta(days=8))
    client.force_login(factories.StaffUserFactory())

    response = client.get(URL)

    assert 'data-warning="red"' in _row(response, late)
    assert 'data-warning="yellow"' in _row(response, soon)
    assert 'data-warning="green"' in _row(response, later)
    assert "黄色（临近期限）</span>" in _row(response, soon)  # named for screen readers
    assert "warning-text-red" in _row(response, late)
    assert _rows(client.get(URL, {"warning": "red"})) == [late.pk]
    assert _rows(client.get(URL, {"warning": "yellow"})) == [soon.pk]
    assert _rows(client.get(URL, {"warning": "green"})) == [later.pk]
    invalid = client.get(URL, {"warning": "blue"})
    assert invalid.status_code == 200 and len(_rows(invalid)) == 3  # refused beside the field


def test_a_keyword_matching_more_than_the_limit_is_listed_without_counting(client, settings):
    settings.LIWAN_LEDGER_COUNT_LIMIT = 2
    items = [factories.ItemFactory(measures="台账资料电子化") for _ in range(3)]
    factories.ItemFactory(measures="别的措施")
    client.force_login(factories.StaffUserFactory())
    with CaptureQueriesContext(connection) as capped:
        response = client.get(URL, {"q": "台账资料电子化"})
    page = response.content.decode()
    assert response.context["counts_capped"] is True
    assert 'id="counts-capped"' in page
    assert response.context["total_count"] == 2
    assert {count for _status, _label, count in response.context["status_counts"]} == {None}
    assert len(_rows(response)) == 2
    assert set(_rows(response)) < {item.pk for item in items}
    # No exact count of the matches was taken: only the bounded one.
    assert not any(
        "COUNT" in q["sql"] and "LIMIT" not in q["sql"] and "search_text" in q["sql"]
        for q in capped.captured_queries
    )
    # Narrowed below the limit, it is counted exactly again.
    settings.LIWAN_LEDGER_COUNT_LIMIT = 3
    response = client.get(URL, {"q": "台账资料电子化"})
    assert response.context["counts_capped"] is False
    assert response.context["total_count"] == 3
