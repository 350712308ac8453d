"""The back-office of evaluation data: a corrected problem or recommendation text is an event on
the item that answers it, and a project moved to another unit takes its items along."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rectification.choices import EventAction
from rectification.models import Event, RectificationItem
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory(is_superuser=True)
    client.force_login(user)
    return user


def _post_change(client, model: str, obj, data: dict):  # type: ignore[no-untyped-def]
    url = reverse(f"admin:evaluations_{model}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    payload = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            payload[name] = [getattr(v, "pk", v) for v in value]
        else:
            payload[name] = getattr(value, "pk", value)
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            payload[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
        for inline in formset.formset.forms:
            for name, field in inline.fields.items():
                value = inline.initial.get(name, field.initial)
                if value is not None:
                    payload[inline.add_prefix(name)] = getattr(value, "pk", value)
    payload.update(data)
    return client.post(url, payload, REMOTE_ADDR="10.9.8.7")


def test_it_records_a_corrected_recommendation_text_on_the_item(client, staff):
    item = factories.ItemFactory()
    recommendation = item.recommendation
    response = _post_change(
        client, "recommendation", recommendation, {"title": "改正后的整改建议标题。"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = Event.objects.filter(item=item, action=EventAction.EVALUATION_EDITED)
    assert event.actor == staff
    assert event.ip == "10.9.8.7"
    assert event.before["recommendation"]["title"] == "提高绩效指标编制水平。"
    assert event.after["recommendation"]["title"] == "改正后的整改建议标题。"
    item.refresh_from_db()
    assert "改正后的整改建议标题。" in item.search_text


def test_it_records_a_corrected_problem_text_and_nothing_when_unchanged(client, staff):
    item = factories.ItemFactory()
    finding = item.recommendation.finding
    _post_change(client, "finding", finding, {})
    assert not Event.objects.filter(item=item).exists()
    _post_change(client, "finding", finding, {"body": "一是指标设置不全面。"})
    [event] = Event.objects.filter(item=item, action=EventAction.EVALUATION_EDITED)
    assert event.after["finding"]["body"] == "一是指标设置不全面。"


def test_moving_a_project_to_another_unit_moves_its_items(client, staff):
    item = factories.ItemFactory()
    owner = factories.UnitStaffFactory(unit=item.unit)
    RectificationItem.objects.filter(pk=item.pk).update(owner=owner)
    other = factories.UnitFactory()
    project = item.recommendation.finding.result.project

    response = _post_change(client, "project", project, {"unit": other.pk})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.unit == other
    assert item.owner is None, "the old unit's owner does not answer for the new unit"
    [event] = Event.objects.filter(item=item, action=EventAction.UNIT_CHANGED)
    assert event.before["unit"] != event.after["unit"] == other.name
    assert event.before["owner"] == owner.pk
