"""rectification.selectors.ledger: the one ledger query behind the list, the export, bulk
selection and the export command."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rectification.choices import ItemStatus
from rectification.selectors import ledger, ledgers
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2021, 6, 15)
LATE = TODAY - datetime.timedelta(days=1)


@pytest.fixture
def two_units():
    mine = factories.ItemFactory(deadline=LATE)
    mine_too = factories.ItemFactory(
        recommendation__finding__result__project__unit=mine.unit, status=ItemStatus.IN_PROGRESS
    )
    theirs = factories.ItemFactory(deadline=LATE)
    return mine, mine_too, theirs


def test_its_rows_and_counts_are_the_same_scoped_and_filtered_items(two_units):
    mine, _, _ = two_units
    unit_user = factories.UnitStaffFactory(unit=mine.unit)
    result = ledger(viewer=unit_user, params={"overdue": "yes"}, today=TODAY)
    assert list(result.rows) == [mine]
    assert result.counts["total"] == 1
    assert result.counts["overdue"] == 1


def test_a_unit_user_cannot_widen_the_scope_with_another_units_parameter(two_units):
    mine, mine_too, theirs = two_units
    unit_user = factories.UnitStaffFactory(unit=mine.unit)
    result = ledger(viewer=unit_user, params={"unit": theirs.unit_id}, today=TODAY)
    assert set(result.rows) == {mine, mine_too}
    assert "unit" not in result.filterset.form.fields


def test_overdue_is_judged_on_the_day_given(two_units):
    staff = factories.StaffUserFactory()
    assert ledger(viewer=staff, params={"overdue": "yes"}, today=TODAY).counts["total"] == 2
    before = ledger(viewer=staff, params={"overdue": "yes"}, today=LATE)
    assert before.counts["total"] == 0


def test_without_a_viewer_it_is_the_whole_ledger_for_a_command(two_units):
    assert ledger(viewer=None, params=None, today=TODAY).counts["total"] == 3


def test_an_invalid_parameter_is_left_out_and_reported(two_units):
    staff = factories.StaffUserFactory()
    result = ledger(viewer=staff, params={"year": "²", "status": "open"}, today=TODAY)
    assert not result.valid
    assert "year" in result.filterset.errors
    assert result.chosen.get("status") == "open"
    assert result.counts["total"] == 2


def test_a_year_without_a_round_lists_nothing(two_units):
    result = ledger(viewer=factories.StaffUserFactory(), params={"year": 2019}, today=TODAY)
    assert result.valid
    assert result.counts["total"] == 0


def test_counting_and_reading_a_page_query_the_bare_table_once_each(two_units):
    staff = factories.StaffUserFactory()
    # Narrowed beyond year, unit and status: counted over the items, not from the tallies.
    result = ledger(viewer=staff, params={"status": "open", "overdue": "no"}, today=TODAY)
    with CaptureQueriesContext(connection) as ctx:
        result.counts  # noqa: B018 — the property runs the query
        result.counts  # noqa: B018 — cached: no second query
        list(result.rows)
    assert len(ctx.captured_queries) == 2


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": ItemStatus.IN_PROGRESS},
        {"overdue": "yes"},
        {"waiting": "assignment"},
        {"q": "问题"},
    ],
    ids=["everything (tallies)", "a status (tallies)", "overdue", "a section", "a keyword"],
)
@pytest.mark.parametrize("role", ["staff", "unit"])
def test_its_total_alone_is_the_total_of_its_counts(two_units, params, role):
    mine, _, _ = two_units
    viewer = (
        factories.StaffUserFactory()
        if role == "staff"
        else factories.UnitStaffFactory(unit=mine.unit)
    )
    alone = ledger(viewer=viewer, params=params, today=TODAY).total
    assert alone == ledger(viewer=viewer, params=params, today=TODAY).counts["total"]


@pytest.mark.parametrize("role", ["staff", "unit"])
def test_several_lists_from_one_filter_set_are_the_lists_one_each_would_give(two_units, role):
    mine, _, _ = two_units
    viewer = (
        factories.StaffUserFactory()
        if role == "staff"
        else factories.UnitStaffFactory(unit=mine.unit)
    )
    params = [
        {"overdue": "yes"},
        {"status": ItemStatus.IN_PROGRESS, "sort": "deadline"},
        {"waiting": "assignment"},
        {"unit": str(mine.unit.pk), "closed": "no"},
        {"status": "nonsense"},
        {},
    ]

    together = ledgers(viewer=viewer, params=params, today=TODAY)
    alone = [ledger(viewer=viewer, params=one, today=TODAY) for one in params]

    for shared, own in zip(together, alone, strict=True):
        assert list(shared.items) == list(own.items)
        assert shared.total == own.total
        assert shared.chosen == own.chosen
        assert shared.valid == own.valid
        assert shared.filterset.is_bound == own.filterset.is_bound
    # Each list keeps its own parameters: binding the next did not change the first.
    assert together[0].chosen["overdue"] == "yes"
    assert "status" not in together[0].chosen or not together[0].chosen["status"]
