"""The back-office import page: upload → preview (writes nothing) → confirm (writes it all)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluations.models import (
    EvaluationResult,
    EvaluationRound,
    Finding,
    Project,
    Recommendation,
    Unit,
)
from rectification.choices import EventAction
from rectification.models import Event, RectificationItem
from tests import factories
from tests.spreadsheets import build_csv, build_xlsx, project

pytestmark = pytest.mark.django_db

URL = reverse("admin:evaluations_evaluationround_import")
CHANGELIST = reverse("admin:evaluations_evaluationround_changelist")
TITLE_2021 = "2021年度荔湾区财政支出项目绩效重点评价汇总表"
MODELS = (
    Unit,
    EvaluationRound,
    Project,
    EvaluationResult,
    Finding,
    Recommendation,
    RectificationItem,
    Event,
)


def _projects_2021() -> list[dict]:
    return [
        project(seq=1, unit="广州市荔湾区测试局", project="测试专项经费项目"),
        project(
            seq=2,
            unit="广州市荔湾区示范中心",
            project="示范中心运行经费",
            budget=Decimal("2433.48"),
            spent=Decimal("2432.76"),
            completion_rate=Decimal("99.97"),
            score=Decimal("92.00"),
            grade="优",
            problems=[{"title": "信息系统开发仍有进步空间。", "body": "监控预警功能较弱。"}],
            recommendations=[{"title": "逐步完善信息系统应用。", "body": "一是拓展实时监控。"}],
        ),
    ]


def _xlsx(projects: list[dict] | None = None) -> SimpleUploadedFile:
    data = build_xlsx(_projects_2021() if projects is None else projects, title=TITLE_2021)
    return SimpleUploadedFile("2021年度汇总表.xlsx", data)


def _csv() -> SimpleUploadedFile:
    return SimpleUploadedFile("2021年度汇总表.csv", build_csv(_projects_2021(), title=TITLE_2021))


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


NOTHING = dict.fromkeys((model.__name__ for model in MODELS), 0)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """A storage of this test's own, so the files waiting under imports/ can be counted."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _pending(media: Path) -> list[Path]:
    folder = media / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def _preview(client, upload: SimpleUploadedFile, deadline: str = "2021-12-31"):
    return client.post(URL, {"file": upload, "year": "", "deadline": deadline})


def _token(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "the preview page must carry the confirmation token"
    return match.group(1)


def test_it_shows_the_upload_form_to_staff(client, staff):
    response = client.get(URL)
    assert response.status_code == 200
    assert 'type="file"' in response.content.decode()
    assert URL in client.get(CHANGELIST).content.decode()  # the 导入汇总表 button


def test_it_previews_an_official_xlsx_without_writing_anything(client, staff, media):
    response = _preview(client, _xlsx())

    assert response.status_code == 200
    assert response.templates[0].name == "admin/evaluations/import_preview.html"
    content = response.content.decode()
    assert "2021年度：新建单位 2 个，新建项目 2 个" in content
    assert "新建整改事项 3 项" in content
    for where, unit, name in (
        ("工作表「汇总表」第4行", "广州市荔湾区测试局", "测试专项经费项目"),
        ("工作表「汇总表」第5行", "广州市荔湾区示范中心", "示范中心运行经费"),
    ):
        assert f"<td>{where}</td><td>{unit}</td><td>{name}</td><td>新建</td>" in content
    assert _counts() == NOTHING
    assert len(_pending(media)) == 1  # the file waits for the confirmation


def test_it_imports_on_confirm_as_the_staff_user_and_deletes_the_upload(client, staff, media):
    token = _token(_preview(client, _xlsx()))

    response = client.post(URL, {"token": token}, follow=True)

    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert "导入完成" in response.content.decode()
    round_ = EvaluationRound.objects.get()
    assert (round_.year, round_.title) == (2021, TITLE_2021)
    result = EvaluationResult.objects.get(project__name="示范中心运行经费")
    assert (result.budget, result.spent) == (Decimal("2433.48"), Decimal("2432.76"))
    assert (result.completion_rate, result.score, result.grade) == (
        Decimal("99.97"),
        Decimal("92.00"),
        "优",
    )
    finding = Finding.objects.get(result__project__name="测试专项经费项目", number=2)
    assert (finding.title, finding.body) == ("资金支付进度偏慢。", "年末集中支付，预算执行不均衡。")
    assert finding.recommendation.title == "加快资金支付进度。"
    items = RectificationItem.objects.all()
    assert items.count() == 3
    assert {item.deadline for item in items} == {datetime.date(2021, 12, 31)}
    events = Event.objects.all()
    assert events.count() == 3
    assert {(e.action, e.actor_id) for e in events} == {(EventAction.CREATED, staff.pk)}
    assert _pending(media) == []


def test_it_imports_the_csv_layout_too(client, staff, media):
    token = _token(_preview(client, _csv(), deadline=""))

    response = client.post(URL, {"token": token})

    assert response.status_code == 302
    assert RectificationItem.objects.filter(deadline__isnull=True).count() == 3
    assert EvaluationResult.objects.get(seq=2).completion_rate == Decimal("99.97")
    assert set(Event.objects.values_list("actor", flat=True)) == {staff.pk}
    assert _pending(media) == []


def test_it_lists_every_issue_of_a_bad_file_with_its_row_and_column(client, staff, media):
    projects = _projects_2021()
    projects[0]["grade"] = "优"  # 85 分 is 良
    projects[1]["budget"] = "两千四百万"

    response = _preview(client, _xlsx(projects))

    assert response.status_code == 200
    assert response.templates[0].name == "admin/evaluations/import.html"
    listed = response.content.decode().split('id="import-issues">')[1].split("</ul>")[0]
    issues = re.findall(r"<li>(.*?)</li>", listed)
    assert len(issues) == 2
    assert issues[0].startswith(
        "工作表「汇总表」第4行「等级」列（I列）：等级「优」与分数 85.00 不符"
    )
    assert issues[1].startswith("工作表「汇总表」第5行「预算数」列（E列）：预算数「两千四百万」")
    assert "未导入任何数据" in response.content.decode()
    assert _counts() == NOTHING
    assert _pending(media) == []


def test_it_refuses_a_file_that_is_not_a_summary_table(client, staff, media):
    response = _preview(client, SimpleUploadedFile("报告.docx", b"PK\x03\x04 not a table"))

    assert response.status_code == 200
    assert "只能上传 .xlsx、.csv 或 .yaml 文件" in response.content.decode()
    assert _counts() == NOTHING
    assert _pending(media) == []


def test_it_refuses_a_tampered_token(client, staff, media):
    token = _token(_preview(client, _xlsx()))
    forged = signing.dumps(
        {"path": "../../etc/passwd", "name": "x.xlsx", "year": 2021, "deadline": None},
        salt="another.salt",
    )

    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged, ""):
        response = client.post(URL, {"token": bad}, follow=True)
        assert response.redirect_chain == [(URL, 302)]
        assert "预览已过期或无效，请重新上传文件" in response.content.decode()

    assert _counts() == NOTHING


def test_it_refuses_an_expired_token_and_drops_its_file(client, staff, media):
    with time_machine.travel(datetime.datetime(2022, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False):
        token = _token(_preview(client, _xlsx()))
    assert len(_pending(media)) == 1

    with time_machine.travel(datetime.datetime(2022, 3, 1, 10, 1, tzinfo=datetime.UTC)):
        client.logout()  # the idle session has timed out meanwhile: sign in again
        client.force_login(staff)
        response = client.post(URL, {"token": token}, follow=True)

    assert "预览已过期或无效" in response.content.decode()
    assert _counts() == NOTHING
    assert _pending(media) == []


def test_it_refuses_a_token_that_was_already_used(client, staff, media):
    token = _token(_preview(client, _xlsx()))
    client.post(URL, {"token": token})
    counts = _counts()

    response = client.post(URL, {"token": token}, follow=True)

    assert "预览已过期或无效" in response.content.decode()
    assert _counts() == counts


def _preview_at(client, staff, hour: int, minute: int) -> None:
    with time_machine.travel(
        datetime.datetime(2022, 3, 1, hour, minute, tzinfo=datetime.UTC), tick=False
    ):
        client.logout()  # sessions time out when idle; each visit signs in afresh
        client.force_login(staff)
        assert _preview(client, _xlsx()).status_code == 200


def test_it_drops_uploads_whose_preview_was_abandoned_an_hour_ago(client, staff, media):
    _preview_at(client, staff, 9, 0)
    [abandoned] = _pending(media)
    _preview_at(client, staff, 9, 30)
    [_, recent] = _pending(media)

    _preview_at(client, staff, 10, 15)

    pending = _pending(media)
    assert abandoned not in pending
    assert recent in pending  # its token is still valid
    assert len(pending) == 2


# --- who may use the page: evaluation staff (owner), oversight reader (member), the rest -------


@pytest.mark.parametrize(
    "make",
    [
        AnonymousUser,
        factories.UnitStaffFactory,
        factories.UnitHeadFactory,
        factories.OversightFactory,
    ],
    ids=["anonymous", "unit-staff", "unit-head", "oversight"],
)
def test_it_sends_everyone_but_staff_to_the_admin_login(client, media, make):
    user = make()
    if user.is_authenticated:
        client.force_login(user)
    before = _counts()

    for response in (client.get(URL), _preview(client, _xlsx())):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    assert _counts() == before
    assert _pending(media) == []


def test_it_forbids_a_staff_flagged_account_without_the_staff_role(client, media):
    # e.g. an oversight reader given back-office access to browse: may look, may not import
    client.force_login(factories.OversightFactory(is_staff=True))
    before = _counts()

    assert client.get(URL).status_code == 403
    assert _preview(client, _xlsx()).status_code == 403
    assert _counts() == before
    assert _pending(media) == []


def test_it_refuses_a_yaml_alias_bomb_at_once_with_the_line(client, staff, media):
    import time

    from tests import hostile

    started = time.perf_counter()
    response = _preview(client, SimpleUploadedFile("2021汇总表.yaml", hostile.yaml_alias_bomb(9)))
    assert time.perf_counter() - started < 2
    assert response.status_code == 200
    assert "第2行：不支持 YAML 别名（*a0）" in response.content.decode()
    assert _counts() == NOTHING
    assert _pending(media) == []


def test_the_preview_says_how_total_rows_and_rates_were_read(client, staff, media):
    first, second = _projects_2021()
    total = ["合计", None, None, None, 3667.98, 3432.76]
    response = _preview(client, _xlsx([first, second, total]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="import-notes"' in page
    assert "第6行：合计行：预算数 3,667.98、完成数 3,432.76 与第4–5行（2 个项目）之和一致" in page
    assert _counts() == NOTHING
    client.post(URL, {"token": _token(response)})
    assert Project.objects.count() == 2  # the 合计 row is not a project


def test_the_preview_lists_the_likely_repeats_of_earlier_problems(client, staff, media):
    unit = factories.UnitFactory(name="广州市荔湾区示范中心")
    factories.ItemFactory(
        recommendation__finding__result__project__unit=unit,
        recommendation__finding__result__round__year=2020,
        recommendation__finding__title="信息系统开发仍有较大进步空间。",
    )
    before = _counts()
    content = _preview(client, _xlsx()).content.decode()
    assert 'id="import-repeats"' in content
    assert (
        "<td>广州市荔湾区示范中心</td><td>信息系统开发仍有进步空间。</td>"
        "<td>2020年度：信息系统开发仍有较大进步空间。</td>"
    ) in content
    assert "其中 1 个问题可能是以往年度问题的重现（屡审屡犯）" in content
    assert _counts() == before
