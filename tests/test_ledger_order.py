"""The ledger's order (newest year, then table order) is copied onto each item and kept right
by everything that can change it: a new item, an import, the back-office."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluations.models import EvaluationResult, Finding
from liwan import clock
from rectification.models import RectificationItem
from rectification.selectors import items_visible_to, ledger_rows
from tests import factories

pytestmark = pytest.mark.django_db


def _order(item: RectificationItem) -> tuple[int, int, int]:
    item.refresh_from_db()
    return (item.round_year, item.result_seq, item.finding_number)


def test_a_new_item_takes_its_year_and_numbers_from_the_evaluation():
    finding = factories.FindingFactory(result__round__year=2021, result__seq=7, number=3)
    item = factories.ItemFactory(recommendation__finding=finding)
    assert _order(item) == (2021, 7, 3)


def test_the_import_writes_the_order_of_the_table(liwan_2020):
    items = RectificationItem.objects.all()
    assert items.count() == 22
    for item in items.select_related("recommendation__finding__result__round"):
        finding = item.recommendation.finding
        assert (item.round_year, item.result_seq, item.finding_number) == (
            finding.result.round.year,
            finding.result.seq,
            finding.number,
        )


def test_the_ledger_lists_newest_year_first_then_in_table_order():
    late = factories.ItemFactory(
        recommendation__finding__result__round__year=2021,
        recommendation__finding__result__seq=2,
    )
    early = factories.ItemFactory(
        recommendation__finding__result__round__year=2021,
        recommendation__finding__result__seq=1,
        recommendation__finding__number=2,
    )
    first = factories.ItemFactory(
        recommendation__finding=factories.FindingFactory(
            result=early.recommendation.finding.result, number=1
        )
    )
    older = factories.ItemFactory(recommendation__finding__result__round__year=2020)
    staff = factories.StaffUserFactory()
    assert list(ledger_rows(items_visible_to(staff), today=clock.today())) == [
        first,
        early,
        late,
        older,
    ]


def test_renumbering_a_result_in_the_back_office_reorders_its_items(client):
    item = factories.ItemFactory(recommendation__finding__result__seq=4)
    result: EvaluationResult = item.recommendation.finding.result
    staff = factories.StaffUserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    url = reverse("admin:evaluations_evaluationresult_change", args=[result.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "seq": 9,
            "project": result.project_id,
            "round": result.round_id,
            "findings-TOTAL_FORMS": 1,
            "findings-INITIAL_FORMS": 1,
            "findings-0-id": item.recommendation.finding.pk,
            "findings-0-result": result.pk,
            "findings-0-number": 5,
            "findings-0-title": item.recommendation.finding.title,
            "findings-0-body": item.recommendation.finding.body,
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert _order(item)[1:] == (9, 5)


def test_renumbering_a_finding_in_the_back_office_reorders_its_item(client):
    item = factories.ItemFactory(recommendation__finding__number=1)
    finding: Finding = item.recommendation.finding
    client.force_login(factories.StaffUserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:evaluations_finding_change", args=[finding.pk])
    response = client.post(
        url,
        {
            "result": finding.result_id,
            "number": 6,
            "title": finding.title,
            "body": finding.body,
            "recommendation-TOTAL_FORMS": 1,
            "recommendation-INITIAL_FORMS": 1,
            "recommendation-0-id": item.recommendation.pk,
            "recommendation-0-finding": finding.pk,
            "recommendation-0-title": item.recommendation.title,
            "recommendation-0-body": item.recommendation.body,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert _order(item)[2] == 6


def test_editing_a_recommendation_in_the_back_office_updates_the_keyword_search(client):
    item = factories.ItemFactory()
    recommendation = item.recommendation
    client.force_login(factories.StaffUserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:evaluations_recommendation_change", args=[recommendation.pk])
    response = client.post(
        url, {"finding": recommendation.finding_id, "title": "建立台账销号制度。", "body": ""}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    client.force_login(factories.StaffUserFactory())
    ledger = client.get(reverse("rectification:ledger"), {"q": "台账销号"})
    assert [row.pk for row in ledger.context["object_list"]] == [item.pk]


def test_the_sync_writes_only_the_items_whose_copies_differ(liwan_2020):
    items = RectificationItem.objects.all()
    assert items.sync_from_evaluation() == 0
    item = items.first()
    RectificationItem.objects.filter(pk=item.pk).update(result_seq=99, search_text="")
    assert items.sync_from_evaluation() == 1
    item.refresh_from_db()
    assert item.result_seq == item.recommendation.finding.result.seq
    assert item.recommendation.finding.title in item.search_text
