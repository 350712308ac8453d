from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.models import FindingCategory
from rectification import services
from rectification.choices import ItemStatus
from tests import factories, workflow

pytestmark = pytest.mark.django_db


def _url(item) -> str:
    return reverse("rectification:item-detail", kwargs={"pk": item.pk})


def _panels(response) -> set[str]:
    return {panel["key"] for panel in response.context["action_panels"]}


def test_it_shows_the_evaluation_context_and_ledger_fields(client):
    item = factories.ItemFactory(deadline=datetime.date(2030, 6, 30), measures="成立专班")
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    body = client.get(_url(item)).content.decode()
    finding = item.recommendation.finding
    for text in (
        item.unit.name,
        finding.result.project.name,
        "85.00",
        finding.title,
        finding.body,
        item.recommendation.title,
        item.recommendation.body,
        "2030-06-30",
        "成立专班",
    ):
        assert text in body


def test_it_shows_the_problem_categories_of_the_finding(client):
    item = factories.ItemFactory()
    item.recommendation.finding.categories.add(
        FindingCategory.objects.create(name="乙类问题", order=902),
        FindingCategory.objects.create(name="甲类问题", order=901),
    )
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    response = client.get(_url(item))
    assert [c.name for c in response.context["categories"]] == [
        "甲类问题",
        "乙类问题",
    ]
    assert 'id="finding-categories"' in response.content.decode()


def test_it_offers_a_unit_only_unit_actions_and_staff_only_staff_actions(client):
    item = factories.ItemFactory()
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    assert _panels(client.get(_url(item))) == {"plan", "progress", "request_extension"}
    client.force_login(factories.StaffUserFactory())
    # No plan or milestone waits for a decision: only what staff can do now (and the ladder's
    # steps, which staff may record at any time).
    assert _panels(client.get(_url(item))) == {"assign", "first_review", "record_supervision"}
    client.force_login(factories.OversightFactory())
    response = client.get(_url(item))
    assert _panels(response) == set()
    assert 'id="no-actions"' in response.content.decode()


def test_it_offers_review_actions_on_a_submitted_item(client):
    item = factories.ItemFactory(status=ItemStatus.SUBMITTED)
    client.force_login(factories.StaffUserFactory())
    assert _panels(client.get(_url(item))) == {
        "assign",
        "return",
        "first_review",
        "record_supervision",
    }
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    assert _panels(client.get(_url(item))) == set()


def test_it_offers_the_second_review_to_another_staff_member_only(client):
    first = factories.StaffUserFactory()
    item, owner = workflow.owned_item(deadline=datetime.date(2030, 6, 30))
    workflow.first_reviewed(workflow.submitted(item, owner), first)

    client.force_login(first)
    mine = client.get(_url(item))
    client.force_login(factories.StaffUserFactory())
    theirs = client.get(_url(item))

    assert _panels(mine) == {"assign", "return", "record_supervision"}
    assert _panels(theirs) == {"assign", "return", "second_review", "record_supervision"}
    # Both see who made the first review and what it proposed.
    for response in (mine, theirs):
        banner = response.content.decode().split('id="review-banner">', 1)[1].split("</div>")[0]
        assert first.display_name in banner and "已整改" in banner


def test_it_offers_the_unit_head_the_sign_off_and_the_staff_member_nothing(client):
    item, owner = workflow.owned_item(deadline=datetime.date(2030, 6, 30))
    item.unit.head_signoff = True
    item.unit.save()
    head = factories.UnitHeadFactory(unit=item.unit)
    workflow.submitted(item, owner)
    assert item.status == ItemStatus.HEAD_REVIEW

    client.force_login(head)
    response = client.get(_url(item))
    client.force_login(owner)

    assert _panels(response) == {"head_signoff"}
    assert 'id="head-banner"' in response.content.decode()
    assert _panels(client.get(_url(item))) == set()


def test_it_shows_the_plan_its_type_and_the_milestones_done(client):
    item, owner = workflow.owned_item(deadline=datetime.date(2030, 6, 30))
    staff = factories.StaffUserFactory()
    workflow.plan_accepted(
        item,
        owner,
        staff,
        rectification_type="staged",
        milestones=[
            services.PlannedMilestone("完成问题排查", datetime.date(2030, 3, 31)),
            services.PlannedMilestone("修订管理制度", datetime.date(2030, 5, 31), "印发文件"),
        ],
    )
    milestone = item.milestones.get(number=1)
    services.report_milestone(
        milestone=milestone,
        actor=workflow.actor(owner),
        note="排查完毕",
        files=[workflow.evidence()],
    )
    services.decide_milestone(milestone=milestone, actor=workflow.actor(staff), accept=True)
    client.force_login(owner)

    page = client.get(_url(item)).content.decode()

    plan = page[page.index('id="item-plan"') :]
    assert "分阶段整改" in plan and "一是建立制度；二是开展培训。" in plan
    assert "完成问题排查" in plan and "修订管理制度" in plan and "印发文件" in plan
    assert "已完成 1 / 2" in plan
    assert 'id="item-type"' in page


def test_it_shows_progress_evidence_and_history(client):
    item = factories.ItemFactory()
    member = factories.UnitStaffFactory(unit=item.unit)
    workflow.plan_accepted(item, member, measures="措施甲")
    evidence = factories.EvidenceFactory(progress__item=item, original_name="会议纪要.pdf")
    client.force_login(member)
    body = client.get(_url(item)).content.decode()
    assert "会议纪要.pdf" in body
    assert reverse("rectification:evidence-download", kwargs={"pk": evidence.pk}) in body
    assert "措施甲" in body
    assert "整改方案通过" in body  # the history


def test_its_query_count_does_not_grow_with_history(client):
    item = factories.ItemFactory()
    member = factories.UnitStaffFactory(unit=item.unit)
    client.force_login(member)
    client.get(_url(item))
    factories.EvidenceFactory(progress__item=item)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_url(item)).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for n in range(5):
        factories.EvidenceFactory.create_batch(3, progress__item=item, progress__note=f"进展{n}")
        plan = services.submit_plan(
            item=item,
            actor=services.Actor(user=member),
            rectification_type="immediate",
            measures=f"措施{n}",
            agreement="agree",
        )
        services.decide_plan(
            plan=plan,
            actor=services.Actor(user=factories.StaffUserFactory()),
            accept=n % 2 == 0,
            note="" if n % 2 == 0 else "请细化",
        )
    assert count() == one


def test_an_id_too_long_for_the_database_is_not_found(client):
    client.force_login(factories.StaffUserFactory())
    assert client.get("/items/" + "9" * 30 + "/").status_code == 404
    assert client.get("/evidence/" + "9" * 30 + "/").status_code == 404


# --- a return stays visible until the unit answers it ---------------------------------------------

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _evidence(name: str = "会议纪要.pdf"):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rectification.uploads import check_evidence

    return check_evidence(SimpleUploadedFile(name, PDF, "application/pdf"))


def _banner(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'id="return-banner">(.*?)\n</div>', response.content.decode(), re.S)
    return match.group(1) if match else ""


def test_it_shows_a_return_with_reason_who_and_when_until_the_unit_resubmits(client):
    item = factories.ItemFactory(deadline=datetime.date(2030, 6, 30))
    member = services.Actor(user=factories.UnitStaffFactory(unit=item.unit))
    reviewer = factories.StaffUserFactory(full_name="王审核")
    moment = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False) as clock:
        workflow.plan_accepted(item, member, measures="成立专班")
        services.add_progress(item=item, actor=member, note="已印发方案", files=[_evidence()])
        services.submit(item=item, actor=member)
        clock.move_to(datetime.datetime(2026, 12, 3, 15, 30, tzinfo=SHANGHAI))
        services.return_item(
            item=item, actor=services.Actor(user=reviewer), reason="佐证材料不足，请补充会议纪要。"
        )

        for user in (member.user, factories.StaffUserFactory()):
            client.force_login(user)
            banner = _banner(client.get(_url(item)))
            assert banner, "a returned item carries its return as a banner"
            assert "王审核 于 2026-12-03 15:30 退回" in banner
            assert "佐证材料不足，请补充会议纪要。" in banner
            hint = "请根据退回意见补报整改进展和佐证材料后，重新提交销号。"
            assert (hint in banner) == (user == member.user)  # the hint is for the unit

        clock.move_to(datetime.datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI))
        client.force_login(member.user)
        services.add_progress(item=item, actor=member, note="补充会议纪要", files=[_evidence()])
        assert _banner(client.get(_url(item))), "progress alone does not answer the return"
        services.submit(item=item, actor=member)
        page = client.get(_url(item)).content.decode()

    assert 'id="return-banner"' not in page
    assert "佐证材料不足，请补充会议纪要。" in page  # still in the history


# --- the deadline's story ---------------------------------------------------------------------------


def _deadline_cell(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(
        r'<dd class="col-sm-9" id="item-deadline">(.*?)</dd>', response.content.decode(), re.S
    )
    assert match, "the item page shows the deadline"
    return " ".join(match.group(1).split())


def test_it_shows_the_original_deadline_the_extensions_and_where_the_deadline_came_from(client):
    item = factories.ItemFactory()
    staff = services.Actor(user=factories.StaffUserFactory())
    member = services.Actor(user=factories.UnitStaffFactory(unit=item.unit))
    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        services.assign(item=item, actor=staff, owner=None, deadline=datetime.date(2026, 12, 31))
        request = services.request_extension(
            item=item,
            actor=member,
            requested_deadline=datetime.date(2027, 2, 28),
            reason="需跨部门协调",
        )
        services.decide_extension(extension=request, actor=staff, approve=True)
        client.force_login(member.user)
        cell = _deadline_cell(client.get(_url(item)))

    assert cell.startswith("2027-02-28")
    assert "原定 2026-12-31" in cell
    assert "已延期 1 次" in cell
    assert "批准延期：需跨部门协调" in cell


def test_it_marks_a_deadline_counted_over_a_provisional_year(client):
    from calendars.services import count_working_days

    item = factories.ItemFactory()
    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        count = count_working_days(start=datetime.date(2026, 12, 3), days=30)
        assert count.provisional  # 2027 has no notice yet: the law's days stand in
        services.assign(
            item=item,
            actor=services.Actor(user=factories.StaffUserFactory()),
            owner=None,
            deadline=count.date,
            count=count,
        )
        client.force_login(factories.UnitStaffFactory(unit=item.unit))
        cell = _deadline_cell(client.get(_url(item)))

    assert cell.startswith("2027-01-15")
    assert "暂定" in cell
    assert "（自 2026-12-03 起 30 个工作日）" in cell


def test_it_does_not_mark_a_plain_date_in_a_provisional_year(client):
    item = factories.ItemFactory()
    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        services.assign(
            item=item,
            actor=services.Actor(user=factories.StaffUserFactory()),
            owner=None,
            deadline=datetime.date(2027, 1, 15),
        )
        client.force_login(factories.UnitStaffFactory(unit=item.unit))
        cell = _deadline_cell(client.get(_url(item)))

    assert "暂定" not in cell
    assert "工作日" not in cell


def test_it_names_the_warning_colour_beside_the_deadline(client, settings):
    settings.LIWAN_WARNING_YELLOW_DAYS = 7
    soon = factories.ItemFactory(deadline=datetime.date.today() + datetime.timedelta(days=3))
    late = factories.ItemFactory(deadline=datetime.date.today() - datetime.timedelta(days=3))
    client.force_login(factories.StaffUserFactory())

    def warning(item) -> str:  # type: ignore[no-untyped-def]
        page = client.get(_url(item)).content.decode()
        return " ".join(
            re.search(r'<span id="item-warning">(.*?)</span> ?</span>', page, re.S)[1].split()
        )

    assert 'data-warning="yellow"' in warning(soon) and "黄色（临近期限）" in warning(soon)
    assert 'data-warning="red"' in warning(late) and "红色（已逾期）" in warning(late)
    no_deadline = factories.ItemFactory(deadline=None)
    assert 'id="item-warning"></span>' in client.get(_url(no_deadline)).content.decode()


def test_its_action_forms_show_each_fields_label_error_and_what_was_typed(client):
    # The forms are written in Python (the form_fields tag), outside the template's escaping.
    item, owner = workflow.owned_item(deadline=datetime.date(2030, 6, 30))
    workflow.first_reviewed(
        workflow.submitted(item, owner), factories.StaffUserFactory(), outcome="not_applicable"
    )
    client.force_login(factories.StaffUserFactory())
    item.refresh_from_db()
    url = reverse("rectification:item-second-review", kwargs={"pk": item.pk})

    declined = client.post(
        url, {"version": item.version, "decision": "decline", "note": "长" * 6000}
    )
    hostile = client.post(url, {"version": item.version, "decision": "<script>x</script>"})

    assert declined.status_code == hostile.status_code == 400
    panel = declined.content.decode().split('id="action-second_review"', 1)[1]
    panel = panel.split("</form>", 1)[0]
    assert '<legend class="form-label fs-6">审批结果<span class="asteriskField">*</span>' in panel
    assert re.search(r'<input [^>]*id="id_decision_1"[^>]*>', panel)
    decline = re.search(r'<input [^>]*id="id_decision_1"[^>]*>', panel).group(0)
    assert 'type="radio"' in decline and 'value="decline"' in decline and "checked" in decline
    assert '<label class="form-check-label" for="id_decision_1">退回</label>' in panel
    assert '<input type="checkbox" name="consent" class="form-check-input" id="id_consent">' in (
        panel
    )
    assert '<label for="id_note" class="form-label">审批意见</label>' in panel
    assert 'aria-describedby="id_note_helptext id_note_error"' in panel
    assert '<div id="id_note_helptext" class="form-text">' in panel
    assert '<div id="id_note_error" class="invalid-feedback d-block fw-semibold"><div>' in panel
    # A radio group's error is named by its fieldset and marks its buttons.
    panel = hostile.content.decode().split('id="action-second_review"', 1)[1]
    panel = panel.split("</form>", 1)[0]
    assert '<fieldset id="div_id_decision" class="mb-3" aria-describedby="id_decision_error">' in (
        panel
    )
    assert 'aria-invalid="true"' in re.search(r'<input [^>]*id="id_decision_0"[^>]*>', panel).group(
        0
    )
    assert "&lt;script&gt;x&lt;/script&gt;" in panel  # the refused value, echoed by the error
    assert "<script>x</script>" not in panel
