from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.models import FindingCategory
from rectification import services
from rectification.choices import ItemStatus
from tests import factories

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
    assert _panels(client.get(_url(item))) == {"measures", "progress", "request_extension"}
    client.force_login(factories.StaffUserFactory())
    assert _panels(client.get(_url(item))) == {"assign", "close"}
    client.force_login(factories.OversightFactory())
    response = client.get(_url(item))
    assert _panels(response) == set()
    assert 'id="no-actions"' in response.content.decode()


def test_it_offers_review_actions_on_a_submitted_item(client):
    item = factories.ItemFactory(status=ItemStatus.SUBMITTED)
    client.force_login(factories.StaffUserFactory())
    assert _panels(client.get(_url(item))) == {"assign", "return", "close"}
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    assert _panels(client.get(_url(item))) == set()


def test_it_shows_progress_evidence_and_history(client):
    item = factories.ItemFactory()
    member = factories.UnitStaffFactory(unit=item.unit)
    services.save_measures(item=item, actor=services.Actor(user=member), measures="措施甲")
    evidence = factories.EvidenceFactory(progress__item=item, original_name="会议纪要.pdf")
    client.force_login(member)
    body = client.get(_url(item)).content.decode()
    assert "会议纪要.pdf" in body
    assert reverse("rectification:evidence-download", kwargs={"pk": evidence.pk}) in body
    assert "填写整改措施" in body or "Rectification measures" in body


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
        services.save_measures(item=item, actor=services.Actor(user=member), measures=f"措施{n}")
    assert count() == one


def test_an_id_too_long_for_the_database_is_not_found(client):
    client.force_login(factories.StaffUserFactory())
    assert client.get("/items/" + "9" * 30 + "/").status_code == 404
    assert client.get("/evidence/" + "9" * 30 + "/").status_code == 404
