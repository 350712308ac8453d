"""The back-office lists and the item change page, as evaluation staff (not superuser) use them.

The models are discovered from ``admin.site._registry``, so a newly registered model admin is
checked too — and fails here until ``ROW_MAKERS`` knows how to build its rows.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SignIn, SignInFailure, SignInLock
from calendars.models import CalendarYear, DayKind, Holiday
from evaluations.models import EvaluationResult, EvaluationRound, Finding, FindingCategory
from rectification import services
from rectification.choices import Agreement, EventAction, RectificationType
from rectification.models import (
    Event,
    ExtensionRequest,
    FollowUp,
    Milestone,
    RectificationItem,
    RectificationPlan,
)
from reminders.models import Reminder
from results.choices import BudgetAdvice
from results.models import BudgetDecision, Publication, PublicWording
from tests import factories

pytestmark = pytest.mark.django_db

FEW, MANY = 1, 30


def _extension() -> ExtensionRequest:
    return ExtensionRequest.objects.create(
        item=factories.ItemFactory(),
        requested_deadline=datetime.date(2031, 6, 30),
        reason="需跨部门协调。",
    )


def _event() -> Event:
    """An assignment as old events stored it, the owner by id only: the list names each owner,
    so a lookup per row would show up as one more query per row."""
    item = factories.ItemFactory()
    owner = factories.UnitStaffFactory(unit=item.unit)
    return Event.objects.create(
        item=item,
        action=EventAction.ASSIGNED,
        actor=factories.StaffUserFactory(),
        ip="10.0.0.1",
        before={"owner": None, "deadline": None},
        after={"owner": owner.pk, "deadline": "2031-01-15"},
    )


def _tagged_finding() -> Finding:
    finding = factories.FindingFactory()
    finding.categories.add(FindingCategory.objects.create(name=f"类别{finding.pk}"))
    return finding


def _calendar_year() -> CalendarYear:
    year = 2100 - CalendarYear.objects.filter(year__gt=2060).count()
    calendar = CalendarYear.objects.create(year=year, source="测试")
    Holiday.objects.create(
        calendar=calendar, date=datetime.date(year, 1, 1), kind=DayKind.HOLIDAY, name="元旦"
    )
    return calendar


# One row of each registered model, built with distinct related rows (own unit, own project…)
# so that a missing select_related shows up as one more query per row.
ROW_MAKERS: dict[str, Callable[[], Model]] = {
    "auth.Group": lambda: Group.objects.create(name=f"测试组{Group.objects.count()}"),
    "accounts.User": lambda: factories.UnitStaffFactory(),
    # Sign-in records (django-axes, under the accounts proxies).
    "accounts.SignIn": lambda: SignIn.objects.create(
        username="someone", ip_address="10.0.0.1", user_agent="ua", path_info="/"
    ),
    "accounts.SignInFailure": lambda: SignInFailure.objects.create(
        username="someone", ip_address="10.0.0.1", user_agent="ua", path_info="/"
    ),
    "accounts.SignInLock": lambda: SignInLock.objects.create(
        username=f"someone{SignInLock.objects.count()}",
        ip_address="10.0.0.1",
        user_agent="ua",
        path_info="/",
        failures_since_start=5,
    ),
    "evaluations.Unit": lambda: factories.UnitFactory(),
    "evaluations.EvaluationRound": lambda: factories.RoundFactory(
        year=2000 + EvaluationRound.objects.count()
    ),
    "evaluations.Project": lambda: factories.ProjectFactory(),
    "evaluations.EvaluationResult": lambda: factories.ResultFactory(
        round=factories.RoundFactory(year=2000 + EvaluationResult.objects.count())
    ),
    "evaluations.Finding": _tagged_finding,
    "evaluations.FindingCategory": lambda: FindingCategory.objects.create(
        name=f"测试类别{FindingCategory.objects.count()}"
    ),
    "calendars.CalendarYear": _calendar_year,
    "calendars.Holiday": lambda: _calendar_year().days.get(),
    "evaluations.Recommendation": lambda: factories.RecommendationFactory(),
    "rectification.RectificationItem": lambda: factories.ItemFactory(
        owner=factories.UnitStaffFactory(),
        deadline=datetime.date(2030, 1, 1)
        + datetime.timedelta(days=RectificationItem.objects.count()),
    ),
    "rectification.ProgressUpdate": lambda: factories.ProgressFactory(
        author=factories.UnitStaffFactory()
    ),
    "rectification.Evidence": lambda: factories.EvidenceFactory(
        uploaded_by=factories.UnitStaffFactory()
    ),
    "rectification.ExtensionRequest": _extension,
    "rectification.RectificationPlan": lambda: RectificationPlan.objects.create(
        item=factories.ItemFactory(),
        version=1,
        rectification_type=RectificationType.STAGED,
        measures="一是成立专班。",
        agreement=Agreement.AGREE,
        submitted_by=factories.UnitStaffFactory(),
    ),
    "rectification.Milestone": lambda: Milestone.objects.create(
        item=factories.ItemFactory(),
        number=1,
        title="完成排查",
        deadline=datetime.date(2030, 6, 30),
    ),
    "rectification.FollowUp": lambda: FollowUp.objects.create(
        item=factories.ItemFactory(),
        due_on=datetime.date(2030, 6, 30),
        scheduled_by=factories.StaffUserFactory(),
    ),
    "rectification.Event": _event,
    "results.BudgetDecision": lambda: BudgetDecision.objects.create(
        result=factories.ResultFactory(),
        advice=BudgetAdvice.REDUCE,
        proposed=BudgetAdvice.SUPPORT,
        reason="项目已调整实施范围",
        decided_by=factories.StaffUserFactory(),
    ),
    "results.Publication": lambda: Publication.objects.create(
        year=2030,
        number=Publication.objects.count() + 1,
        title="荔湾区2030年度财政支出绩效评价问题整改情况",
        content={"format": 1},
        sha256="0" * 64,
        published_by=factories.StaffUserFactory(),
    ),
    "results.PublicWording": lambda: PublicWording.objects.create(
        item=factories.ItemFactory(),
        problem="问题",
        measures="措施",
        edited_by=factories.StaffUserFactory(),
    ),
    "reminders.Reminder": lambda: Reminder.objects.create(
        item=factories.ItemFactory(),
        recipient=factories.UnitStaffFactory(),
        role="to",
        rule="overdue",
        period=datetime.date(2030, 1, 1),
        next_attempt_at=timezone.now(),
    ),
}
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def _changelist(model: type[Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_it_lists_every_registered_model_for_staff_in_constant_queries(client, staff, model):
    make = ROW_MAKERS.get(model._meta.label)
    if make is None:
        pytest.fail(f"{model._meta.label} is registered in the admin: add a row maker for it")
    url = _changelist(model)
    baseline = model._default_manager.count()  # the staff user and the role groups already exist
    make()
    assert client.get(url).status_code == 200  # warm the per-process caches (content types…)

    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == baseline + FEW

    for _ in range(MANY - FEW):
        make()
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == baseline + MANY
    assert len(many) == len(few), (
        f"{model._meta.label}: {len(few)} queries for {FEW} row, {len(many)} for {MANY}"
    )


# --- the item change page: owner and deadline go through services.assign ---------------------


@pytest.fixture
def item():
    return factories.ItemFactory(deadline=datetime.date(2030, 12, 31))


def _change_url(item: RectificationItem) -> str:
    return reverse("admin:rectification_rectificationitem_change", args=[item.pk])


def _rendered_version(client, item: RectificationItem) -> str:
    """The version the change page carries in its hidden field, as a browser would send it."""
    response = client.get(_change_url(item))
    assert response.status_code == 200
    match = re.search(r'name="expected_version" value="(\d+)"', response.content.decode())
    assert match, "the change page must carry the version it was rendered with"
    return match.group(1)


def _assigned(item: RectificationItem) -> list[Event]:
    return list(Event.objects.filter(item=item, action=EventAction.ASSIGNED).order_by("id"))


def test_it_saves_owner_and_deadline_through_the_assign_service(client, staff, item):
    member = factories.UnitStaffFactory(unit=item.unit)
    version = _rendered_version(client, item)

    response = client.post(
        _change_url(item),
        {"owner": member.pk, "deadline": "2031-03-31", "expected_version": version},
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.owner == member
    assert item.deadline == datetime.date(2031, 3, 31)
    assert item.version == 2
    [event] = Event.objects.filter(item=item)
    assert event.action == EventAction.ASSIGNED
    assert event.actor == staff
    assert event.before == {
        "owner": None,
        "owner_name": "",
        "deadline": "2030-12-31",
        "deadline_source": "",
    }
    assert event.after == {
        "owner": member.pk,
        "owner_name": member.display_name,
        "deadline": "2031-03-31",
        "deadline_source": "assignment",
        "deadline_reason": "",
    }


def test_it_refuses_an_owner_from_another_unit(client, staff, item):
    outsider = factories.UnitStaffFactory()
    version = _rendered_version(client, item)

    response = client.post(
        _change_url(item),
        {"owner": outsider.pk, "deadline": "2030-12-31", "expected_version": version},
        follow=True,
    )

    assert "责任人必须是责任单位的人员" in response.content.decode()
    item.refresh_from_db()
    assert item.owner is None
    assert item.version == 1
    assert _assigned(item) == []


def test_it_does_not_overwrite_an_item_edited_after_the_page_was_opened(client, staff, item):
    version = _rendered_version(client, item)
    colleague = services.Actor(user=factories.StaffUserFactory())
    services.assign(item=item, actor=colleague, owner=None, deadline=datetime.date(2031, 1, 15))

    response = client.post(
        _change_url(item),
        {"owner": "", "deadline": "2031-06-30", "expected_version": version},
        follow=True,
    )

    content = response.content.decode()
    assert "已被他人修改" in content
    assert "成功" not in content
    item.refresh_from_db()
    assert item.deadline == datetime.date(2031, 1, 15)
    assert item.version == 2
    assert [e.actor for e in _assigned(item)] == [colleague.user]


def test_it_writes_nothing_when_the_form_is_saved_unchanged(client, staff, item):
    version = _rendered_version(client, item)

    response = client.post(
        _change_url(item), {"owner": "", "deadline": "2030-12-31", "expected_version": version}
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.version == 1
    assert not Event.objects.filter(item=item).exists()


# --- the audit trail is read-only in the back-office --------------------------------------------


@pytest.fixture
def superuser(client):
    user = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_it_offers_no_way_to_add_change_or_delete_events(client, who, request):
    request.getfixturevalue(who)
    event = _event()
    snapshot = (event.action, event.note, event.actor_id)

    assert client.get(_changelist(Event)).status_code == 200
    assert client.get(reverse("admin:rectification_event_add")).status_code == 403
    assert client.post(reverse("admin:rectification_event_add"), {}).status_code == 403
    change = reverse("admin:rectification_event_change", args=[event.pk])
    assert client.get(change).status_code == 200  # a read-only view
    assert client.post(change, {"action": "closed", "note": "篡改"}).status_code == 403
    delete = reverse("admin:rectification_event_delete", args=[event.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    response = client.post(
        _changelist(Event), {"action": "delete_selected", "_selected_action": [event.pk]}
    )
    assert "delete_selected" not in response.content.decode()

    event.refresh_from_db()
    assert (event.action, event.note, event.actor_id) == snapshot
    assert Event.objects.count() == 1


# --- accounts: staff manage users but cannot raise anyone above themselves ---------------------


def _user_form(user) -> dict[str, object]:
    return {
        "username": user.username,
        "email": user.email,
        "full_name": "改过的姓名",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [g.pk for g in user.groups.all()],
        "date_joined_0": "2024-01-01",
        "date_joined_1": "09:00:00",
    }


def test_it_lets_staff_edit_a_user_but_not_make_anyone_superuser(client, staff):
    url = reverse("admin:accounts_user_change", args=[staff.pk])

    response = client.post(url, _user_form(staff))

    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.full_name == "改过的姓名"
    assert not staff.is_superuser


def test_it_lets_only_a_superuser_change_a_superuser(client, staff):
    boss = factories.UserFactory(is_staff=True, is_superuser=True)
    change = reverse("admin:accounts_user_change", args=[boss.pk])
    password = reverse("admin:auth_user_password_change", args=[boss.pk])

    assert client.get(change).status_code == 200  # visible, read-only
    assert client.post(change, _user_form(boss)).status_code == 403
    assert client.get(password).status_code == 403
    boss.refresh_from_db()
    assert boss.full_name != "改过的姓名"


# --- the audit trail in words, as on the item page ------------------------------------------------


def test_it_shows_what_each_event_changed_in_words_in_the_list_and_on_the_record(client, staff):
    item = factories.ItemFactory()
    zhang = factories.UnitStaffFactory(unit=item.unit, full_name="张三")
    li = factories.UnitStaffFactory(unit=item.unit, full_name="李四")
    old = Event.objects.create(  # ids only, as events were stored before names were kept
        item=item,
        action=EventAction.ASSIGNED,
        before={"owner": zhang.pk, "deadline": "2027-01-15"},
        after={"owner": li.pk, "deadline": "2027-02-28"},
    )
    actor = services.Actor(user=factories.StaffUserFactory())
    services.submit_plan(
        item=item,
        actor=services.Actor(user=zhang),
        rectification_type=RectificationType.IMMEDIATE,
        measures="一是成立专班；" + "二是逐项整改；" * 40,
        agreement=Agreement.AGREE,
    )
    services.assign(
        item=item, actor=actor, owner=zhang, deadline=datetime.date(2031, 6, 30), reason="统一调整"
    )

    page = client.get(_changelist(Event), {"item__unit__id__exact": item.unit_id})

    content = page.content.decode()
    assert "变更内容" in content
    assert "责任人：张三 → 李四</div><div>整改时限：2027-01-15 → 2027-02-28" in content
    assert (
        "责任人：无 → 张三</div><div>整改时限：无 → 2031-06-30</div><div>时限依据：评价管理员设定</div><div>统一调整"
        in content
    )
    assert (
        "整改方案第 1 版：立行立改</div><div>对问题的认同：认同</div><div>一是成立专班；二是逐项整改；"
        in content
    )
    assert "二是逐项整改；" * 40 not in content  # long texts are cut short in the list

    record = client.get(reverse("admin:rectification_event_change", args=[old.pk]))
    assert record.status_code == 200
    assert (
        "责任人：张三 → 李四</div><div>整改时限：2027-01-15 → 2027-02-28" in record.content.decode()
    )
    measures = Event.objects.get(item=item, action=EventAction.PLAN_SUBMITTED)
    record = client.get(reverse("admin:rectification_event_change", args=[measures.pk]))
    assert "二是逐项整改；" * 40 in record.content.decode()  # the record shows it in full
