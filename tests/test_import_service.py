"""import_evaluation_table: what a summary table becomes in the database, and re-imports."""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.db import models, transaction

from evaluations.importing import ImportRejected, read_table
from evaluations.models import (
    EvaluationResult,
    EvaluationRound,
    Finding,
    FindingCategory,
    Project,
    Recommendation,
    Unit,
)
from rectification.choices import EventAction, ItemStatus
from rectification.imports import import_evaluation_table
from rectification.models import Event, ProgressUpdate, RectificationItem
from tests import factories
from tests.spreadsheets import (
    FIXTURE_2020,
    build_csv,
    build_xlsx,
    copy_projects,
    project,
    projects_2020,
)

pytestmark = pytest.mark.django_db

YAML_2020 = yaml.safe_load(FIXTURE_2020.read_text(encoding="utf-8"))


def _import(name: str, data: bytes, **options: Any):  # type: ignore[no-untyped-def]
    year = options.pop("year", None)
    return import_evaluation_table(table=read_table(name, data, year=year), **options)


def _import_xlsx(projects: list[dict[str, Any]], **options: Any):  # type: ignore[no-untyped-def]
    return _import("汇总表.xlsx", build_xlsx(projects), **options)


def _fields(obj: models.Model, skip: set[str]) -> dict[str, Any]:
    """Every concrete field of ``obj`` except ``skip`` (ids, links, timestamps)."""
    return {
        field.name: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.name not in skip
    }


def _content() -> list[dict[str, Any]]:
    """The evaluation content in the database, keyed by natural keys instead of ids."""
    rows = []
    results = EvaluationResult.objects.select_related("round", "project__unit").order_by("seq")
    for result in results:
        findings = []
        for finding in result.findings.select_related("recommendation__item__unit"):
            recommendation = finding.recommendation
            item = recommendation.item
            findings.append(
                {
                    "finding": _fields(finding, {"id", "result"}),
                    "recommendation": _fields(recommendation, {"id", "finding"}),
                    "item": {
                        **_fields(
                            item, {"id", "recommendation", "unit", "created_at", "updated_at"}
                        ),
                        "unit": item.unit.name,
                    },
                }
            )
        rows.append(
            {
                "round": _fields(result.round, {"id"}),
                "unit": _fields(result.project.unit, {"id"}),
                "project": _fields(result.project, {"id", "unit"}),
                "result": _fields(result, {"id", "round", "project"}),
                "findings": findings,
            }
        )
    return rows


def _content_after_import(name: str, data: bytes) -> list[dict[str, Any]]:
    with transaction.atomic():
        _import(name, data)
        content = _content()
        transaction.set_rollback(True)
    return content


def _row_counts() -> dict[str, int]:
    models_ = [
        *apps.get_app_config("evaluations").get_models(),
        *apps.get_app_config("rectification").get_models(),
    ]
    # The problem categories are seeded by a migration, not by imports.
    models_.remove(FindingCategory)
    return {model._meta.label: model.objects.count() for model in models_}


def _result(seq: int) -> EvaluationResult:
    return EvaluationResult.objects.select_related("project__unit").get(round__year=2020, seq=seq)


# --- the 2020 table --------------------------------------------------------------------------


def test_it_imports_the_2020_table_into_10_results_and_22_open_items(liwan_2020):
    assert EvaluationRound.objects.get().year == 2020
    assert EvaluationRound.objects.get().title == "2020年度荔湾区财政支出项目绩效重点评价汇总表"
    assert Unit.objects.count() == 10
    assert Project.objects.count() == 10
    assert EvaluationResult.objects.count() == 10
    assert Finding.objects.count() == 22
    assert Recommendation.objects.count() == 22
    assert RectificationItem.objects.count() == 22
    assert set(RectificationItem.objects.values_list("status", flat=True)) == {ItemStatus.OPEN}
    assert Event.objects.filter(action=EventAction.CREATED).count() == 22
    assert (liwan_2020.results_created, liwan_2020.items_created) == (10, 22)
    assert liwan_2020.summary() == (
        "2020年度：新建单位 10 个，新建项目 10 个；评价结果新建 10、更新 0、无变化 0；"
        "问题新建 22、更新 0；建议新建 22、更新 0；新建整改事项 22 项。"
    )


def test_it_stores_project_7_figures_exactly(liwan_2020):
    result = _result(7)

    assert result.project.unit.name == "中国共产党广州市荔湾区委员会组织部"
    assert result.project.name == "党组织工作专项经费项目"
    assert result.budget == Decimal("2431.17")
    assert result.spent == Decimal("1778.76")
    assert result.completion_rate == Decimal("73.16")
    assert result.score == Decimal("86.30")
    assert result.grade == "良"
    assert result.findings.count() == 4


@pytest.mark.parametrize("entry", YAML_2020["projects"], ids=lambda p: f"project-{p['seq']}")
def test_it_stores_every_figure_as_printed(liwan_2020, entry):
    result = _result(entry["seq"])

    assert (result.project.unit.name, result.project.name) == (entry["unit"], entry["project"])
    assert result.goal == entry["goal"]
    assert f"{result.budget:,.2f}" == entry["budget"]
    assert f"{result.spent:,.2f}" == entry["spent"]
    assert f"{result.completion_rate:.2f}%" == entry["completion_rate"]
    assert f"{result.score:.2f}" == entry["score"]
    assert result.grade == entry["grade"]


@pytest.mark.parametrize("entry", YAML_2020["projects"], ids=lambda p: f"project-{p['seq']}")
def test_it_stores_titles_and_bodies_exactly_as_in_the_fixture(liwan_2020, entry):
    result = _result(entry["seq"])
    findings = list(result.findings.select_related("recommendation__item").order_by("number"))

    assert [(f.number, f.title, f.body) for f in findings] == [
        (n, p["title"], p["body"]) for n, p in enumerate(entry["problems"], start=1)
    ]
    assert [(f.recommendation.title, f.recommendation.body) for f in findings] == [
        (r["title"], r["body"]) for r in entry["recommendations"]
    ]
    assert {f.recommendation.item.unit_id for f in findings} == {result.project.unit_id}


def test_it_stores_no_mis_mapped_glyph_anywhere(liwan_2020):
    # The PDF extraction turned 置 into 臵 (设臵, 处臵); the data must carry the real character.
    checked = 0
    for app in ("evaluations", "rectification"):
        for model in apps.get_app_config(app).get_models():
            text_fields = [
                f.attname
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField | models.JSONField)
            ]
            for row in model.objects.values_list(*text_fields):
                for value in row:
                    assert "臵" not in str(value), (model.__name__, value)
                    checked += 1
    assert checked > 100
    assert Finding.objects.filter(body__contains="处置").exists()
    assert Recommendation.objects.filter(body__contains="设置").exists()


def test_it_records_the_importing_user_on_every_created_event():
    staff = factories.StaffUserFactory()

    _import("liwan_2020.yaml", FIXTURE_2020.read_bytes(), actor=staff)

    assert set(Event.objects.values_list("actor_id", flat=True)) == {staff.pk}


# --- one table, three formats ------------------------------------------------------------------


def test_it_imports_xlsx_and_csv_to_exactly_the_yaml_content():
    from_yaml = _content_after_import("liwan_2020.yaml", FIXTURE_2020.read_bytes())
    from_xlsx = _content_after_import("汇总表.xlsx", build_xlsx(projects_2020()))
    from_csv = _content_after_import("汇总表.csv", build_csv(projects_2020()))
    from_gbk = _content_after_import("汇总表.csv", build_csv(projects_2020(), encoding="gbk"))

    assert len(from_yaml) == 10
    assert sum(len(row["findings"]) for row in from_yaml) == 22
    assert from_xlsx == from_yaml
    assert from_csv == from_yaml
    assert from_gbk == from_yaml
    assert _row_counts() == dict.fromkeys(_row_counts(), 0)  # each import was rolled back


def test_it_sees_no_change_when_the_workbook_follows_the_yaml_import(liwan_2020):
    report = _import_xlsx(projects_2020())

    assert not report.changed


# --- re-import ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "xlsx", "csv"])
def test_it_changes_nothing_when_the_same_file_is_imported_again(fmt):
    name, data = {
        "yaml": ("liwan_2020.yaml", FIXTURE_2020.read_bytes()),
        "xlsx": ("汇总表.xlsx", build_xlsx(projects_2020())),
        "csv": ("汇总表.csv", build_csv(projects_2020())),
    }[fmt]
    _import(name, data)
    counts = _row_counts()
    content = _content()
    items = list(RectificationItem.objects.values("id", "version", "updated_at"))

    report = _import(name, data)

    assert not report.changed
    assert report.results_unchanged == 10
    assert report.lines == []
    assert _row_counts() == counts
    assert _content() == content
    assert list(RectificationItem.objects.values("id", "version", "updated_at")) == items


def test_it_updates_a_corrected_file_in_place_and_leaves_the_ledger_alone():
    _import_xlsx(projects_2020())
    result = _result(7)
    second = result.findings.get(number=2).recommendation
    item = second.item
    factories.force_update(
        RectificationItem.objects.filter(pk=item.pk),
        status=ItemStatus.IN_PROGRESS,
        measures="召开专题会议，制定整改方案。",
    )
    factories.ProgressFactory(item=item, note="已完成方案初稿。")
    counts = _row_counts()
    events_before = set(Event.objects.values_list("id", flat=True))
    corrected = copy_projects(projects_2020())
    corrected[6]["score"] = Decimal("91.00")
    corrected[6]["grade"] = "优"
    old_body = corrected[6]["recommendations"][1]["body"]
    corrected[6]["recommendations"][1]["body"] = old_body + "三是按季度报送整改进展。"

    report = _import_xlsx(corrected)

    assert report.changed
    assert (report.results_updated, report.recommendations_updated) == (1, 1)
    assert (report.results_created, report.findings_updated, report.items_created) == (0, 0, 0)
    assert report.lines == [
        (
            "工作表「汇总表」第10行",
            "中国共产党广州市荔湾区委员会组织部",
            "党组织工作专项经费项目",
            "更新",
            "评价得分、评价等级、建议（二）",
        )
    ]
    result.refresh_from_db()
    assert (result.pk, result.score, result.grade) == (_result(7).pk, Decimal("91.00"), "优")
    second.refresh_from_db()
    assert second.body.endswith("三是按季度报送整改进展。")
    item_after = RectificationItem.objects.get(pk=item.pk)
    assert item_after.recommendation_id == second.pk
    assert item_after.status == ItemStatus.IN_PROGRESS
    assert item_after.measures == "召开专题会议，制定整改方案。"
    assert list(ProgressUpdate.objects.filter(item=item).values_list("note", flat=True)) == [
        "已完成方案初稿。"
    ]
    new_events = Event.objects.exclude(id__in=events_before)
    assert [(e.item_id, e.action) for e in new_events] == [(item.pk, EventAction.IMPORTED_UPDATE)]
    event = new_events.get()
    assert event.before == {"recommendation": {"title": second.title, "body": old_body}}
    assert event.after == {"recommendation": {"title": second.title, "body": second.body}}
    assert _row_counts() == {**counts, "rectification.Event": counts["rectification.Event"] + 1}


def test_it_records_a_corrected_finding_on_the_item_that_answers_it(liwan_2020):
    corrected = copy_projects(projects_2020())
    old_title = corrected[0]["problems"][0]["title"]
    corrected[0]["problems"][0]["title"] = "信息系统开发仍有较大进步空间。"

    report = _import_xlsx(corrected)

    assert report.findings_updated == 1
    item = Finding.objects.get(result__seq=1, number=1).recommendation.item
    event = Event.objects.get(action=EventAction.IMPORTED_UPDATE)
    assert event.item_id == item.pk
    assert event.before["finding"]["title"] == old_title
    assert event.after["finding"]["title"] == "信息系统开发仍有较大进步空间。"
    assert "recommendation" not in event.after


def test_it_reports_a_corrected_round_title(liwan_2020):
    title = "2020年度荔湾区财政支出项目绩效重点评价汇总表（修订）"

    report = _import("汇总表.xlsx", build_xlsx(projects_2020(), title=title))

    assert report.changed
    assert report.summary().endswith("新建整改事项 0 项。批次标题已更新。")
    assert EvaluationRound.objects.get(year=2020).title == title


def test_it_renumbers_projects_without_tripping_the_unique_number():
    _import_xlsx(projects_2020())
    first, second = _result(1), _result(2)
    swapped = copy_projects(projects_2020())
    swapped[0]["seq"], swapped[1]["seq"] = 2, 1

    report = _import_xlsx(swapped)

    assert report.results_updated == 2
    assert _result(1).pk == second.pk
    assert _result(2).pk == first.pk


def test_it_keeps_projects_that_a_later_file_leaves_out(liwan_2020):
    report = _import_xlsx(projects_2020()[:9])

    assert not report.changed
    assert report.kept == ["10. 广州市荔湾区教育局 新样态学校专项经费项目"]
    assert EvaluationResult.objects.count() == 10


def test_it_rejects_a_number_still_used_by_a_project_left_out_of_the_file(liwan_2020):
    counts = _row_counts()
    rows = [*projects_2020()[:9], project(seq=10)]

    with pytest.raises(ImportRejected) as rejected:
        _import_xlsx(rows)

    assert [str(issue) for issue in rejected.value.issues] == [
        "工作表「汇总表」第13行「序号」列（A列）：序号 10 已被本年度项目「新样态学校专项经费项目」"
        "（广州市荔湾区教育局）使用，而该项目不在本文件中"
    ]
    assert _row_counts() == counts


def test_it_refuses_to_drop_a_finding_that_has_a_ledger_item(liwan_2020):
    counts = _row_counts()
    rows = copy_projects(projects_2020())
    del rows[6]["problems"][3]
    del rows[6]["recommendations"][3]

    with pytest.raises(ImportRejected) as rejected:
        _import_xlsx(rows)

    assert [str(issue) for issue in rejected.value.issues] == [
        "工作表「汇总表」第10行「问题」列（J列）：系统中该项目已有 4 条问题，文件只有 3 条；"
        "导入不会删除已有问题及其整改记录，请在后台处理后再导入"
    ]
    assert _row_counts() == counts


# --- deadline and dry run ----------------------------------------------------------------------


def test_it_sets_the_deadline_of_new_items_only():
    first_deadline = datetime.date(2021, 12, 31)
    later_deadline = datetime.date(2022, 6, 30)
    _import_xlsx(projects_2020(), deadline=first_deadline)
    rows = copy_projects(projects_2020())
    rows[0]["problems"].append({"title": "新增问题。", "body": "补充发现的问题。"})
    rows[0]["recommendations"].append({"title": "新增建议。", "body": "针对新增问题整改。"})
    rows.append(project(seq=11))

    report = _import_xlsx(rows, deadline=later_deadline)

    assert (report.items_created, report.findings_created, report.results_created) == (3, 3, 1)
    assert [(line[0], line[3], line[4]) for line in report.lines] == [
        ("工作表「汇总表」第4行", "更新", "新增问题（三）"),
        ("工作表「汇总表」第14行", "新建", ""),
    ]
    deadlines = dict(
        RectificationItem.objects.values_list("deadline").annotate(n=models.Count("id"))
    )
    assert deadlines == {first_deadline: 22, later_deadline: 3}
    new_item = Finding.objects.get(result__seq=1, number=3).recommendation.item
    assert new_item.deadline == later_deadline
    created = Event.objects.get(item=new_item, action=EventAction.CREATED)
    assert created.after["deadline"] == "2022-06-30"


def test_it_writes_nothing_on_a_dry_run_but_reports_what_it_would_do():
    report = _import_xlsx(projects_2020(), dry_run=True)

    assert report.dry_run
    assert (report.results_created, report.findings_created, report.items_created) == (10, 22, 22)
    assert set(_row_counts().values()) == {0}


def test_it_leaves_existing_rows_alone_on_a_dry_run_of_a_corrected_file(liwan_2020):
    counts = _row_counts()
    content = _content()
    corrected = copy_projects(projects_2020())
    corrected[6]["score"], corrected[6]["grade"] = Decimal("91.00"), "优"

    report = _import_xlsx(corrected, dry_run=True)

    assert report.results_updated == 1
    assert _row_counts() == counts
    assert _content() == content


# --- problem categories (YAML only) -------------------------------------------------------------


def _categories_of(seq: int, number: int) -> list[str]:
    finding = Finding.objects.get(result__round__year=2020, result__seq=seq, number=number)
    return sorted(finding.categories.values_list("name", flat=True))


def test_it_tags_the_2020_problems_with_the_fixtures_categories(liwan_2020):
    assert _categories_of(1, 1) == ["信息化建设"]
    assert _categories_of(4, 1) == ["项目管理与实施", "预算编制与执行"]
    indicator = FindingCategory.objects.get(name="绩效目标与指标设置")
    assert indicator.findings.count() == 7
    assert indicator.findings.values("result__project__unit").distinct().count() == 7
    assert not Finding.objects.filter(categories__isnull=True).exists()


def test_it_retags_a_problem_when_the_yaml_says_otherwise_and_reports_it(liwan_2020):
    doc = copy.deepcopy(YAML_2020)
    doc["projects"][0]["problems"][0]["categories"] = ["信息化建设", "监督管理"]
    doc["projects"][1]["problems"][1]["categories"] = []

    report = _import("liwan_2020.yaml", yaml.safe_dump(doc, allow_unicode=True).encode())

    assert report.changed
    assert report.categories_updated == 2
    assert "问题类别更新 2 条" in report.summary()
    assert _categories_of(1, 1) == ["信息化建设", "监督管理"]
    assert _categories_of(2, 2) == []
    assert [line[4] for line in report.lines] == ["问题（一）类别", "问题（二）类别"]


def test_it_leaves_categories_alone_when_the_file_does_not_list_them(liwan_2020):
    doc = copy.deepcopy(YAML_2020)
    for entry in doc["projects"]:
        for problem in entry["problems"]:
            del problem["categories"]
    tagged = Finding.categories.through.objects.count()

    report = _import("liwan_2020.yaml", yaml.safe_dump(doc, allow_unicode=True).encode())
    _import_xlsx(projects_2020())

    assert not report.changed
    assert Finding.categories.through.objects.count() == tagged


def test_it_refuses_an_unknown_category_and_writes_nothing():
    doc = copy.deepcopy(YAML_2020)
    doc["projects"][2]["problems"][1]["categories"] = ["宣传与群众满意度", "群众工作"]

    with pytest.raises(ImportRejected) as rejected:
        _import("liwan_2020.yaml", yaml.safe_dump(doc, allow_unicode=True).encode())

    assert [str(issue) for issue in rejected.value.issues] == [
        "文件「liwan_2020.yaml」第3个项目「问题」列（字段 categories）："
        "问题（二）的问题类别「群众工作」不存在，请先在后台“问题类别”中添加，或改用已有类别"
    ]
    assert not Finding.objects.exists()
