"""The items per (year, unit, status) that the ledger's counts read (``rectification.tallies``):
kept exact by every writer, equal to a live count whatever the list asks, safe under
concurrent writers. (Every test of the suite also checks ``drift`` afterwards: conftest.)"""

from __future__ import annotations

import datetime

import pytest
from django.db import connections
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from evaluations.models import EvaluationRound
from rectification import services, tallies
from rectification.choices import ItemStatus
from rectification.models import RectificationItem, StatusTally
from rectification.selectors import ledger, ledger_counts
from tests import factories, workflow
from tests.concurrency import while_uncommitted

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2021, 6, 1)


@pytest.fixture
def city():
    """Two units over two years, in several statuses, some overdue."""
    units = [factories.UnitFactory(), factories.UnitFactory()]
    statuses = [ItemStatus.OPEN, ItemStatus.IN_PROGRESS, ItemStatus.CLOSED, ItemStatus.SUBMITTED]
    for year in (2019, 2020):
        for n, unit in enumerate(units):
            for m, status in enumerate(statuses[: 2 + n + (year - 2019)]):
                factories.ItemFactory(
                    recommendation__finding__result__round=factories.RoundFactory(year=year),
                    recommendation__finding__result__project__unit=unit,
                    unit=unit,
                    status=status,
                    closure_outcome="rectified" if status == ItemStatus.CLOSED else "",
                    deadline=TODAY + datetime.timedelta(days=30 * (m - 1)),
                )
    return units


def _live(result) -> dict:  # type: ignore[no-untyped-def]
    return ledger_counts(result.items, today=TODAY)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"year": "2020"},
        {"year": "2019", "status": "open"},
        {"status": "closed"},
        {"sort": "-deadline"},
        {"year": "1999"},
    ],
)
def test_staff_counts_from_the_tallies_equal_a_live_count(city, params):
    staff = factories.StaffUserFactory()
    for narrowed in (params, {**params, "unit": str(city[1].pk)}):
        result = ledger(viewer=staff, params=narrowed, today=TODAY)
        assert result._tallied() is not None
        assert result.counts == _live(result)


def test_a_units_counts_from_the_tallies_are_its_own(city):
    member = factories.UnitStaffFactory(unit=city[0])
    for params in ({}, {"year": "2020"}, {"status": "in_progress"}, {"unit": str(city[1].pk)}):
        result = ledger(viewer=member, params=params, today=TODAY)
        assert result.counts == _live(result)
    assert ledger(viewer=member, params={}, today=TODAY).counts["total"] == 5


def test_any_other_filter_is_counted_over_the_items(city):
    staff = factories.StaffUserFactory()
    for params in ({"overdue": "yes"}, {"q": "指标"}, {"closed": "no"}, {"category": "null"}):
        result = ledger(viewer=staff, params=params, today=TODAY)
        assert result._tallied() is None
        assert result.counts == _live(result)


def test_someone_without_a_unit_sees_no_counts(city):
    nobody = factories.UserFactory()
    result = ledger(viewer=nobody, params={}, today=TODAY)
    assert result._tallied() is None
    assert result.counts["total"] == 0


def test_the_counts_read_the_tallies_and_count_only_the_overdue_items(city):
    result = ledger(viewer=factories.StaffUserFactory(), params={"year": "2020"}, today=TODAY)
    connection = connections["default"]
    with CaptureQueriesContext(connection) as ctx:
        counts = result.counts
    assert len(ctx.captured_queries) == 2
    assert "statustally" in ctx.captured_queries[0]["sql"]
    assert (
        counts["overdue"]
        == RectificationItem.objects.filter(round_year=2020, deadline__lt=TODAY)
        .exclude(status=ItemStatus.CLOSED)
        .count()
    )


def test_a_transition_moves_one_item_between_statuses(city):
    item = RectificationItem.objects.filter(unit=city[0], status=ItemStatus.OPEN).first()
    before = tallies.per_status(year=item.round_year, unit=city[0])
    workflow.plan_accepted(item, factories.UnitStaffFactory(unit=city[0]))
    after = tallies.per_status(year=item.round_year, unit=city[0])
    assert after.get(ItemStatus.OPEN, 0) == before[ItemStatus.OPEN] - 1
    assert after[ItemStatus.IN_PROGRESS] == before[ItemStatus.IN_PROGRESS] + 1


def test_a_project_moved_to_another_unit_takes_its_counts(city):
    item = RectificationItem.objects.filter(unit=city[0]).select_related("unit").first()
    project = item.recommendation.finding.result.project
    moving = RectificationItem.objects.filter(recommendation__finding__result__project=project)
    n = moving.count()
    project.unit = city[1]
    project.save()
    services.move_project_items(
        project=project, old_unit=city[0], actor=services.Actor(user=factories.StaffUserFactory())
    )
    assert tallies.drift() == {}
    assert sum(tallies.per_status(unit=city[1]).values()) == 7 + n


def test_a_rounds_year_corrected_in_the_back_office_moves_its_items(city):
    round_ = EvaluationRound.objects.get(year=2019)
    round_.year = 2018
    round_.save()
    assert services.sync_copies(recommendation__finding__result__round=round_) == 5
    assert tallies.per_status(year=2019) == {}
    assert sum(tallies.per_status(year=2018).values()) == 5


def test_an_import_counts_its_new_items(liwan_2020):
    counted = dict(
        RectificationItem.objects.values_list("status").annotate(n=Count("pk")).order_by()
    )
    assert tallies.per_status(year=2020) == counted
    assert counted == {ItemStatus.OPEN: 22}  # the 2020 table, every item new


def test_a_write_past_the_services_is_found_and_rebuilt(city):
    RectificationItem.objects.filter(status=ItemStatus.OPEN).update(status=ItemStatus.SUBMITTED)
    drift = tallies.drift()
    assert drift
    assert all(kept != counted for kept, counted in drift.values())
    tallies.rebuild()
    assert tallies.drift() == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_adding_to_one_count_at_once_lose_nothing():
    """A colleague's change of the same (year, unit, status) is not yet committed: ours waits
    on its row and then adds to it, so neither change is lost."""
    unit = factories.UnitFactory()
    key = (2020, unit.pk, ItemStatus.OPEN)
    while_uncommitted(lambda: tallies.shift({key: 1}), lambda: tallies.shift({key: 1}))
    assert StatusTally.objects.get(round_year=2020, unit=unit, status=ItemStatus.OPEN).items == 2
    StatusTally.objects.all().delete()  # no items behind them: leave no drift


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_year_corrected_while_someone_changes_an_item_of_the_round_counts_the_change_once():
    """A colleague's plan decision (整改中) is not yet committed when the back-office corrects
    the round's year: the correction waits for the item and counts it as it then is."""
    unit = factories.UnitFactory()
    item = factories.ItemFactory(
        recommendation__finding__result__round=factories.RoundFactory(year=2019),
        recommendation__finding__result__project__unit=unit,
        unit=unit,
    )
    member, staff = factories.UnitStaffFactory(unit=unit), factories.StaffUserFactory()
    plan = services.submit_plan(
        item=item,
        actor=services.Actor(user=member),
        rectification_type="immediate",
        measures="建立制度。",
        agreement="agree",
    )
    round_ = EvaluationRound.objects.get(year=2019)
    round_.year = 2018
    round_.save()
    changed = while_uncommitted(
        lambda: services.decide_plan(plan=plan, actor=services.Actor(user=staff), accept=True),
        lambda: services.sync_copies(recommendation__finding__result__round=round_),
    )
    assert changed == 1
    assert tallies.per_status(year=2018, unit=unit) == {ItemStatus.IN_PROGRESS: 1}
    assert tallies.per_status(year=2019, unit=unit) == {}
    assert tallies.drift() == {}
