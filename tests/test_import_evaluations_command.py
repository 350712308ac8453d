from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evaluations.models import EvaluationResult, Finding, Recommendation
from rectification.models import Event, RectificationItem
from tests.conftest import FIXTURES
from tests.spreadsheets import build_csv, build_xlsx, copy_projects, project, projects_2020

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_evaluations", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _fail(*args: str) -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_evaluations", *args, stdout=io.StringIO(), stderr=err)
    return str(failed.value), err.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_it_imports_the_2020_fixture_into_22_items():
    call_command("import_evaluations", str(FIXTURES / "liwan_2020.yaml"))
    assert EvaluationResult.objects.count() == 10
    assert Finding.objects.count() == 22
    assert Recommendation.objects.count() == 22
    assert RectificationItem.objects.count() == 22


def test_it_imports_the_official_workbook_and_reports_each_project(tmp_path):
    path = _write(tmp_path, "2020年汇总表.xlsx", build_xlsx(projects_2020()))

    out, err = _run(path)

    assert err == ""
    line = "新建：中国共产党广州市荔湾区委员会组织部 · 党组织工作专项经费项目"
    assert f"{line}  [工作表「汇总表」第10行]" in out.splitlines()
    assert "新建整改事项 22 项。" in out
    assert RectificationItem.objects.count() == 22


def test_it_says_so_when_a_second_import_changes_nothing(tmp_path):
    path = _write(tmp_path, "汇总表.csv", build_csv(projects_2020()))
    _run(path)
    events = Event.objects.count()

    out, _ = _run(path)

    assert "数据与系统中一致，没有变化。" in out
    assert "评价结果新建 0、更新 0、无变化 10" in out
    assert Event.objects.count() == events


def test_it_sets_the_deadline_of_the_new_items(tmp_path):
    path = _write(tmp_path, "汇总表.xlsx", build_xlsx(projects_2020()))

    _run(path, "--deadline", "2021-12-31")

    assert set(RectificationItem.objects.values_list("deadline", flat=True)) == {
        datetime.date(2021, 12, 31)
    }


def test_it_keeps_existing_deadlines_when_a_later_import_gives_another(tmp_path):
    _run(str(FIXTURES / "liwan_2020.yaml"), "--deadline", "2021-12-31")
    rows = [*copy_projects(projects_2020()), project(seq=11)]
    path = _write(tmp_path, "汇总表.xlsx", build_xlsx(rows))

    _run(path, "--deadline", "2022-03-31")

    deadlines = sorted(RectificationItem.objects.values_list("deadline", flat=True))
    assert deadlines == [datetime.date(2021, 12, 31)] * 22 + [datetime.date(2022, 3, 31)] * 2


def test_it_rejects_a_deadline_that_is_not_a_date():
    message, _ = _fail(str(FIXTURES / "liwan_2020.yaml"), "--deadline", "2021/12/31")

    assert message == "日期应为 YYYY-MM-DD 格式，收到「2021/12/31」"


def test_it_writes_nothing_on_a_dry_run(tmp_path):
    path = _write(tmp_path, "汇总表.xlsx", build_xlsx(projects_2020()))

    out, _ = _run(path, "--dry-run")

    assert "[试运行，未写入] 2020年度：新建单位 10 个" in out
    assert RectificationItem.objects.count() == 0
    assert EvaluationResult.objects.count() == 0
    assert Event.objects.count() == 0


def test_it_rejects_a_year_that_differs_from_the_title(tmp_path):
    path = _write(tmp_path, "汇总表.xlsx", build_xlsx(projects_2020()))

    message, err = _fail(path, "--year", "2021")

    assert message == "文件有 1 处错误，未导入任何数据。"
    assert err == "文件「汇总表.xlsx」：文件所属年度为 2020 年，与指定的评价年度 2021 不一致\n"
    assert EvaluationResult.objects.count() == 0


def test_it_needs_the_year_when_the_title_has_none(tmp_path):
    path = _write(tmp_path, "汇总表.xlsx", build_xlsx(projects_2020(), title=None))

    _, err = _fail(path)
    assert (
        err
        == "文件「汇总表.xlsx」：无法从标题确定评价年度，请指定评价年度（命令行用 --year，后台导入页填写“评价年度”）\n"
    )

    _run(path, "--year", "2020")
    assert EvaluationResult.objects.filter(round__year=2020).count() == 10


def test_it_prints_every_bad_cell_and_imports_none_of_the_good_rows(tmp_path):
    rows = copy_projects(projects_2020())
    rows[2]["budget"] = "-360.00"
    rows[9]["grade"] = "优"
    path = _write(tmp_path, "汇总表.xlsx", build_xlsx(rows))

    message, err = _fail(path)

    assert message == "文件有 2 处错误，未导入任何数据。"
    assert err.splitlines() == [
        "工作表「汇总表」第6行「预算数」列（E列）：预算数不能为负数",
        "工作表「汇总表」第13行「等级」列（I列）：等级「优」与分数 84.00 不符，"
        "按评分等级应为「良」（90–100 优，80–90 良，60–80 中，60 以下差）",
    ]
    assert EvaluationResult.objects.count() == 0
    assert RectificationItem.objects.count() == 0


def test_it_names_the_csv_cell_of_a_bad_rate(tmp_path):
    rows = copy_projects(projects_2020())
    rows[6]["completion_rate"] = Decimal("73.50")
    path = _write(tmp_path, "汇总表.csv", build_csv(rows, encoding="gbk"))

    _, err = _fail(path)

    assert err == (
        "文件「汇总表.csv」第10行「预算完成率」列（G列）：预算完成率 73.50% 与 "
        "完成数÷预算数 = 73.16% 不符（允许误差 0.01 个百分点）\n"
    )


def test_it_rejects_an_image_renamed_to_xlsx(tmp_path):
    path = _write(tmp_path, "汇总表.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)

    _, err = _fail(path)

    assert err == "文件「汇总表.xlsx」：不是有效的 Excel（.xlsx）文件，无法读取\n"


def test_it_rejects_an_empty_file(tmp_path):
    path = _write(tmp_path, "汇总表.xlsx", b"")

    message, err = _fail(path)

    assert message == "文件有 1 处错误，未导入任何数据。"
    assert err == "文件「汇总表.xlsx」：文件为空\n"


def test_it_reports_a_missing_file(tmp_path):
    message, _ = _fail(str(tmp_path / "没有这个文件.xlsx"))

    assert message == f"找不到文件：{tmp_path / '没有这个文件.xlsx'}"


def test_it_refuses_a_file_over_the_size_limit(tmp_path, settings):
    settings.LIWAN_IMPORT_MAX_BYTES = 1024 * 1024
    path = _write(tmp_path, "汇总表.csv", b"x" * (1024 * 1024 + 1))

    message, _ = _fail(path)

    assert message == "文件超过 1 MB，拒绝导入"


def test_it_refuses_a_yaml_alias_bomb_quickly_and_writes_nothing(tmp_path):
    import time

    from tests import hostile

    path = _write(tmp_path, "2021汇总表.yaml", hostile.yaml_alias_bomb(9))
    started = time.perf_counter()
    message, err = _fail(path)
    assert time.perf_counter() - started < 2
    assert "文件「2021汇总表.yaml」第2行：不支持 YAML 别名（*a0）" in err
    assert "未导入任何数据" in message
    assert not EvaluationResult.objects.exists()


def test_it_prints_how_total_rows_were_read(tmp_path):
    rows = [*projects_2020(), ["合计"]]
    path = _write(tmp_path, "2020年汇总表.xlsx", build_xlsx(rows))

    out, err = _run(path, "--dry-run")

    assert err == ""
    assert "说明：工作表「汇总表」第14行：合计行：未填预算数、完成数，未核对；不作为项目导入" in out
    assert "新建整改事项 22 项" in out


def test_it_prints_the_likely_repeats_of_the_earlier_year(liwan_2020):
    out, _ = _run(str(FIXTURES.parent / "tests" / "fixtures" / "liwan_2021_repeats.yaml"))
    assert (
        "可能屡审屡犯：广州市荔湾区市政园林绿化管理中心 · 信息系统功能仍有较大进步空间。"
        "  ← 2020年度：信息系统开发仍有进步空间。"
    ) in out
    assert "其中 2 个问题可能是以往年度问题的重现（屡审屡犯）" in out
