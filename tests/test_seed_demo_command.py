"""python manage.py seed_demo: demo accounts and a lived-in 2020 ledger, DEBUG only."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from accounts.models import User
from accounts.roles import Role
from devdata.management.commands.seed_demo import DEMO_PASSWORD
from evaluations.models import Unit
from rectification import services
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    EventAction,
    ExtensionStatus,
    FollowUpStatus,
    ItemStatus,
    MilestoneStatus,
    PlanStatus,
    RectificationType,
    RepeatStatus,
)
from rectification.models import (
    Event,
    Evidence,
    ExtensionRequest,
    FollowUp,
    Milestone,
    ProgressUpdate,
    RectificationPlan,
    RepeatLink,
)
from rectification.models import RectificationItem as Item
from rectification.repeats import repeat_candidates
from tests import factories
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2021, 6, 15)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2021, 6, 15, 10, 0, tzinfo=datetime.UTC)):
        yield


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _footprint() -> dict[str, object]:
    return {
        "users": User.objects.count(),
        "events": Event.objects.count(),
        "progress": ProgressUpdate.objects.count(),
        "evidence": Evidence.objects.count(),
        "extensions": ExtensionRequest.objects.count(),
        "plans": RectificationPlan.objects.count(),
        "milestones": sorted(Milestone.objects.values_list("id", "status")),
        "follow_ups": sorted(FollowUp.objects.values_list("id", "status")),
        "items": sorted(Item.objects.values_list("id", "status", "deadline", "owner", "version")),
        "passwords": sorted(User.objects.values_list("username", "password")),
    }


def test_it_refuses_to_run_with_debug_off(liwan_2020):
    before = _footprint()

    with pytest.raises(CommandError, match="DEBUG"):
        _seed()

    assert _footprint() == before
    assert not User.objects.exists()


def test_it_asks_for_the_2020_import_first(debug):
    with pytest.raises(CommandError, match="import_evaluations"):
        _seed()
    assert not User.objects.exists()


def test_it_creates_two_reviewers_one_oversight_and_two_users_per_unit(liwan_2020, debug):
    _seed()

    for username in ("pingjia", "fuhe"):
        staff = User.objects.get(username=username)
        assert staff.is_staff and not staff.is_superuser and staff.unit is None
        assert list(staff.groups.values_list("name", flat=True)) == [Role.EVALUATION_STAFF]
    oversight = User.objects.get(username="jiandu")
    assert not oversight.is_staff and oversight.unit is None
    assert list(oversight.groups.values_list("name", flat=True)) == [Role.OVERSIGHT]
    assert staff.check_password(DEMO_PASSWORD) and oversight.check_password(DEMO_PASSWORD)

    units = Unit.objects.all()
    assert units.count() == 10
    first = Unit.objects.get(projects__results__seq=1)
    assert User.objects.get(username="unit01.staff").unit == first
    for unit in units:
        members = {u.username: u for u in User.objects.filter(unit=unit)}
        assert len(members) == 2, unit
        [number] = {name.partition(".")[0] for name in members}
        staff_user, head = members[f"{number}.staff"], members[f"{number}.head"]
        assert list(staff_user.groups.values_list("name", flat=True)) == [Role.UNIT_STAFF]
        assert list(head.groups.values_list("name", flat=True)) == [Role.UNIT_HEAD]
        assert not staff_user.is_staff and not head.is_staff
        assert unit.short_name and unit.email
    assert User.objects.count() == 3 + 10 * 2


def test_it_numbers_the_units_by_the_2020_table_even_after_a_later_year(liwan_2020, debug):
    last_2020 = Unit.objects.get(projects__results__seq=10)
    factories.ResultFactory(
        round=factories.RoundFactory(year=2021),
        project=factories.ProjectFactory(unit=last_2020),
        seq=1,
    )

    _seed()

    assert User.objects.get(username="unit10.staff").unit == last_2020
    assert (
        User.objects.get(username="unit01.head")
        .unit.projects.filter(results__round__year=2020, results__seq=1)
        .exists()
    )


def test_it_spreads_the_2020_items_over_the_workflow(liwan_2020, debug):
    _seed()

    items = Item.objects.all()
    assert items.count() == 22
    statuses = set(items.values_list("status", flat=True))
    assert set(ItemStatus.values) <= statuses
    assert items.overdue(TODAY).exists()
    due_soon = items.exclude(status=ItemStatus.CLOSED).filter(
        deadline__gte=TODAY, deadline__lte=TODAY + datetime.timedelta(days=7)
    )
    assert due_soon.exists()
    assert ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).exists()
    assert items.filter(owner__isnull=True).exists()  # still to be assigned
    for item in items.filter(owner__isnull=False).select_related("owner"):
        assert item.owner.unit_id == item.unit_id
    closed = items.filter(status=ItemStatus.CLOSED)
    assert not closed.filter(closure_outcome="").exists()
    assert Evidence.objects.filter(progress__item__in=closed).exists()


def test_it_shows_every_step_of_the_practice_workflow(liwan_2020, debug):
    _seed()

    items = Item.objects.all()
    # Plans: one waiting for its due date, one past it, and plans in every state.
    no_plan = items.filter(owner__isnull=False, plans__isnull=True)
    assert no_plan.filter(plan_due__gte=TODAY).exists()
    assert no_plan.filter(plan_due__lt=TODAY).exists()
    assert {PlanStatus.SUBMITTED, PlanStatus.ACCEPTED, PlanStatus.RETURNED} <= set(
        RectificationPlan.objects.values_list("status", flat=True)
    )
    revised = RectificationPlan.objects.filter(version=2, status=PlanStatus.SUBMITTED).get()
    assert revised.item.plans.filter(version=1, status=PlanStatus.ACCEPTED).exists()
    assert set(RectificationType.values) <= set(items.values_list("rectification_type", flat=True))
    assert RectificationPlan.objects.filter(agreement=Agreement.DISAGREE).exists()
    # Milestones: accepted, reported and open, one of them overdue.
    assert set(MilestoneStatus.values) == set(Milestone.objects.values_list("status", flat=True))
    assert Milestone.objects.filter(status=MilestoneStatus.OPEN, deadline__lt=TODAY).exists()
    # The unit head's sign-off: one waiting, one sent back inside the unit.
    assert items.filter(status=ItemStatus.HEAD_REVIEW).exists()
    assert Event.objects.filter(action=EventAction.HEAD_RETURNED).exists()
    # Second review: one for each demo reviewer, so both can close something.
    first_reviewers = set(
        items.filter(status=ItemStatus.SECOND_REVIEW).values_list(
            "first_reviewer__username", flat=True
        )
    )
    assert first_reviewers == {"pingjia", "fuhe"}
    # Closures by two people, with the new outcomes.
    for item in items.filter(status=ItemStatus.CLOSED):
        closing = item.events.get(action=EventAction.CLOSED)
        assert closing.actor_id != closing.after["first_reviewer"]
    assert {
        ClosureOutcome.RECTIFIED,
        ClosureOutcome.ONGOING,
        ClosureOutcome.NOT_APPLICABLE,
    } <= set(items.values_list("closure_outcome", flat=True))
    # 回头看: one held, one due, one scheduled ahead, one relapse that reopened its item.
    follow_ups = FollowUp.objects.all()
    assert follow_ups.filter(status=FollowUpStatus.PASSED).exists()
    assert follow_ups.filter(status=FollowUpStatus.SCHEDULED, due_on__lt=TODAY).exists()
    assert follow_ups.filter(status=FollowUpStatus.SCHEDULED, due_on__gt=TODAY).exists()
    relapse = follow_ups.get(status=FollowUpStatus.FAILED).item
    assert relapse.status == ItemStatus.OPEN and relapse.relapsed_at is not None
    assert relapse.deadline > TODAY


def test_it_records_an_event_for_every_change(liwan_2020, debug):
    _seed()

    # Each service call bumps the version once and writes exactly one event, so a version of
    # 1 + (events after the import's "created") means no change went unrecorded.
    items = Item.objects.annotate(
        changes=Count("events", filter=~Q(events__action=EventAction.CREATED))
    )
    for item in items:
        assert item.changes >= 1, item
        assert item.version == 1 + item.changes, item
    for item in items.exclude(status=ItemStatus.OPEN):
        actions = set(item.events.values_list("action", flat=True))
        assert EventAction.ASSIGNED in actions
        assert EventAction.PLAN_SUBMITTED in actions
        if item.status in {ItemStatus.SUBMITTED, ItemStatus.CLOSED}:
            assert EventAction.SUBMITTED in actions
        if item.status == ItemStatus.CLOSED:
            assert EventAction.CLOSED in actions
    for progress in ProgressUpdate.objects.all():
        assert Event.objects.filter(
            item=progress.item,
            action__in=[EventAction.PROGRESS, EventAction.MILESTONE_REPORTED],
            after__progress=progress.pk,
        ).exists()
    for extension in ExtensionRequest.objects.all():
        assert Event.objects.filter(
            item=extension.item,
            action=EventAction.EXTENSION_REQUESTED,
            after__extension=extension.pk,
        ).exists()
    assert not Event.objects.filter(actor__isnull=True).exclude(action=EventAction.CREATED)


def test_it_changes_nothing_when_run_twice(liwan_2020, debug):
    _seed()
    first = _footprint()

    _seed()

    assert _footprint() == first


def test_it_closes_the_made_up_2019_items_and_confirms_one_repeat(liwan_2020, debug):
    call_command("import_evaluations", str(FIXTURES / "liwan_2019_demo.yaml"), stdout=io.StringIO())
    _seed()
    assert set(Item.objects.filter(round_year=2019).values_list("status", flat=True)) == {
        ItemStatus.CLOSED
    }
    (link,) = RepeatLink.objects.all()
    assert link.status == RepeatStatus.CONFIRMED
    assert (link.item.round_year, link.item.recommendation.finding.title) == (
        2020,
        "信息系统开发仍有进步空间。",
    )
    assert link.earlier.recommendation.finding.title == "信息系统功能仍有较大进步空间。"
    # The other likely repeat waits for staff.
    assert [c.item.recommendation.finding.title for c in repeat_candidates(year=2020)] == [
        "前期预设工作有待加强。"
    ]
    before = _footprint()
    _seed()
    assert _footprint() == before
    assert RepeatLink.objects.count() == 1


def test_it_leaves_a_2019_item_someone_already_worked_on(liwan_2020, debug):
    call_command("import_evaluations", str(FIXTURES / "liwan_2019_demo.yaml"), stdout=io.StringIO())
    worked = Item.objects.filter(round_year=2019).order_by("pk").last()
    staff = factories.StaffUserFactory()
    services.assign(
        item=worked,
        actor=services.Actor(user=staff),
        owner=None,
        deadline=TODAY + datetime.timedelta(days=30),
    )
    _seed()
    worked.refresh_from_db()
    assert worked.status == ItemStatus.OPEN
    assert Item.objects.filter(round_year=2019, status=ItemStatus.CLOSED).count() == 3
