"""The public wording of one problem: staff edit or confirm it beside the ledger's text; the
redaction check's findings are shown; an edit made meanwhile is detected; the ledger is
untouched."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse

from rectification.models import RectificationItem
from results.models import PublicWording
from results.publication import wording_hash
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return factories.ItemFactory(
        deadline=datetime.date.today() + datetime.timedelta(days=30),
        measures="联系人：陈志强，电话020-81234567。",
    )


def _url(item: RectificationItem) -> str:
    return reverse("results:public-wording", args=[item.pk])


def _post(client, item, **fields):  # type: ignore[no-untyped-def]
    data = {
        "problem": item.recommendation.finding.title,
        "measures": "已明确专人负责。",
        "document": "《整改报告》（荔财〔2026〕1号），2026-11-30",
        "seen": wording_hash(item),
        **fields,
    }
    return client.post(_url(item), data)


def test_staff_see_the_ledger_text_and_what_the_check_found(client, item):
    client.force_login(factories.StaffUserFactory())
    response = client.get(_url(item))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="wording-flags"' in page
    assert [f.text for f in response.context["flags"]] == ["陈志强", "020-81234567"]
    assert response.context["form"].initial["measures"] == item.measures
    assert response.context["ledger_measures"] == item.measures


def test_saving_stores_the_public_wording_apart_from_the_ledger(client, item):
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    response = _post(client, item)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#entry-{item.pk}")
    wording = PublicWording.objects.get(item=item)
    assert (wording.measures, wording.edited_by) == ("已明确专人负责。", staff)
    assert wording.document == "《整改报告》（荔财〔2026〕1号），2026-11-30"
    item.refresh_from_db()
    assert item.measures == "联系人：陈志强，电话020-81234567。"
    page = client.get(_url(item)).content.decode()
    assert 'id="wording-clear"' in page


def test_the_draft_scope_is_kept_on_the_way_back(client, item):
    client.force_login(factories.StaffUserFactory())
    query = f"year={item.round_year}&units={item.unit_id}"
    response = client.post(
        f"{_url(item)}?next_query={query.replace('&', '%26')}",
        {
            "problem": "问题。",
            "measures": "措施。",
            "document": "",
            "seen": wording_hash(item),
        },
    )
    assert response["Location"] == f"{reverse('results:publication')}?{query}#entry-{item.pk}"


def test_an_edit_made_meanwhile_is_not_overwritten(client, item):
    client.force_login(factories.StaffUserFactory())
    seen = wording_hash(item)
    _post(client, item, measures="第一位同事的表述。")
    response = _post(client, item, measures="第二位同事的表述。", seen=seen)
    assert response.status_code == 409
    assert PublicWording.objects.get(item=item).measures == "第一位同事的表述。"


def test_empty_texts_are_refused(client, item):
    client.force_login(factories.StaffUserFactory())
    response = _post(client, item, measures="   ")
    assert response.status_code == 400
    assert not PublicWording.objects.exists()


def test_oversight_read_but_do_not_edit_and_units_see_nothing(client, item):
    client.force_login(factories.OversightFactory())
    response = client.get(_url(item))
    assert response.status_code == 200
    assert response.context["form"] is None
    assert _post(client, item).status_code == 403
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    assert client.get(_url(item)).status_code == 404
    assert _post(client, item).status_code == 404
    assert not PublicWording.objects.exists()


def test_the_way_back_keeps_only_the_drafts_own_parameters(client, item):
    client.force_login(factories.StaffUserFactory())
    hostile = "year=2020%26units=7%26units=x%26next=//evil.example%23"
    response = client.post(
        f"{_url(item)}?next_query={hostile}",
        {"problem": "问题。", "measures": "措施。", "document": "", "seen": wording_hash(item)},
    )
    assert response["Location"] == (
        f"{reverse('results:publication')}?year=2020&units=7#entry-{item.pk}"
    )


def test_personal_data_typed_into_the_wording_is_named_and_needs_confirming(client, item):
    client.force_login(factories.StaffUserFactory())
    response = _post(client, item, measures="已整改，咨询电话020-81112222。")
    page = response.content.decode()
    assert response.status_code == 400
    assert not PublicWording.objects.exists()
    # The findings are those of the text submitted, not of the text saved before.
    assert [f.text for f in response.context["flags"]] == ["020-81112222"]
    assert "020-81112222" in page
    assert 'name="confirm"' in page
    shown = response.context["form"].data["shown"]
    response = _post(
        client, item, measures="已整改，咨询电话020-81112222。", confirm="on", shown=shown
    )
    assert response.status_code == 302
    assert PublicWording.objects.get(item=item).confirmed == ["phone:020-81112222"]


def test_a_tick_confirms_only_the_findings_the_page_showed(client, item):
    client.force_login(factories.StaffUserFactory())
    page = client.get(_url(item))
    shown = page.context["form"].initial["shown"]
    assert json.loads(shown) == ["name:陈志强", "phone:020-81234567"]
    typed = "联系人：陈志强，电话020-81234567，身份证440103199003071232。"

    def tick(shown: str):  # type: ignore[no-untyped-def]
        return _post(client, item, measures=typed, confirm="on", shown=shown)

    # Something else typed in before ticking: the tick does not cover it.
    response = tick(shown)
    assert response.status_code == 400
    assert not PublicWording.objects.exists()
    assert "440103199003071232" in response.content.decode()
    shown = response.context["form"].data["shown"]
    assert "id_number:440103199003071232" in json.loads(shown)
    assert 'name="confirm" checked' not in response.content.decode()
    assert tick(shown).status_code == 302


def test_a_confirmed_finding_is_not_asked_about_again(client, item):
    client.force_login(factories.StaffUserFactory())
    text = "由分管领导陈志强牵头整改。"
    factories.UnitHeadFactory(unit=item.unit, full_name="陈志强")
    shown = json.dumps(["name:陈志强"])
    assert _post(client, item, measures=text, confirm="on", shown=shown).status_code == 302
    page = client.get(_url(item)).content.decode()
    assert 'name="confirm"' not in page
    assert "已确认" in page
    item.refresh_from_db()
    response = _post(client, item, measures=text, seen=wording_hash(item))
    assert response.status_code == 302
    # A new finding in the same wording is asked about.
    item.refresh_from_db()
    response = _post(client, item, measures=text + "电话13812345678。", seen=wording_hash(item))
    assert response.status_code == 400
    assert PublicWording.objects.get(item=item).measures == text


def test_a_year_in_the_way_back_that_is_not_a_year_is_dropped(client, item):
    client.force_login(factories.StaffUserFactory())
    response = client.post(
        f"{_url(item)}?next_query=year=20x0",
        {"problem": "问题。", "measures": "措施。", "document": "", "seen": wording_hash(item)},
    )
    assert response["Location"] == (
        f"{reverse('results:publication')}?year={item.round_year}#entry-{item.pk}"
    )
