"""Problem categories in the back-office: the taxonomy, and tagging findings in bulk."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluations.models import FindingCategory
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def test_the_starting_taxonomy_is_in_place():
    assert list(FindingCategory.objects.values_list("name", flat=True)) == [
        "绩效目标与指标设置",
        "预算编制与执行",
        "项目管理与实施",
        "监督管理",
        "宣传与群众满意度",
        "信息化建设",
        "队伍建设",
    ]


def test_staff_tag_several_findings_at_once(client, staff):
    findings = [factories.FindingFactory() for _ in range(3)]
    category = FindingCategory.objects.get(name="监督管理")

    response = client.post(
        reverse("admin:evaluations_finding_changelist"),
        {"action": f"tag_{category.pk}", "_selected_action": [f.pk for f in findings[:2]]},
        follow=True,
    )

    assert "已将 2 个问题标注为「监督管理」" in response.content.decode()
    assert set(category.findings.all()) == set(findings[:2])


def test_staff_add_a_category(client, staff):
    response = client.post(
        reverse("admin:evaluations_findingcategory_add"),
        {"name": "政府采购", "order": 8, "description": ""},
    )

    assert response.status_code == 302
    assert FindingCategory.objects.filter(name="政府采购").exists()


def test_a_unit_user_cannot_open_it(client):
    client.force_login(factories.UnitStaffFactory())
    response = client.get(reverse("admin:evaluations_findingcategory_changelist"))
    assert response.status_code == 302
