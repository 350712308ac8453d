"""The item page's actions through HTTP: success, validation errors and concurrent edits."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rectification.choices import DeadlineSource, EventAction, ItemStatus, PlanStatus
from rectification.models import Event, Evidence
from tests import factories, images, workflow

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def item():
    owner = factories.UnitStaffFactory()
    return factories.ItemFactory(
        recommendation__finding__result__project__unit=owner.unit,
        owner=owner,
        deadline=datetime.date.today() + datetime.timedelta(days=10),
    )


@pytest.fixture
def member_client(client, item):
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    return client


def _post(client, name: str, item, data: dict, **extra):  # type: ignore[no-untyped-def]
    data = {"version": item.version, **data}
    return client.post(reverse(f"rectification:{name}", kwargs={"pk": item.pk}), data, **extra)


def _plan(measures: str = "成立专班", **extra) -> dict:  # type: ignore[no-untyped-def]
    return {"rectification_type": "immediate", "measures": measures, "agreement": "agree", **extra}


def test_a_plan_is_submitted_with_a_message(member_client, item):
    response = _post(member_client, "item-plan", item, _plan(), follow=True)
    assert response.status_code == 200
    plan = item.plans.get()
    assert (plan.status, plan.measures) == (PlanStatus.SUBMITTED, "成立专班")
    assert [str(m) for m in response.context["messages"]]


def test_an_empty_plan_form_shows_the_error_and_changes_nothing(member_client, item):
    response = _post(member_client, "item-plan", item, _plan(measures=""))
    assert response.status_code == 400
    [panel] = [p for p in response.context["action_panels"] if p["key"] == "plan"]
    assert "measures" in panel["form"].errors
    assert not Event.objects.filter(item=item).exists()
    assert not item.plans.exists()


def test_progress_with_several_files_stores_each_file(member_client, item):
    files = [
        SimpleUploadedFile("方案.pdf", PDF, "application/pdf"),
        SimpleUploadedFile("照片.png", images.png(), "image/png"),
    ]
    response = _post(member_client, "item-progress", item, {"note": "已部署", "files": files})
    assert response.status_code == 302
    assert sorted(Evidence.objects.values_list("original_name", flat=True)) == [
        "方案.pdf",
        "照片.png",
    ]
    assert Event.objects.get(item=item).action == EventAction.PROGRESS


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("setup.pdf", b"MZ\x90\x00", "内容不是允许的文件类型"),
        ("page.pdf", b"<html><body>hi</body></html>", "内容不是允许的文件类型"),
        ("tool.exe", b"MZ\x90\x00", "不在允许范围内"),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_stored(member_client, item, name, data, message):
    upload = SimpleUploadedFile(name, data)
    response = _post(member_client, "item-progress", item, {"note": "进展", "files": [upload]})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Evidence.objects.exists()
    assert not Event.objects.filter(item=item).exists()


def test_an_oversize_upload_is_refused(member_client, item, settings):
    settings.LIWAN_EVIDENCE_MAX_BYTES = 10
    upload = SimpleUploadedFile("大.pdf", PDF * 4)
    response = _post(member_client, "item-progress", item, {"note": "进展", "files": [upload]})
    assert response.status_code == 400
    assert "上限" in response.content.decode()
    assert not Evidence.objects.exists()


def test_the_second_of_two_concurrent_saves_is_refused(client, item):
    first = factories.UnitStaffFactory(unit=item.unit)
    second = factories.UnitHeadFactory(unit=item.unit)
    opened_version = item.version
    client.force_login(first)
    _post(client, "item-plan", item, {**_plan("甲的措施"), "version": opened_version})
    client.force_login(second)
    response = _post(
        client, "item-plan", item, {**_plan("乙的措施"), "version": opened_version}, follow=True
    )
    assert [plan.measures for plan in item.plans.all()] == ["甲的措施"]
    assert "已被他人修改" in response.content.decode()


def _first_review() -> dict:  # type: ignore[no-untyped-def]
    return {
        "outcome": "rectified",
        "method": "site_check",
        "verified_by": "王珊",
        "verified_on": datetime.date.today().isoformat(),
        "note": "实地核查属实",
    }


def test_two_staff_members_close_a_submitted_item_first_and_second_review(client, item):
    workflow.submitted(item, item.owner)
    first = factories.StaffUserFactory()
    client.force_login(first)
    response = _post(client, "item-first-review", item, _first_review())
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.proposed_outcome) == (ItemStatus.SECOND_REVIEW, "rectified")

    # Four eyes: the first reviewer is not offered the second review and is refused it.
    page = client.get(reverse("rectification:item-detail", kwargs={"pk": item.pk}))
    assert "second_review" not in [p["key"] for p in page.context["action_panels"]]
    response = _post(client, "item-second-review", item, {"decision": "confirm"})
    assert response.status_code == 403

    client.force_login(factories.StaffUserFactory())
    item.refresh_from_db()
    response = _post(client, "item-second-review", item, {"decision": "confirm", "note": ""})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.closure_outcome) == (ItemStatus.CLOSED, "rectified")
    assert item.verification_note == "实地核查属实"
    assert (item.first_reviewer, item.closed_by) != (None, None)
    assert item.first_reviewer != item.closed_by


def test_the_first_review_form_offers_the_signed_in_reviewer_as_verifier(client, item):
    workflow.submitted(item, item.owner)
    client.force_login(factories.StaffUserFactory(full_name="王珊"))

    page = client.get(reverse("rectification:item-detail", kwargs={"pk": item.pk}))

    [panel] = [p for p in page.context["action_panels"] if p["key"] == "first_review"]
    assert panel["form"]["verified_by"].value() == "王珊"
    assert 'name="verified_by" value="王珊"' in page.content.decode()


def test_staff_decide_an_extension_from_the_item_page(client, member_client, item):
    new_date = item.deadline + datetime.timedelta(days=20)
    _post(
        member_client,
        "item-extension-request",
        item,
        {"requested_deadline": new_date, "reason": "协调中"},
    )
    item.refresh_from_db()
    extension = item.extensions.get()
    client.force_login(factories.StaffUserFactory())
    assert extension.status == "pending"
    url = reverse("rectification:item-extension-decide", kwargs={"pk": item.pk})
    response = client.post(url, {"version": item.version, "decision": "reject", "note": ""})
    assert response.status_code == 400  # rejecting needs a reason
    response = client.post(url, {"version": item.version, "decision": "approve", "note": ""})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.deadline == new_date


def test_a_path_in_an_uploaded_name_never_reaches_storage(member_client, item):
    # The multipart body is written by hand so the hostile name really travels over HTTP.
    # Django's multipart parser would drop the directories and store "整改方案.pdf";
    # liwan.middleware keeps the name as sent, so the attempt is refused out loud instead.
    boundary = "liwanboundary"
    name = "../../../etc/cron.d/整改方案.pdf"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="version"\r\n\r\n{item.version}\r\n'
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="note"\r\n\r\n进展\r\n'
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = member_client.generic(
        "POST",
        reverse("rectification:item-progress", kwargs={"pk": item.pk}),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert not Evidence.objects.exists()
    assert not Event.objects.filter(item=item).exists()


def test_a_stale_save_keeps_what_the_user_typed(client, item):
    first = factories.UnitStaffFactory(unit=item.unit)
    opened_version = item.version
    client.force_login(first)
    _post(client, "item-extension-request", item, {
        "requested_deadline": item.deadline + datetime.timedelta(days=5), "reason": "协调中",
        "version": opened_version,
    })  # fmt: skip
    client.force_login(factories.UnitHeadFactory(unit=item.unit))
    long_text = "乙写了很长的整改措施。" * 50
    response = _post(client, "item-plan", item, {**_plan(long_text), "version": opened_version})
    assert response.status_code == 409
    body = response.content.decode()
    assert long_text in body
    assert "已被他人修改" in body
    assert not item.plans.exists()
    item.refresh_from_db()
    # The re-shown form carries the current version, so saving again is a deliberate overwrite.
    form = next(p["form"] for p in response.context["action_panels"] if p["key"] == "plan")
    assert form["version"].value() == str(item.version)


def test_progress_is_never_refused_as_stale(member_client, item):
    stale_version = item.version
    _post(member_client, "item-plan", item, _plan())
    response = _post(
        member_client, "item-progress", item, {"note": "进展", "version": stale_version}
    )
    assert response.status_code == 302


def test_an_action_url_opened_by_get_leads_to_the_item(member_client, item):
    response = member_client.get(reverse("rectification:item-plan", kwargs={"pk": item.pk}))
    assert response.status_code == 302
    assert response["Location"] == reverse("rectification:item-detail", kwargs={"pk": item.pk})


def test_errors_pages_are_our_own_and_chinese(member_client, item):
    other = factories.ItemFactory()
    response = member_client.get(reverse("rectification:item-detail", kwargs={"pk": other.pk}))
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode() or "找不到" in response.content.decode()


@pytest.mark.parametrize("length", [79, 120, 200])
def test_progress_with_a_long_chinese_file_name_keeps_the_report(member_client, item, length):
    # 79 Chinese characters are 237 bytes of UTF-8: with the stored name's prefix more than the
    # 255 bytes a file system allows, which lost the whole report (note and other files).
    from pathlib import Path

    from django.conf import settings

    stem = ("荔湾区财政支出绩效评价整改佐证材料" * 12)[:length]
    files = [
        SimpleUploadedFile(f"{stem}.pdf", PDF, "application/pdf"),
        SimpleUploadedFile("照片.png", images.png(), "image/png"),
    ]
    response = _post(member_client, "item-progress", item, {"note": "已整改完毕", "files": files})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.progress.get().note == "已整改完毕"
    long_one, photo = Evidence.objects.order_by("id")
    assert photo.original_name == "照片.png"
    # Shown and downloaded under the user's name (within its column), stored under a bounded one.
    assert long_one.original_name.endswith(".pdf")
    assert long_one.original_name[:-4] == stem[: len(long_one.original_name) - 4]
    assert len(long_one.original_name) <= Evidence._meta.get_field("original_name").max_length
    stored = Path(settings.MEDIA_ROOT) / long_one.file.name
    assert stored.read_bytes() == PDF
    assert len(stored.name.encode("utf-8")) <= 255
    assert stored.suffix == ".pdf"
    download = member_client.get(
        reverse("rectification:evidence-download", kwargs={"pk": long_one.pk})
    )
    assert download.status_code == 200


def test_staff_reopen_a_closed_item_with_a_new_deadline(client, item):
    workflow.submitted(item, item.owner)
    workflow.closed(item)
    client.force_login(factories.StaffUserFactory())
    new_deadline = datetime.date.today() + datetime.timedelta(days=30)

    response = _post(
        client, "item-reopen", item, {"reason": "复查发现虚假整改", "new_deadline": new_deadline}
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.deadline, item.deadline_source) == (
        ItemStatus.OPEN,
        new_deadline,
        DeadlineSource.REOPENING,
    )


def test_a_reopening_with_a_past_deadline_is_refused_and_changes_nothing(client, item):
    workflow.submitted(item, item.owner)
    workflow.closed(item)
    client.force_login(factories.StaffUserFactory())

    response = _post(
        client,
        "item-reopen",
        item,
        {"reason": "复查", "new_deadline": datetime.date.today() - datetime.timedelta(days=1)},
    )

    assert response.status_code == 400
    assert "不能早于今天" in response.content.decode()
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED
