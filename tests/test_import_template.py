"""导入模板.xlsx: generated, then read back by the real importer; downloadable from the
back-office import page."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from evaluations.importing import read_table
from evaluations.importing.template import EXAMPLE, template_workbook
from evaluations.models import Project
from rectification.imports import import_evaluation_table
from tests import factories

URL = reverse("admin:evaluations_evaluationround_import")


def test_the_template_imports_cleanly_with_its_example_row():
    table = read_table("导入模板.xlsx", template_workbook(year=2026))

    assert [str(issue) for issue in table.issues] == []
    assert table.year == 2026
    [record] = table.projects
    assert record.where == "工作表「汇总表」第4行"
    assert record.unit == EXAMPLE["单位名称"]
    assert record.budget == Decimal("1234.50")
    assert record.completion_rate == Decimal("95.75")
    assert [f.title for f in record.findings] == ["绩效目标设置不够细化。", "资金支付进度偏慢。"]
    assert len(record.recommendations) == 2
    assert table.notes == []  # nothing read in an unusual way


def test_the_template_has_the_two_row_merged_header_the_importer_reads():
    sheet = load_workbook(io.BytesIO(template_workbook(year=2026)))["汇总表"]

    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:K1", "A2:A3", "D2:D3", "E2:G2", "H2:I2", "J2:K2"} <= merged
    assert [c.value for c in sheet[3]][4:] == [
        "预算数",
        "完成数",
        "预算完成率",
        "分数",
        "等级",
        "问题",
        "建议",
    ]
    assert sheet["E4"].number_format == "#,##0.00"
    assert sheet["G4"].number_format == "0.00%"
    assert sheet.freeze_panes == "A4"


def test_the_template_carries_notes_on_a_sheet_of_their_own():
    workbook = load_workbook(io.BytesIO(template_workbook(year=2026)))

    notes = [row[0] for row in workbook["填写说明"].iter_rows(values_only=True)]
    assert notes[0] == "填写说明"
    assert any("合计" in line for line in notes)
    assert any("0.9575" in line for line in notes)


@pytest.mark.django_db
def test_its_example_row_goes_all_the_way_into_the_database():
    table = read_table("导入模板.xlsx", template_workbook(year=2026))

    import_evaluation_table(table=table)

    assert Project.objects.get().name == EXAMPLE["项目名称"]


@pytest.mark.django_db
def test_staff_download_it_from_the_import_page(client):
    client.force_login(factories.StaffUserFactory())

    page = client.get(URL).content.decode()
    response = client.get(URL, {"download": "template"})

    assert 'href="?download=template"' in page
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx" in response["Content-Disposition"]
    assert read_table("导入模板.xlsx", response.content).issues == []


@pytest.mark.django_db
def test_others_cannot_download_it(client):
    client.force_login(factories.UnitStaffFactory())

    response = client.get(URL, {"download": "template"})

    assert response.status_code == 302  # to the admin's sign-in: not staff
