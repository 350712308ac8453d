"""我的待办 (/todo/): the first page after signing in, what waits for this person.

Every section's count is the count of the ledger list its link opens (followed here with the
client, as the dashboard's figures are), the menu shows the total, and the page costs the same
number of queries for 1 item per section as for 30.

Today is Thursday 3 December 2026.
"""

from __future__ import annotations

import datetime
import html
import re

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rectification import services, worklists
from rectification.choices import ExtensionStatus, ItemStatus, MilestoneStatus, PlanStatus
from rectification.models import (
    ExtensionRequest,
    FollowUp,
    Milestone,
    RectificationItem,
    RectificationPlan,
)
from rectification.selectors import ledger
from rectification.uploads import check_evidence
from tests import factories, workflow

pytestmark = pytest.mark.django_db
URL = reverse("rectification:worklist")
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECTION = re.compile(r'<section class="card mb-3" id="todo-([\w-]+)">(.*?)</section>', re.S)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    # The menu's count is cached per person and day; ids repeat between tests.
    cache.clear()
    yield
    cache.clear()


def _days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def _accepted_plan(item: RectificationItem, **milestone) -> None:  # type: ignore[no-untyped-def]
    """An accepted plan, made directly (the fixtures set states by hand): the unit owes none."""
    RectificationPlan.objects.create(
        item=item,
        version=1,
        status=PlanStatus.ACCEPTED,
        rectification_type="staged" if milestone else "immediate",
        measures=item.measures or "措施",
        agreement="agree",
    )
    if milestone:
        Milestone.objects.create(item=item, number=1, title="阶段任务", **milestone)


def _ready(item: RectificationItem, member: services.Actor) -> None:
    workflow.plan_accepted(item, member, measures="成立专班，制定整改方案。")
    services.add_progress(
        item=item,
        actor=member,
        note="已印发方案。",
        files=[check_evidence(SimpleUploadedFile("方案.pdf", PDF, "application/pdf"))],
    )


def _submitted(item: RectificationItem, member: services.Actor, at: datetime.datetime) -> None:
    with time_machine.travel(at, tick=False):
        _ready(item, member)
        services.submit(item=item, actor=member)


def _sections(page: str) -> dict[str, tuple[int, str, list[int]]]:
    """Each section of the page: its count, the link of its list, the items it shows."""
    out = {}
    for key, body in SECTION.findall(page):
        count = int(re.search(r'data-count="(\d+)"', body).group(1))
        header = body.split("</div>", 1)[0]
        link = re.search(r'<a class="small" href="([^"]+)">', header)
        items = [int(pk) for pk in re.findall(r'href="/items/(\d+)/"', body)]
        out[key] = (count, html.unescape(link.group(1)) if link else "", items)
    return out


def _listed(client, link: str) -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get(link)
    assert response.status_code == 200, link
    rows = [item.pk for item in response.context["object_list"]]
    assert response.context["total_count"] == len(rows), link
    return rows


# --- 6. the first page after signing in ----------------------------------------------------------


@pytest.mark.parametrize("factory", [factories.UnitStaffFactory, factories.StaffUserFactory])
def test_it_is_the_first_page_after_signing_in(client, factory):
    user = factory()

    response = client.post(
        reverse("login"), {"username": user.username, "password": "correct horse battery"}
    )

    assert response.status_code == 302
    assert response["Location"] == URL == "/todo/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "rectification/worklist.html" in [t.name for t in page.templates]
    assert "我的待办" in page.content.decode()


# --- 7. a unit's worklist --------------------------------------------------------------------------


@pytest.fixture
def unit_world():
    """One unit's items, one of each case, and another unit's overdue item."""
    unit = factories.UnitFactory()
    member = services.Actor(user=factories.UnitStaffFactory(unit=unit, full_name="李经办"))
    staff = services.Actor(user=factories.StaffUserFactory(full_name="王审核"))

    def make(**kwargs):  # type: ignore[no-untyped-def]
        return factories.ItemFactory(recommendation__finding__result__project__unit=unit, **kwargs)

    def working(due, **milestone):  # type: ignore[no-untyped-def]
        item = make(status=ItemStatus.IN_PROGRESS, measures="措施", deadline=due)
        _accepted_plan(item, **milestone)
        return item

    returned = make(deadline=_days(30))
    _submitted(returned, member, NOW - datetime.timedelta(days=2))
    services.return_item(item=returned, actor=staff, reason="佐证材料不足，请补充会议纪要。")
    items = {
        "returned": returned,
        "no_plan": make(deadline=_days(30)),
        "no_plan_no_deadline": make(),
        "no_plan_due": make(deadline=_days(5)),
        "milestone_due": working(_days(40), deadline=_days(10)),
        "milestone_late": working(_days(40), deadline=_days(-1)),
        "milestone_later": working(_days(40), deadline=_days(30)),
        "milestone_reported": working(
            _days(40), deadline=_days(-1), status=MilestoneStatus.SUBMITTED
        ),
        "awaiting_head": make(
            status=ItemStatus.HEAD_REVIEW, measures="措施", deadline=_days(40), submitted_at=NOW
        ),
        "due_today": working(TODAY),
        "due_in_14": working(_days(14)),
        "due_in_15": working(_days(15)),
        "overdue": working(_days(-3)),
        "submitted_overdue": working(_days(-2)),
        "submitted_due": working(_days(3)),
        "closed_late": make(
            status=ItemStatus.CLOSED,
            closure_outcome="not_rectified",
            measures="措施",
            deadline=_days(-5),
        ),
    }
    _accepted_plan(items["awaiting_head"])
    for key in ("submitted_overdue", "submitted_due"):
        _submitted(items[key], member, NOW - datetime.timedelta(days=1))
    factories.ItemFactory(deadline=_days(-3))  # another unit's
    return {"unit": unit, "member": member.user, "items": items}


UNIT_SECTIONS = {
    "returned": {"returned"},
    "plan": {"no_plan", "no_plan_no_deadline", "no_plan_due"},
    "milestone": {"milestone_due", "milestone_late"},
    "due_soon": {"due_today", "due_in_14", "no_plan_due"},
    "overdue": {"overdue"},
}
# The head's own section comes first: the submissions only the head can move on.
HEAD_SECTIONS = {"head": {"awaiting_head"}, **UNIT_SECTIONS}


def test_it_shows_a_unit_what_is_its_move_each_count_the_rows_of_its_list(client, unit_world):
    items = unit_world["items"]
    client.force_login(unit_world["member"])

    page = client.get(URL).content.decode()

    sections = _sections(page)
    assert list(sections) == list(UNIT_SECTIONS)
    for key, expected in UNIT_SECTIONS.items():
        count, link, shown = sections[key]
        wanted = {items[name].pk for name in expected}
        assert count == len(wanted), key
        assert set(shown) == wanted, key
        assert link, key
        assert set(_listed(client, link)) == wanted, key
    submitted = {items["submitted_overdue"].pk, items["submitted_due"].pk}
    for _count, _link, shown in sections.values():
        assert not submitted & set(shown), "a submitted item waits for the bureau"


def test_it_shows_the_reason_of_a_return(client, unit_world):
    client.force_login(unit_world["member"])

    page = client.get(URL).content.decode()

    section = dict(SECTION.findall(page))["returned"]
    assert "退回：佐证材料不足，请补充会议纪要。" in section
    assert unit_world["items"]["returned"].recommendation.title in section


def test_it_shows_the_unit_head_the_same_sections_after_the_submissions_to_sign_off(
    client, unit_world
):
    client.force_login(factories.UnitHeadFactory(unit=unit_world["unit"]))

    sections = _sections(client.get(URL).content.decode())

    assert list(sections) == list(HEAD_SECTIONS)
    assert {key: count for key, (count, _l, _s) in sections.items()} == {
        key: len(names) for key, names in HEAD_SECTIONS.items()
    }
    _count, link, shown = sections["head"]
    assert shown == [unit_world["items"]["awaiting_head"].pk]
    assert _listed(client, link) == shown


def test_it_says_so_when_a_section_is_empty(client):
    client.force_login(factories.UnitStaffFactory())

    page = client.get(URL).content.decode()

    sections = _sections(page)
    assert set(sections) == set(UNIT_SECTIONS)
    assert all(count == 0 and not link for count, link, _ in sections.values())
    assert page.count("暂无。") == len(UNIT_SECTIONS)


# --- 8. evaluation staff ----------------------------------------------------------------------------


@pytest.fixture
def staff_world():
    """Three submissions (10 days, 3 days, an hour ago), a pending extension request, an item
    without owner, units that nobody can be reminded at and units that somebody can."""
    reached = factories.UnitFactory()
    member = services.Actor(user=factories.UnitStaffFactory(unit=reached))

    def make(unit=reached, **kwargs):  # type: ignore[no-untyped-def]
        return factories.ItemFactory(recommendation__finding__result__project__unit=unit, **kwargs)

    def assigned(**kwargs):  # type: ignore[no-untyped-def]
        return make(owner=member.user, deadline=_days(40), **kwargs)

    waiting = {}
    for name, ago in (
        ("recent", datetime.timedelta(hours=1)),
        ("old", datetime.timedelta(days=10)),
        ("middle", datetime.timedelta(days=3)),
    ):
        waiting[name] = assigned()
        _submitted(waiting[name], member, NOW - ago)
    extension = assigned()
    services.request_extension(
        item=extension, actor=member, requested_deadline=_days(60), reason="需跨部门协调。"
    )
    decided = assigned()
    ExtensionRequest.objects.create(
        item=decided,
        requested_deadline=_days(60),
        reason="已处理",
        status=ExtensionStatus.REJECTED,
    )
    no_owner = make(deadline=_days(40))
    no_deadline = make(owner=member.user)
    # A plan and a milestone to accept; proposals for a second review, one by the viewer.
    plan = assigned()
    services.submit_plan(
        item=plan, actor=member, rectification_type="immediate", measures="措施", agreement="agree"
    )
    milestone = assigned(status=ItemStatus.IN_PROGRESS, measures="措施")
    _accepted_plan(milestone, deadline=_days(10), status=MilestoneStatus.SUBMITTED)
    viewer = factories.StaffUserFactory()
    proposals = {}
    for name, reviewer in (("theirs", factories.StaffUserFactory()), ("mine", viewer)):
        proposals[name] = assigned()
        _submitted(proposals[name], member, NOW - datetime.timedelta(days=5))
        workflow.first_reviewed(proposals[name], reviewer)
    # Follow-up checks: one due, one not yet.
    rechecks = {}
    for name, due in (("due", _days(-1)), ("later", _days(30))):
        rechecks[name] = make(
            owner=member.user, status=ItemStatus.CLOSED, closure_outcome="rectified"
        )
        FollowUp.objects.create(item=rechecks[name], due_on=due)
    nobody = factories.UnitFactory(name="广州市荔湾区无账号单位")
    make(unit=nobody, owner=None, deadline=_days(40))
    inactive = factories.UnitFactory(name="广州市荔湾区停用账号单位")
    factories.UnitStaffFactory(unit=inactive, is_active=False)
    make(unit=inactive, deadline=_days(40))
    closed_only = factories.UnitFactory(name="广州市荔湾区已销号单位")
    make(unit=closed_only, status=ItemStatus.CLOSED, closure_outcome="not_rectified")
    robot = factories.UnitFactory(
        name="广州市荔湾区群机器人单位", webhook_url="https://qyapi.weixin.qq.com/robot"
    )
    make(unit=robot, deadline=_days(40))
    return {
        "waiting": waiting,
        "extension": extension,
        "no_owner": no_owner,
        "no_deadline": no_deadline,
        "plan": plan,
        "milestone": milestone,
        "proposals": proposals,
        "rechecks": rechecks,
        "viewer": viewer,
        "unreachable": [inactive, nobody],
    }


def test_it_shows_staff_what_is_the_bureaus_move_each_count_the_rows_of_its_list(
    client, staff_world
):
    client.force_login(staff_world["viewer"])

    page = client.get(URL).content.decode()

    sections = _sections(page)
    assert list(sections) == [
        "review",
        "second_review",
        "plans",
        "milestones",
        "extensions",
        "follow_ups",
        "unassigned",
        "unreachable",
    ]
    waiting = staff_world["waiting"]
    oldest_first = [waiting["old"].pk, waiting["middle"].pk, waiting["recent"].pk]
    expected = {
        "review": oldest_first,
        # Four eyes: not the proposal this staff member made.
        "second_review": [staff_world["proposals"]["theirs"].pk],
        "plans": [staff_world["plan"].pk],
        "milestones": [staff_world["milestone"].pk],
        "follow_ups": [staff_world["rechecks"]["due"].pk],
        "extensions": [staff_world["extension"].pk],
        "unassigned": sorted(
            RectificationItem.objects.exclude(status=ItemStatus.CLOSED)
            .filter(Q(owner__isnull=True) | Q(deadline__isnull=True))
            .values_list("pk", flat=True)
        ),
    }
    assert staff_world["no_owner"].pk in expected["unassigned"]
    assert staff_world["no_deadline"].pk in expected["unassigned"]
    for key, wanted in expected.items():
        count, link, shown = sections[key]
        assert count == len(wanted), key
        assert set(shown) == set(wanted), key
        assert set(_listed(client, link)) == set(wanted), key
    # Oldest first, on the page and in the list the link opens.
    assert sections["review"][2] == oldest_first
    assert _listed(client, sections["review"][1]) == oldest_first


def test_it_shows_how_long_each_submission_has_waited(client, staff_world):
    client.force_login(factories.StaffUserFactory())

    page = client.get(URL).content.decode()

    section = dict(SECTION.findall(page))["review"]
    waited = re.findall(r"已等待 ([^<]+?)</div>", section)
    assert waited == ["10 天", "3 天", "0 天"]


def test_it_lists_the_units_nobody_can_be_reminded_at(client, staff_world):
    client.force_login(factories.StaffUserFactory())

    page = client.get(URL).content.decode()

    count, link, _shown = _sections(page)["unreachable"]
    assert count == 2
    assert link == ""
    section = dict(SECTION.findall(page))["unreachable"]
    names = re.findall(r'<span class="me-auto">([^<]+)</span>', section)
    assert names == [unit.name for unit in staff_world["unreachable"]]
    for unit in staff_world["unreachable"]:
        href = f'href="/?unit={unit.pk}&amp;closed=no"'
        assert href in section
        assert len(_listed(client, f"/?unit={unit.pk}&closed=no")) == 1


def test_it_shows_oversight_the_empty_state_and_no_count(client, staff_world):
    client.force_login(factories.OversightFactory())

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["sections"] == []
    assert 'id="todo-empty"' in page
    assert 'id="worklist-count"' not in page


# --- 9. the menu's count, the cost of the page ---------------------------------------------------


def test_it_shows_the_total_in_the_menu_for_a_unit(client, unit_world):
    client.force_login(unit_world["member"])

    page = client.get(reverse("rectification:ledger")).content.decode()

    total = sum(len(names) for names in UNIT_SECTIONS.values())
    assert re.search(rf'id="worklist-count">{total}</span>', page)


def test_it_shows_the_total_in_the_menu_for_staff(client, staff_world):
    client.force_login(factories.StaffUserFactory())
    sections = _sections(client.get(URL).content.decode())
    cache.clear()

    page = client.get(reverse("dashboard:index")).content.decode()

    total = sum(count for count, _link, _shown in sections.values())
    # 3 submissions, 2 proposals (the viewer is a stranger to both), a plan, a milestone, an
    # extension request, a follow-up check, the unassigned items and 2 unreachable units.
    assert total == 3 + 2 + 1 + 1 + 1 + 1 + sections["unassigned"][0] + 2
    assert re.search(rf'id="worklist-count">{total}</span>', page)


def _unit_items(unit, member, staff, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        # Returned and due soon; without measures and overdue; submitted (in no section).
        factories.ItemFactory(
            recommendation__finding__result__project__unit=unit,
            status=ItemStatus.IN_PROGRESS,
            measures="措施",
            owner=member,
            deadline=_days(5),
            returned_at=NOW,
            returned_by=staff,
            return_reason="请补充材料",
        )
        factories.ItemFactory(
            recommendation__finding__result__project__unit=unit, deadline=_days(-2)
        )
        factories.ItemFactory(
            recommendation__finding__result__project__unit=unit,
            status=ItemStatus.SUBMITTED,
            measures="措施",
            deadline=_days(-2),
            submitted_at=NOW,
        )
        # A milestone due; a submission waiting for the head.
        _accepted_plan(
            factories.ItemFactory(
                recommendation__finding__result__project__unit=unit,
                status=ItemStatus.IN_PROGRESS,
                deadline=_days(30),
            ),
            deadline=_days(3),
        )
        factories.ItemFactory(
            recommendation__finding__result__project__unit=unit,
            status=ItemStatus.HEAD_REVIEW,
            deadline=_days(30),
        )


def _staff_items(staff, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        # Submitted; with a request pending; without owner (and a unit nobody can remind).
        factories.ItemFactory(
            status=ItemStatus.SUBMITTED, measures="措施", deadline=_days(9), submitted_at=NOW
        )
        ExtensionRequest.objects.create(
            item=factories.ItemFactory(deadline=_days(9)),
            requested_deadline=_days(30),
            reason="延期",
        )
        factories.ItemFactory()
        # A plan and a milestone to accept, a proposal to confirm, a follow-up check due.
        RectificationPlan.objects.create(
            item=factories.ItemFactory(deadline=_days(9)),
            version=1,
            rectification_type="immediate",
            measures="措施",
            agreement="agree",
        )
        _accepted_plan(
            factories.ItemFactory(status=ItemStatus.IN_PROGRESS, deadline=_days(9)),
            deadline=_days(3),
            status=MilestoneStatus.SUBMITTED,
        )
        factories.ItemFactory(
            status=ItemStatus.SECOND_REVIEW,
            proposed_outcome="rectified",
            first_reviewer=factories.StaffUserFactory(),
            deadline=_days(9),
            submitted_at=NOW,
        )
        FollowUp.objects.create(
            item=factories.ItemFactory(status=ItemStatus.CLOSED, closure_outcome="rectified"),
            due_on=_days(-1),
        )


@pytest.mark.parametrize("who", ["unit", "staff"])
def test_its_queries_do_not_grow_with_the_items_per_section(client, who):
    staff = factories.StaffUserFactory()
    if who == "unit":
        user = factories.UnitStaffFactory()
        make = lambda n: _unit_items(user.unit, user, staff, n)  # noqa: E731
    else:
        user = staff
        make = lambda n: _staff_items(staff, n)  # noqa: E731
    make(1)
    if who == "unit":  # the head's section too
        user = factories.UnitHeadFactory(unit=user.unit)
    client.force_login(user)
    client.get(URL)  # the session's first request also writes the session

    def count() -> int:
        cache.clear()  # the menu's count is part of the cost
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    one = count()
    make(9)
    full = count()
    make(20)
    # A section shorter than SHOWN is counted by its ids, a full one by a count: a bound of
    # one query a section, reached at SHOWN items, the same at 10 items a section as at 30.
    assert count() == full
    assert one < full <= one + len(worklists._sections(user, TODAY))


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({"status": ItemStatus.SUBMITTED, "sort": "submitted"}, "item_review_queue"),
        ({"waiting": "second_review", "sort": "submitted"}, "item_review_queue"),
        ({"waiting": "assignment"}, "item_unassigned"),
    ],
    ids=["first review", "second review", "unassigned"],
)
def test_the_bureaus_busiest_sections_are_read_from_their_indexes(params, index):
    """A city's queues: the first ids of a review queue in its order, and the count of the items
    waiting for assignment, come from an index made for them (a whole-table scan took 15–40 ms
    at 200,000 items). Planned with sequential scans and sorts priced out, as on a large
    table."""
    staff = factories.StaffUserFactory()
    found = ledger(viewer=staff, params=params, today=datetime.date.today())
    queries = [found.items.values_list("pk", flat=True)[:8]]
    if index == "item_unassigned":
        queries = [found.items.order_by().values("status", "deadline")]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # And sorting, as on a large table: on the test's few rows another index and a sort
        # can be estimated cheaper, depending on when the table was last analysed.
        cursor.execute("SET LOCAL enable_sort = off")
        for query in queries:
            assert index in query.explain()


@pytest.mark.parametrize("waiting", [worklists.SHOWN - 1, worklists.SHOWN, worklists.SHOWN + 3])
def test_a_sections_count_is_its_lists_whether_full_or_not(client, waiting):
    # Shorter than a full section, the count is the ids listed; full, it is counted.
    for _ in range(waiting):
        factories.ItemFactory(status=ItemStatus.SUBMITTED, submitted_at=NOW, deadline=_days(9))
    client.force_login(factories.StaffUserFactory())

    count, link, shown = _sections(client.get(URL).content.decode())["review"]

    assert count == waiting == len(_listed(client, link))
    assert len(shown) == min(waiting, worklists.SHOWN)
