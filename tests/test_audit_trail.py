"""The audit trail: every state-changing endpoint writes exactly one event per item it changes,
and events are append-only — the application refuses updates and deletes, and on PostgreSQL a
trigger refuses them for everything else.

The endpoints are read from the URL configuration and the admin registry, like
tests/test_permission_matrix.py: a new URL or a new writable back-office model fails here until
it is classified (item action with its scenario, or why it writes no item event).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from liwan import clock
from rectification import services
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    EventAction,
    ItemStatus,
    RectificationType,
    VerificationMethod,
)
from rectification.models import Event, ExtensionRequest, Milestone, RectificationItem
from rectification.uploads import check_evidence
from tests import factories, images, workflow

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"
IP = "10.9.8.7"


@dataclass
class World:
    item: RectificationItem
    member: Any  # unit staff of the item's unit
    head: Any  # the unit's head
    staff: Any  # evaluation staff (the first reviewer)
    staff2: Any  # another evaluation staff member (the second reviewer)

    def act(self, user: Any) -> services.Actor:
        return services.Actor(user=user, ip="10.0.0.1")

    def fresh(self) -> RectificationItem:
        self.item.refresh_from_db()
        return self.item

    def user(self, who: str) -> Any:
        return getattr(self, who)


@pytest.fixture
def world() -> World:
    member = factories.UnitStaffFactory()
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=member.unit,
        owner=member,
        deadline=clock.today() + datetime.timedelta(days=30),
    )
    return World(
        item=item,
        member=member,
        head=factories.UnitHeadFactory(unit=member.unit),
        staff=factories.StaffUserFactory(),
        staff2=factories.StaffUserFactory(),
    )


def _evidence() -> Any:
    return check_evidence(SimpleUploadedFile("佐证.pdf", PDF))


def _plan_pending(w: World) -> None:
    services.submit_plan(
        item=w.item,
        actor=w.act(w.member),
        rectification_type=RectificationType.STAGED,
        measures="一是建立制度；二是加强培训。",
        agreement=Agreement.AGREE,
        milestones=[services.PlannedMilestone("建立制度", clock.today(), "制度文件")],
    )


def _plan_accepted(w: World) -> Milestone:
    _plan_pending(w)
    services.decide_plan(plan=w.item.plans.get(), actor=w.act(w.staff), accept=True)
    return w.item.milestones.get()


def _milestone_reported(w: World) -> Milestone:
    milestone = _plan_accepted(w)
    services.report_milestone(
        milestone=milestone, actor=w.act(w.member), note="制度已印发", files=[_evidence()]
    )
    return milestone


def _ready(w: World) -> None:
    milestone = _milestone_reported(w)
    services.decide_milestone(milestone=milestone, actor=w.act(w.staff), accept=True)


def _at_the_head(w: World) -> None:
    _ready(w)
    w.item.unit.head_signoff = True
    w.item.unit.save()
    services.submit(item=w.item, actor=w.act(w.member))


def _submitted(w: World) -> None:
    _ready(w)
    services.submit(item=w.item, actor=w.act(w.member))


def _first_reviewed(w: World) -> None:
    _submitted(w)
    services.first_review(
        item=w.item,
        actor=w.act(w.staff),
        outcome=ClosureOutcome.RECTIFIED,
        method=VerificationMethod.DOCUMENT_REVIEW,
        verified_by="张三",
        verified_on=clock.today(),
        note="核查通过",
    )


def _closed(w: World) -> None:
    _first_reviewed(w)
    services.second_review(item=w.item, actor=w.act(w.staff2), confirm=True)


def _follow_up_scheduled(w: World) -> None:
    _closed(w)
    services.schedule_follow_up(item=w.item, actor=w.act(w.staff), due_on=clock.today())


def _pending_extension(w: World) -> ExtensionRequest:
    return services.request_extension(
        item=w.item,
        actor=w.act(w.member),
        requested_deadline=w.item.deadline + datetime.timedelta(days=30),
        reason="需跨部门协调",
    )


@dataclass(frozen=True)
class Scenario:
    """A valid POST to an item endpoint: who sends it, after which setup, with what data."""

    who: str  # an attribute of World: member, head, staff, staff2
    data: Callable[[World, Any], dict[str, Any]]
    action: EventAction
    setup: Callable[[World], Any] = lambda w: None


def _v(w: World) -> dict[str, Any]:
    return {"version": w.fresh().version}


ITEM_ENDPOINTS: dict[str, Scenario] = {
    "rectification:item-assign": Scenario(
        "staff",
        lambda w, made: {**_v(w), "owner": w.member.pk, "deadline": "2031-06-30"},
        EventAction.ASSIGNED,
    ),
    "rectification:item-plan": Scenario(
        "member",
        lambda w, made: {
            **_v(w),
            "rectification_type": RectificationType.IMMEDIATE,
            "measures": "一是建立制度；二是加强培训。",
            "agreement": Agreement.AGREE,
        },
        EventAction.PLAN_SUBMITTED,
    ),
    "rectification:item-plan-decide": Scenario(
        "staff",
        lambda w, made: {**_v(w), "decision": "accept", "note": ""},
        EventAction.PLAN_ACCEPTED,
        setup=_plan_pending,
    ),
    "rectification:item-progress": Scenario(
        "member",
        lambda w, made: {
            **_v(w),
            "note": "已完成第一阶段",
            # Two files, one event: the event is the report, the files are its evidence.
            "files": [
                SimpleUploadedFile("方案.pdf", PDF),
                SimpleUploadedFile("照片.png", images.png()),
            ],
        },
        EventAction.PROGRESS,
    ),
    "rectification:item-milestone-report": Scenario(
        "member",
        lambda w, milestone: {
            **_v(w),
            "milestone": milestone.pk,
            "note": "制度已印发",
            "files": [SimpleUploadedFile("制度.pdf", PDF)],
        },
        EventAction.MILESTONE_REPORTED,
        setup=_plan_accepted,
    ),
    "rectification:item-milestone-decide": Scenario(
        "staff",
        lambda w, milestone: {**_v(w), "milestone": milestone.pk, "decision": "accept"},
        EventAction.MILESTONE_ACCEPTED,
        setup=_milestone_reported,
    ),
    "rectification:item-submit": Scenario(
        "member",
        lambda w, made: {**_v(w), "result": "已全部整改"},
        EventAction.SUBMITTED,
        setup=_ready,
    ),
    "rectification:item-head-signoff": Scenario(
        "head",
        lambda w, made: {**_v(w), "decision": "accept", "note": ""},
        EventAction.HEAD_CONFIRMED,
        setup=_at_the_head,
    ),
    "rectification:item-return": Scenario(
        "staff",
        lambda w, made: {**_v(w), "reason": "佐证不足"},
        EventAction.RETURNED,
        setup=_submitted,
    ),
    "rectification:item-first-review": Scenario(
        "staff",
        lambda w, made: {
            **_v(w),
            "outcome": ClosureOutcome.RECTIFIED,
            "method": VerificationMethod.DOCUMENT_REVIEW,
            "verified_by": "张三",
            "verified_on": clock.today().isoformat(),
            "note": "核查通过",
        },
        EventAction.FIRST_REVIEWED,
        setup=_submitted,
    ),
    "rectification:item-second-review": Scenario(
        "staff2",
        lambda w, made: {**_v(w), "decision": "confirm", "note": ""},
        EventAction.CLOSED,
        setup=_first_reviewed,
    ),
    "rectification:item-reopen": Scenario(
        "staff",
        lambda w, made: {**_v(w), "reason": "发现虚假整改"},
        EventAction.REOPENED,
        setup=_closed,
    ),
    "rectification:item-supervision": Scenario(
        "staff",
        lambda w, made: {
            **_v(w),
            "kind": "interview",
            "happened_on": clock.today().isoformat(),
            "person": "区财政局 李局长",
            "text": "约谈单位主要负责人。",
        },
        EventAction.SUPERVISION_RECORDED,
    ),
    "rectification:item-follow-up-schedule": Scenario(
        "staff",
        lambda w, made: {**_v(w), "due_on": clock.today().isoformat()},
        EventAction.FOLLOW_UP_SCHEDULED,
        setup=_closed,
    ),
    "rectification:item-follow-up-record": Scenario(
        "staff",
        lambda w, made: {**_v(w), "holds": "yes", "finding": "整改成果保持良好"},
        EventAction.FOLLOW_UP_PASSED,
        setup=_follow_up_scheduled,
    ),
    "rectification:item-extension-request": Scenario(
        "member",
        lambda w, made: {
            **_v(w),
            "requested_deadline": (w.item.deadline + datetime.timedelta(days=60)).isoformat(),
            "reason": "需跨部门协调",
        },
        EventAction.EXTENSION_REQUESTED,
    ),
    "rectification:item-extension-decide": Scenario(
        "staff",
        lambda w, made: {**_v(w), "decision": "approve", "note": ""},
        EventAction.EXTENSION_APPROVED,
        setup=_pending_extension,
    ),
}

# Endpoints that change no ledger item, and where what they do is recorded instead.
NO_ITEM_EVENT: dict[str, str] = {
    "login": "signing in: django-axes records every attempt (AccessLog, AccessFailureLog)",
    "logout": "signing out: django-axes records it on the sign-in's AccessLog row",
    "password_change": "the user's own password: security log line (test below)",
    "password_change_done": "a page, changes nothing",
    "password_reset": "sends an e-mail, changes nothing",
    "password_reset_done": "a page, changes nothing",
    "password_reset_confirm": "sets a password from a reset link: security log line",
    "password_reset_complete": "a page, changes nothing",
    "set_language": "the interface language, kept in a cookie",
    "healthz": "liveness check, read only",
    "two_factor_verify": "the sign-in's second step: security log line, django-axes on failure",
    "two_factor_setup": "the user's own authenticator: security log line (otp_enrolled)",
    "calendars:working-days": "counts working days; may add a provisional calendar year (the law's days)",
    "rectification:ledger": "read only",
    "rectification:worklist": "read only",
    "profile": "the person's own notification setting, no item",
    "rectification:export": "read only",
    "rectification:export-job": "read only (the job's own progress)",
    "rectification:export-download": "read only",
    "rectification:item-detail": "read only",
    "rectification:evidence-download": "read only",
    "dashboard:index": "read only",
    "dashboard:unit-report": "read only",
    "dashboard:unit-report-docx": "read only",
    "dashboard:closure-list": "read only",
    "dashboard:closure-list-docx": "read only",
    "dashboard:supervision-slip": "read only",
    "dashboard:supervision-slip-docx": "read only",
    "results:budget-sheet": "read only",
    "results:leaders-report": "read only; a POST asks for a large round's stored report again "
    "(a stored computation, no item)",
    "results:leaders-report-docx": "read only",
    "results:publication-job": "read only (the job's own progress)",
    "results:public-index": "read only, public",
    "results:public-publication": "read only, public",
    "results:public-publication-docx": "read only, public",
    "results:public-publication-pdf": "read only, public",
    "results:publication": "a Publication row: who, when and the content's hash, kept for good",
    "results:public-wording": "the PublicWording row of the item keeps who edited it and when; "
    "the ledger's texts are not touched",
    "results:budget-sheet-xlsx": "read only",
    "results:budget-decision": "a project's budget advice: an append-only BudgetDecision row "
    "(who, when, the rule's advice, the reason), not an item",
}
# Endpoints that change several items at once: one event per item changed.
MULTI_ITEM_ENDPOINTS = {
    "dashboard:unit-instruction",
    "rectification:bulk-assign",
    "rectification:bulk-follow-up",
    # One ruling per POST, one event on the later item (tests/test_repeats_view.py).
    "rectification:repeats",
}


def _site_urls() -> dict[str, URLPattern]:
    found: dict[str, URLPattern] = {}

    def walk(patterns, namespace: str | None) -> None:  # type: ignore[no-untyped-def]
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.app_name != "admin":
                    walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern):
                found[f"{namespace}:{entry.name}" if namespace else entry.name] = entry

    walk(get_resolver().url_patterns, None)
    return found


def test_every_endpoint_is_classified():
    known = ITEM_ENDPOINTS.keys() | NO_ITEM_EVENT.keys() | MULTI_ITEM_ENDPOINTS
    missing = _site_urls().keys() - known
    assert not missing, f"classify these URLs in tests/test_audit_trail.py: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(ITEM_ENDPOINTS))
def test_each_item_endpoint_writes_exactly_one_event(client, world, name):
    scenario = ITEM_ENDPOINTS[name]
    made = scenario.setup(world)
    user = world.user(scenario.who)
    version = world.fresh().version
    before = set(Event.objects.values_list("pk", flat=True))
    client.force_login(user)
    response = client.post(
        reverse(name, kwargs={"pk": world.item.pk}), scenario.data(world, made), REMOTE_ADDR=IP
    )
    assert response.status_code == 302, getattr(response, "context", None) and [
        p["form"].errors for p in response.context.get("action_panels", [])
    ]
    new = Event.objects.exclude(pk__in=before)
    assert new.count() == 1
    event = new.get()
    assert (event.item_id, event.action, event.actor, event.ip) == (
        world.item.pk,
        scenario.action,
        user,
        IP,
    )
    assert world.fresh().version == version + 1


@pytest.mark.parametrize("name", sorted(ITEM_ENDPOINTS))
def test_a_refused_request_writes_no_event(client, world, name):
    scenario = ITEM_ENDPOINTS[name]
    made = scenario.setup(world)
    url = reverse(name, kwargs={"pk": world.item.pk})
    before = Event.objects.count()
    # An incomplete form, by the right person…
    client.force_login(world.user(scenario.who))
    assert client.post(url, {}).status_code == 400
    # …and a complete one by someone the rules do not allow (an oversight reader).
    client.force_login(factories.OversightFactory())
    assert client.post(url, scenario.data(world, made)).status_code == 403
    assert Event.objects.count() == before


def test_the_extension_rejection_writes_exactly_one_event(client, world):
    _pending_extension(world)
    client.force_login(world.staff)
    before = Event.objects.count()
    response = client.post(
        reverse("rectification:item-extension-decide", kwargs={"pk": world.item.pk}),
        {**_v(world), "decision": "reject", "note": "理由不充分"},
    )
    assert response.status_code == 302
    assert Event.objects.count() == before + 1
    assert Event.objects.order_by("-id").first().action == EventAction.EXTENSION_REJECTED


def test_bulk_assignment_writes_one_event_per_item(client, world):
    other = factories.ItemFactory(
        recommendation__finding__result__project__unit=world.item.unit,
        deadline=world.item.deadline,
    )
    items = [world.item, other]
    client.force_login(world.staff)
    url = reverse("rectification:bulk-assign") + f"?items={items[0].pk}&items={items[1].pk}"
    versions = ",".join(f"{i.pk}:{i.version}" for i in items)
    before = Event.objects.count()
    response = client.post(
        url, {"step": "confirm", "versions": versions, "deadline": "2031-12-31"}, REMOTE_ADDR=IP
    )
    assert response.status_code == 302
    new = Event.objects.order_by("id")[before:]
    assert sorted(e.item_id for e in new) == sorted(i.pk for i in items)
    assert {(e.action, e.actor_id, e.ip) for e in new} == {
        (EventAction.ASSIGNED, world.staff.pk, IP)
    }


def test_bulk_follow_up_scheduling_writes_one_event_per_item(client, world):
    items = []
    for _ in range(2):
        item, owner = workflow.owned_item(deadline=world.item.deadline)
        items.append(workflow.closed(workflow.submitted(item, owner)))
    client.force_login(world.staff)
    url = reverse("rectification:bulk-follow-up") + f"?items={items[0].pk}&items={items[1].pk}"
    before = Event.objects.count()

    response = client.post(url, {"months": "6"}, REMOTE_ADDR=IP)

    assert response.status_code == 302
    new = Event.objects.order_by("id")[before:]
    assert sorted(e.item_id for e in new) == sorted(i.pk for i in items)
    assert {(e.action, e.actor_id, e.ip) for e in new} == {
        (EventAction.FOLLOW_UP_SCHEDULED, world.staff.pk, IP)
    }


def _kwargs(pattern: URLPattern, world: World, evidence: Any) -> dict:
    values = {
        "pk": world.item.pk,
        "unit_id": world.item.unit_id,
        "year": 2020,
        "uidb64": "MQ",
        "token": "set-password",
    }
    names = pattern.pattern.converters.keys()
    kwargs = {name: values[name] for name in names}
    if pattern.name == "evidence-download":
        kwargs["pk"] = evidence.pk
    if pattern.name in {"export-job", "export-download"}:
        kwargs["pk"] = uuid.uuid4()
    return kwargs


def test_no_endpoint_writes_an_event_on_an_empty_post(client, world):
    # Anything that is not a complete, valid request changes nothing: walk every URL as a unit
    # member and as staff, POST nothing, count events.
    _pending_extension(world)
    evidence = factories.EvidenceFactory(progress__item=world.item)
    before = Event.objects.count()
    for user in (world.member, world.staff):
        client.force_login(user)
        for name, pattern in _site_urls().items():
            if name in {"logout"}:
                continue  # would sign the user out; it writes no event either
            client.post(reverse(name, kwargs=_kwargs(pattern, world, evidence)), {})
    assert Event.objects.count() == before


def test_password_changes_are_in_the_security_log(client, world, caplog):
    caplog.set_level(logging.INFO, logger="liwan.security")
    client.force_login(world.member)
    client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery",
            "new_password1": "A-better-pass-2026",
            "new_password2": "A-better-pass-2026",
        },
        REMOTE_ADDR=IP,
    )
    logged = [
        r.security
        for r in caplog.records
        if r.name == "liwan.security" and r.security["event"] != "login_succeeded"
    ]
    assert logged == [
        {
            "event": "password_changed",
            "account": world.member.username,
            "user": world.member.username,
            "ip": IP,
        }
    ]


# --- the back-office -----------------------------------------------------------------------------

# Every model staff may add, change or delete in the back-office, and what records the change.
ADMIN_WRITES: dict[str, str] = {
    "rectification.RectificationItem": "owner and deadline through services.assign: one event",
    "evaluations.EvaluationRound": "import: one 'created' event per new item; else the admin log",
    "evaluations.Unit": "evaluation data: the admin log (LogEntry)",
    "evaluations.Project": "evaluation data: the admin log (LogEntry)",
    "evaluations.EvaluationResult": "evaluation data: the admin log (LogEntry)",
    "evaluations.Finding": "evaluation data: the admin log (LogEntry)",
    "evaluations.Recommendation": "evaluation data: the admin log (LogEntry)",
    "evaluations.FindingCategory": "reference data: the admin log (LogEntry)",
    "calendars.CalendarYear": "reference data: the admin log (LogEntry)",
    "calendars.Holiday": "reference data: the admin log (LogEntry)",
    "accounts.User": "accounts: the admin log (LogEntry); password changes the security log",
    "accounts.SignInLock": "lifting a lock: the security log ('login_unlocked')",
    "reminders.Reminder": "resending: the reminder rows themselves (status, attempts)",
}


def test_every_model_staff_can_write_in_the_back_office_is_classified(world):
    request = RequestFactory().get("/admin/")
    request.user = world.staff
    writable = {
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_add_permission(request)
        or model_admin.has_change_permission(request)
        or model_admin.has_delete_permission(request)
    }
    missing = writable - ADMIN_WRITES.keys()
    assert not missing, f"classify in ADMIN_WRITES: {sorted(missing)}"


def test_the_back_office_item_change_writes_exactly_one_event(client, world):
    client.force_login(world.staff)
    url = reverse("admin:rectification_rectificationitem_change", args=[world.item.pk])
    before = Event.objects.count()
    response = client.post(
        url,
        {
            "owner": world.member.pk,
            "deadline": "2031-03-31",
            "expected_version": world.fresh().version,
        },
    )
    assert response.status_code == 302
    assert Event.objects.count() == before + 1
    assert Event.objects.order_by("-id").first().action == EventAction.ASSIGNED


def test_an_import_writes_one_created_event_per_new_item(liwan_2020):
    items = RectificationItem.objects.count()
    assert items == 22
    assert Event.objects.filter(action=EventAction.CREATED).count() == items
    assert Event.objects.count() == items


def test_an_evaluation_data_change_in_the_back_office_is_in_the_admin_log(client, world):
    client.force_login(world.staff)
    unit = world.item.unit
    before = LogEntry.objects.count()
    response = client.post(
        reverse("admin:evaluations_unit_change", args=[unit.pk]),
        {"name": unit.name, "short_name": "新简称", "email": "unit@liwan.example"},
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    assert LogEntry.objects.count() == before + 1


# --- append-only ---------------------------------------------------------------------------------


@pytest.fixture
def event(world) -> Event:
    _plan_pending(world)
    return Event.objects.get(item=world.item)


def test_the_application_refuses_to_change_an_event(event):
    event.note = "改过了"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        Event.objects.filter(pk=event.pk).update(note="改过了")
    with pytest.raises(PermissionError), transaction.atomic():
        Event.objects.bulk_update([event], ["note"])
    assert Event.objects.get(pk=event.pk).note == ""


def test_the_application_refuses_to_delete_an_event(event):
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        Event.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        Event.objects.all().delete()
    assert Event.objects.filter(pk=event.pk).exists()


def test_an_item_with_events_cannot_be_deleted_out_from_under_them(event, world):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        world.item.delete()


@pytest.mark.postgres
def test_on_postgresql_a_trigger_refuses_updates_and_deletes_by_any_route(event):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'rectification_event'::regclass"
            " AND NOT tgisinternal"
        )
        assert [row[0] for row in cursor.fetchall()] == ["rectification_event_append_only"]
    for sql in (
        "UPDATE rectification_event SET note = 'forged' WHERE id = %s",
        "DELETE FROM rectification_event WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    # Past the queryset's own refusal too: Django's raw delete goes straight to SQL.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk)._raw_delete(Event.objects.db)
    assert Event.objects.get(pk=event.pk).note == ""
    # Appending still works.
    services.add_progress(
        item=event.item, actor=services.Actor(user=event.actor), note="继续", files=[]
    )
    assert Event.objects.filter(item=event.item).count() == 2


@pytest.mark.postgres
def test_on_postgresql_the_refusal_has_its_own_sqlstate(event):
    with (
        pytest.raises(DatabaseError) as error,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM rectification_event WHERE id = %s", [event.pk])
    assert getattr(error.value.__cause__, "sqlstate", None) == "42501"


def test_the_statuses_used_above_exist():
    # Guards the scenarios against a renamed status.
    assert {ItemStatus.SUBMITTED, ItemStatus.CLOSED} <= set(ItemStatus.values)
