"""python manage.py seed_scale: synthetic benchmark data that the pages and rules accept."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role, roles_of
from devdata.scale import SCALE_PASSWORD, SCALE_STAFF_USERNAME
from evaluations.models import EvaluationRound, Finding, Unit
from rectification.choices import EventAction, ItemStatus
from rectification.models import Event, Evidence, ProgressUpdate, RectificationItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)):
        yield


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def _seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_scale", stdout=out, **{"units": 6, "items": 300, "years": 3, **options})
    return out.getvalue()


def test_it_writes_exactly_the_units_items_and_years_asked_for(debug):
    output = _seed()
    assert Unit.objects.count() == 6
    assert RectificationItem.objects.count() == 300
    assert list(EvaluationRound.objects.values_list("year", flat=True).order_by("year")) == [
        2023,
        2024,
        2025,
    ]
    assert "300 条整改事项" in output


def test_every_item_belongs_to_the_unit_of_its_project_and_has_its_history(debug):
    _seed()
    mismatched = RectificationItem.objects.exclude(
        unit=F("recommendation__finding__result__project__unit")
    )
    assert not mismatched.exists()
    without_creation = RectificationItem.objects.exclude(events__action=EventAction.CREATED)
    assert not without_creation.exists()
    # Items past "open" have measures, progress and (mostly) evidence, as the services write.
    started = RectificationItem.objects.exclude(status=ItemStatus.OPEN)
    assert not started.filter(measures="").exists()
    assert not started.annotate(n=Count("progress")).filter(n=0).exists()
    assert Evidence.objects.exists()
    assert ProgressUpdate.objects.count() >= started.count()
    assert Event.objects.filter(action=EventAction.CLOSED).count() == (
        RectificationItem.objects.filter(status=ItemStatus.CLOSED).count()
    )


def test_it_mixes_states_with_the_newest_year_least_closed(debug):
    _seed(items=1200)
    by_year = {}
    for year in (2023, 2025):
        items = RectificationItem.objects.filter(recommendation__finding__result__round__year=year)
        by_year[year] = items.filter(status=ItemStatus.CLOSED).count() / items.count()
    assert by_year[2023] > 0.7
    assert by_year[2025] < 0.4
    statuses = set(RectificationItem.objects.values_list("status", flat=True))
    assert statuses == set(ItemStatus.values)


def test_findings_carry_problem_categories(debug):
    _seed()
    assert not Finding.objects.filter(categories=None).exists()


def test_its_evidence_points_at_real_stored_files(debug):
    _seed()
    evidence = Evidence.objects.first()
    with default_storage.open(evidence.file.name) as stored:
        assert stored.read().startswith(b"%PDF")


def test_its_accounts_sign_in_and_see_their_scope(debug, client):
    _seed()
    staff = User.objects.get(username=SCALE_STAFF_USERNAME)
    assert Role.EVALUATION_STAFF in roles_of(staff)
    signed_in = client.post(
        reverse("login"), {"username": "scale0001.staff", "password": SCALE_PASSWORD}
    )
    assert signed_in.status_code == 302
    response = client.get(reverse("rectification:ledger"))
    assert response.status_code == 200
    unit = User.objects.get(username="scale0001.staff").unit
    assert response.context["page_obj"].paginator.count == unit.items.count()


def test_it_refuses_a_year_that_already_has_a_round(debug):
    EvaluationRound.objects.create(year=2024, title="2024年度")
    with pytest.raises(CommandError, match="2024"):
        _seed()
    assert not RectificationItem.objects.exists()


def test_it_refuses_to_run_twice(debug):
    _seed(years=1, last_year=2019)
    with pytest.raises(CommandError, match="seed_scale"):
        _seed()


def test_it_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        _seed()
    assert not Unit.objects.exists()


def test_it_refuses_fewer_items_than_units(debug):
    with pytest.raises(CommandError, match="条目数"):
        _seed(units=10, items=5)


def test_long_overdue_items_are_already_escalated_as_the_daily_sweep_would_have(debug, settings):
    _seed()
    after = datetime.timedelta(days=settings.LIWAN_REMINDER_ESCALATE_AFTER_DAYS)
    today = datetime.date(2026, 11, 27)
    open_items = RectificationItem.objects.exclude(status=ItemStatus.CLOSED)
    long_overdue = open_items.filter(deadline__lt=today - after)
    assert long_overdue.exists()
    assert not long_overdue.filter(escalated_at=None).exists()
    assert not open_items.filter(deadline__gte=today - after).exclude(escalated_at=None).exists()
    assert Event.objects.filter(action=EventAction.ESCALATED).count() == long_overdue.count()


def test_its_search_text_is_what_the_sync_writes_and_the_keyword_search_finds_it(debug):
    _seed()
    before = dict(RectificationItem.objects.values_list("pk", "search_text"))
    RectificationItem.objects.all().sync_from_evaluation()
    assert dict(RectificationItem.objects.values_list("pk", "search_text")) == before
    finding = Finding.objects.first()
    word = finding.body[2:8]
    assert RectificationItem.objects.filter(search_text__icontains=word).exists()


def test_its_history_never_runs_past_the_closure_or_today(debug):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC)):
        _seed()
    now = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC)
    assert not Event.objects.filter(created_at__gt=now).exists()
    assert not RectificationItem.objects.filter(created_at__gt=now).exists()
    assert not ProgressUpdate.objects.filter(created_at__gt=now).exists()
    for item in RectificationItem.objects.filter(status=ItemStatus.CLOSED)[:200]:
        assert not item.events.filter(created_at__gt=item.closed_at).exists()
        assert not item.progress.filter(created_at__gt=item.closed_at).exists()
