"""One project's budget advice: staff override the rule with a reason or return to it; every
decision is kept; a decision made meanwhile is detected; nobody else writes."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from evaluations.models import Grade
from rectification.services import Actor
from results.choices import BudgetAdvice
from results.models import BudgetDecision
from results.services import decide_budget_advice
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def result():
    result = factories.ResultFactory(grade=Grade.GOOD)
    factories.ItemFactory(
        recommendation__finding__result=result, deadline=TODAY + datetime.timedelta(days=30)
    )
    return result  # 良 and under way: the rule says 整改后安排


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()
    client.force_login(user)
    return user


def _url(result) -> str:  # type: ignore[no-untyped-def]
    return reverse("results:budget-decision", args=[result.pk])


def _post(client, result, seen: int = 0, **fields):  # type: ignore[no-untyped-def]
    return client.post(_url(result), {"seen_decision": seen, **fields})


def test_staff_override_the_rule_with_a_reason_and_the_sheet_shows_it(client, staff, result):
    response = _post(client, result, advice="support", reason="区委区政府重点保障项目")

    assert response.status_code == 302
    assert response["Location"].endswith(f"#result-{result.pk}")
    decision = BudgetDecision.objects.get(result=result)
    assert (decision.advice, decision.proposed, decision.reason, decision.decided_by) == (
        BudgetAdvice.SUPPORT,
        BudgetAdvice.AFTER_RECTIFICATION,
        "区委区政府重点保障项目",
        staff,
    )
    page = client.get(_url(result)).content.decode()
    assert 'id="advice-in-force" data-advice="support"' in page
    assert "规则建议为整改后安排" in page and "区委区政府重点保障项目" in page


def test_returning_to_the_rule_keeps_the_whole_history(client, staff, result):
    _post(client, result, advice="support", reason="重点保障")
    first = BudgetDecision.objects.get()
    assert _post(client, result, first.pk, advice="", reason="保障理由不再成立").status_code == 302

    history = list(BudgetDecision.objects.filter(result=result).order_by("id"))
    assert [(d.advice, d.reason) for d in history] == [
        ("support", "重点保障"),
        ("", "保障理由不再成立"),
    ]
    page = client.get(_url(result)).content.decode()
    assert 'data-advice="after_rectification"' in page
    assert page.index("保障理由不再成立") < page.index("重点保障</div>")  # newest first
    assert "恢复按规则建议" in page


def test_a_decision_without_a_reason_is_refused_and_writes_nothing(client, staff, result):
    response = _post(client, result, advice="defer", reason="   ")
    assert response.status_code == 400
    assert "这个字段是必填项" in response.content.decode()
    assert not BudgetDecision.objects.exists()
    assert _post(client, result, advice="nonsense", reason="理由").status_code == 400
    assert not BudgetDecision.objects.exists()


def test_a_decision_made_meanwhile_is_detected(client, staff, result):
    other = factories.StaffUserFactory()
    decide_budget_advice(
        result=result,
        actor=Actor(user=other),
        advice=BudgetAdvice.DEFER,
        reason="另一位同事的决定",
        seen_decision=0,
        today=TODAY,
    )
    response = _post(client, result, 0, advice="support", reason="我的决定")
    assert response.status_code == 409
    assert "他人已调整" in response.content.decode()
    assert "我的决定" in response.content.decode()  # the user's text is kept in the form
    assert BudgetDecision.objects.count() == 1


def test_nothing_changes_when_the_advice_is_already_in_force(client, staff, result):
    response = _post(client, result, advice="", reason="按规则")
    assert response.status_code == 400
    assert "无需调整" in response.content.decode()
    _post(client, result, advice="reduce", reason="核减")
    seen = BudgetDecision.objects.get().pk
    assert _post(client, result, seen, advice="reduce", reason="再次核减").status_code == 400
    assert BudgetDecision.objects.count() == 1


def test_oversight_reads_without_a_form_and_cannot_post(client, result):
    reader = factories.OversightFactory()
    client.force_login(reader)
    page = client.get(_url(result)).content.decode()
    assert 'id="decision-form"' not in page and "尚无调整" in page
    assert _post(client, result, advice="support", reason="越权").status_code == 403
    assert not BudgetDecision.objects.exists()
    with pytest.raises(PermissionDenied):
        decide_budget_advice(
            result=result,
            actor=Actor(user=reader),
            advice="support",
            reason="越权",
            seen_decision=0,
            today=TODAY,
        )


def test_a_unit_does_not_find_the_page(client, result):
    client.force_login(factories.UnitStaffFactory(unit=result.project.unit))
    assert client.get(_url(result)).status_code == 404
    assert _post(client, result, advice="support", reason="自己定").status_code == 404
    assert not BudgetDecision.objects.exists()


def test_the_service_refuses_what_the_form_would(result):
    actor = Actor(user=factories.StaffUserFactory())
    with pytest.raises(ValidationError) as no_reason:
        decide_budget_advice(
            result=result, actor=actor, advice="defer", reason="", seen_decision=0, today=TODAY
        )
    assert no_reason.value.code == "reason"
    with pytest.raises(ValidationError) as bad:
        decide_budget_advice(
            result=result, actor=actor, advice="more", reason="x", seen_decision=0, today=TODAY
        )
    assert bad.value.code == "advice"
