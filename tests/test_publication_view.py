"""The public disclosure's draft page (整改情况公开): who sees it, the redaction check holding
publishing back until staff edit or confirm, publishing exactly what was read (versions, hash,
scope), and the 2020 demo publication against a hand-written expectation."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from liwan import clock
from rectification import snapshots
from rectification.choices import SnapshotKind, SnapshotStatus
from rectification.models import RectificationItem, RoundSnapshot
from rectification.services import Actor
from results.choices import RedactionKind
from results.models import Publication, PublicWording
from results.publication import content_hash, draft, wording_hash
from results.services import publish, save_public_wording
from tests import factories, workflow
from tests.concurrency import while_uncommitted

pytestmark = pytest.mark.django_db

URL = reverse("results:publication")
TODAY = datetime.date.today()


def _item(unit=None, measures: str = "已制定整改方案并落实。", **kwargs) -> RectificationItem:  # type: ignore[no-untyped-def]
    unit = unit or factories.UnitFactory()
    return factories.ItemFactory(
        recommendation__finding__result__project__unit=unit,
        deadline=TODAY + datetime.timedelta(days=30),
        measures=measures,
        **kwargs,
    )


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory(full_name="区财政局评价办 王珊")
    client.force_login(user)
    return user


def _seen(client, query: str = "") -> str:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    return response.context["publish_form"].initial["seen"]


def test_staff_read_the_round_as_it_will_be_published(client, staff):
    item = _item()
    response = client.get(f"{URL}?year={item.round_year}")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="redaction-clear"' in page
    assert 'id="publish-form"' in page
    assert f'id="entry-{item.pk}"' in page
    assert item.recommendation.finding.title in page
    assert response.context["content"]["totals"] == {
        "items": 1,
        "closed": 0,
        "rate": "0.0",
        "unfinished": 1,
    }


def test_oversight_read_the_draft_but_may_not_publish(client):
    item = _item()
    client.force_login(factories.OversightFactory())
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["publish_form"] is None
    response = client.post(URL, {"seen": content_hash(response.context["content"])})
    assert response.status_code == 403
    assert not Publication.objects.exists()
    assert item.round_year == response.context["year"]


def test_units_never_see_the_draft(client):
    item = _item()
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"seen": "x"}).status_code == 404


def test_personal_data_holds_publishing_back(client, staff):
    _item()
    flagged = _item(measures="由联系人：陈志强落实，电话13812345678。")
    response = client.get(URL)
    page = response.content.decode()
    assert 'id="redaction-blocking"' in page
    assert [e.item.pk for e in response.context["draft"].blocking] == [flagged.pk]
    assert f"{RedactionKind.PHONE.label}「13812345678」" in page
    response = client.post(URL, {"seen": content_hash(response.context["content"])})
    assert response.status_code == 400
    assert "脱敏" in response.context["error"] or "personal data" in response.context["error"]
    assert not Publication.objects.exists()


def test_edited_wording_unblocks_and_is_what_the_public_reads(client, staff):
    flagged = _item(measures="联系人：陈志强，电话13812345678。")
    save_public_wording(
        item=flagged,
        actor=Actor(user=staff),
        problem="问题已公开表述。",
        measures="已明确专人负责整改。",
        document="《整改报告》（荔卫〔2026〕3号）",
        seen=wording_hash(flagged),
    )
    assert PublicWording.objects.get(item=flagged).confirmed == []
    seen = _seen(client)
    response = client.post(URL, {"seen": seen})
    publication = Publication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("results:public-publication", args=[publication.pk])
    entry = publication.content["groups"][0]["projects"][0]["entries"][0]
    assert entry == {
        "number": 1,
        "problem": "问题已公开表述。",
        "outcome": "正在整改",
        "measures": "已明确专人负责整改。",
        "document": "《整改报告》（荔卫〔2026〕3号）",
        "date": "",
    }
    assert "13812345678" not in str(publication.content)
    # The ledger's own text is untouched.
    flagged.refresh_from_db()
    assert flagged.measures == "联系人：陈志强，电话13812345678。"


def test_confirming_the_wording_unblocks_it_until_a_new_finding_appears(client, staff):
    flagged = _item(measures="由陈志强同志牵头，黄志明同志配合。")
    # A person the ledger knows: the check finds the name without a role before it.
    factories.UnitHeadFactory(unit=flagged.unit, full_name="陈志强")
    assert [e.item.pk for e in client.get(URL).context["draft"].blocking] == [flagged.pk]
    wording = {
        "item": flagged,
        "actor": Actor(user=staff),
        "problem": flagged.recommendation.finding.title,
        "measures": flagged.measures,
        "document": "",
        "seen": wording_hash(flagged),
    }
    # Saving alone confirms nothing: the findings are named and nothing is written.
    with pytest.raises(ValidationError) as refused:
        save_public_wording(**wording)
    assert refused.value.code == "redaction"
    assert "陈志强" in refused.value.messages[0]
    assert not PublicWording.objects.exists()
    save_public_wording(**wording, confirm=True, shown=["name:陈志强"])
    response = client.get(URL)
    assert response.context["draft"].blocking == []
    assert [e.item.pk for e in response.context["draft"].flagged] == [flagged.pk]
    assert 'id="redaction-confirmed"' in response.content.decode()
    # A person the ledger learns of afterwards, named in the same wording, is a new finding.
    factories.UnitStaffFactory(unit=flagged.unit, full_name="黄志明")
    assert [e.item.pk for e in client.get(URL).context["draft"].blocking] == [flagged.pk]
    assert client.post(URL, {"seen": _seen(client)}).status_code == 400
    assert not Publication.objects.exists()


def test_publishing_freezes_the_content_with_its_hash_and_who(client, staff):
    item = _item()
    seen = _seen(client)
    client.post(URL, {"seen": seen})
    publication = Publication.objects.get()
    assert publication.sha256 == seen == content_hash(publication.content)
    assert (publication.year, publication.number) == (item.round_year, 1)
    assert publication.published_by == staff
    # A change in the ledger afterwards does not change what was published.
    RectificationItem.objects.filter(pk=item.pk).update(measures="后来改写的措施。")
    publication.refresh_from_db()
    assert publication.sha256 == content_hash(publication.content)
    assert "后来改写的措施" not in str(publication.content)


def test_a_draft_changed_since_it_was_read_is_not_published(client, staff):
    item = _item()
    seen = _seen(client)
    RectificationItem.objects.filter(pk=item.pk).update(measures="刚刚改写的措施。")
    response = client.post(URL, {"seen": seen})
    assert response.status_code == 409
    assert not Publication.objects.exists()


def test_each_publication_is_a_new_version_and_older_ones_point_to_the_newest(client, staff):
    item = _item()
    client.post(URL, {"seen": _seen(client)})
    RectificationItem.objects.filter(pk=item.pk).update(measures="第二版的措施。")
    client.post(URL, {"seen": _seen(client)})
    first, second = Publication.objects.order_by("number")
    assert (first.number, second.number) == (1, 2)
    assert first.sha256 != second.sha256
    page = client.get(reverse("results:public-publication", args=[first.pk])).content.decode()
    assert 'id="newer-version"' in page
    response = client.get(URL)
    assert list(response.context["versions"]) == [second, first]


def test_a_publication_of_some_units_holds_only_theirs(client, staff):
    a, b = factories.UnitFactory(name="甲单位"), factories.UnitFactory(name="乙单位")
    _item(unit=a)
    _item(unit=b)
    year = RectificationItem.objects.first().round_year
    query = f"year={year}&units={a.pk}"
    seen = _seen(client, query)
    response = client.post(f"{URL}?{query}", {"seen": seen})
    assert response.status_code == 302
    publication = Publication.objects.get()
    assert [g["unit"] for g in publication.content["groups"]] == ["甲单位"]
    assert publication.content["units"] == ["甲单位"]
    assert list(publication.units.all()) == [a]


def test_an_unknown_year_shows_the_newest_round(client, staff):
    item = _item()
    response = client.get(f"{URL}?year=1999&units=abc")
    assert response.status_code == 200
    assert response.context["year"] == item.round_year


def test_the_draft_takes_the_same_queries_for_more_items(client, staff):
    unit = factories.UnitFactory()
    _item(unit=unit)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(5):
        item = _item(unit=factories.UnitFactory())
        workflow.worked_on(item, factories.UnitStaffFactory(unit=item.unit))
        if n % 2:
            # No measures: the public text falls back on the unit's latest progress note.
            RectificationItem.objects.filter(pk=item.pk).update(measures="")
    with CaptureQueriesContext(connection) as more:
        response = client.get(URL)
    assert len(more) == len(few)
    measures = [e.measures for e in response.context["draft"].entries]
    assert measures.count("已完成整改") == 2


def test_the_same_draft_is_not_published_twice(client, staff):
    _item()
    seen = _seen(client)
    assert client.post(URL, {"seen": seen}).status_code == 302
    response = client.post(URL, {"seen": seen})
    assert response.status_code == 400
    assert response.context["error"] == "此稿已作为第1版发布，内容没有变化。"
    assert Publication.objects.count() == 1
    # The next day it reads the same but for its date: still not a new version.
    tomorrow_noon = datetime.datetime.combine(TODAY + datetime.timedelta(days=1), datetime.time(12))
    with time_machine.travel(tomorrow_noon, tick=False):
        # A new sign-in: the session of today would have timed out by then.
        client.logout()
        client.force_login(staff)
        response = client.post(URL, {"seen": _seen(client)})
    assert response.status_code == 400
    assert Publication.objects.count() == 1


def test_the_same_draft_of_other_units_is_another_publication(client, staff):
    a = factories.UnitFactory(name="甲单位")
    _item(unit=a)
    client.post(URL, {"seen": _seen(client)})
    query = f"year={Publication.objects.get().year}&units={a.pk}"
    # The unit's own publication lists the same problems as the round's, but is not its copy.
    assert client.post(f"{URL}?{query}", {"seen": _seen(client, query)}).status_code == 302
    assert Publication.objects.count() == 2


def test_the_draft_lists_fifty_problems_a_page_keeping_its_scope(client, staff):
    unit = factories.UnitFactory()
    result = factories.ResultFactory(project__unit=unit)
    for number in range(1, 52):
        factories.ItemFactory(
            recommendation__finding__result=result, recommendation__finding__number=number
        )
    query = f"year={result.round.year}&units={unit.pk}"
    first = client.get(f"{URL}?{query}")
    assert len(first.context["entries"].object_list) == 50
    assert f'href="?{query.replace("&", "&amp;")}&amp;page=2"' in first.content.decode()
    second = client.get(f"{URL}?{query}&page=2")
    assert len(second.context["entries"].object_list) == 1
    assert second.context["content"]["totals"]["items"] == 51


@pytest.mark.django_db(transaction=True)
def test_two_first_versions_published_at_once_leave_one(staff):
    """A colleague's first version of the year is being written (not yet committed, so no
    row to lock): ours waits on the unique version number, and is told to read again."""
    item = _item()
    current = draft(user=staff, year=item.round_year, units=[], today=TODAY)

    def colleague() -> None:
        Publication.objects.create(
            year=item.round_year,
            number=1,
            title="同事的版本",
            content={},
            sha256="0" * 64,
            published_by=staff,
        )

    def ours() -> None:
        publish(
            actor=Actor(user=staff),
            year=item.round_year,
            units=[],
            seen=content_hash(current.content()),
            today=TODAY,
        )

    with pytest.raises(ValidationError) as refused:
        while_uncommitted(colleague, ours)
    assert refused.value.code == "stale"
    assert list(Publication.objects.values_list("title", flat=True)) == ["同事的版本"]


# --- the 2020 demo data -------------------------------------------------------------------

NOW = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)


def test_the_2020_demo_publication_matches_the_hand_written_expectation(liwan_2020, settings):
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    staff = User.objects.get(username="pingjia")
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        current = draft(user=staff, year=2020, units=[], today=clock.today())
    content = current.content()
    assert current.flagged == []
    assert content["totals"] == {"items": 22, "closed": 3, "rate": "13.6", "unfinished": 19}
    # The units in the table's order, with their problems under each project.
    assert [(g["unit"], [len(p["entries"]) for p in g["projects"]]) for g in content["groups"]] == [
        ("广州市荔湾区市政园林绿化管理中心", [2]),
        ("广州市荔湾区妇幼保健院", [2]),
        ("广州市荔湾区政务服务数据管理局", [2]),
        ("广州市荔湾区市场监督管理局", [2]),
        ("广州市荔湾区农业农村和水务局", [2]),
        ("广州市荔湾区卫生健康局", [2]),
        ("中国共产党广州市荔湾区委员会组织部", [4]),
        ("广州市荔湾区商务和投资促进局", [2]),
        ("广州市荔湾区财政局", [2]),
        ("广州市荔湾区教育局", [2]),
    ]
    # The demo's three closed problems: the two of 区财政局 (one 持续整改) and 区教育局's
    # 不予整改, each with the unit's result and the day it was closed.
    done = "已按整改措施完成整改，详见佐证材料。"
    finance = content["groups"][8]["projects"][0]
    assert finance["project"] == "国有资本经营预算——国有企业资本金注入项目"
    assert finance["entries"] == [
        {
            "number": 1,
            "problem": "项目监督力度不够，监督工作有待加强。",
            "outcome": "已整改",
            "measures": done,
            "document": "",
            "date": "2026-05-24",
        },
        {
            "number": 2,
            "problem": "指标设置不够合理，预算绩效管理工作待完善。",
            "outcome": "持续整改（阶段性完成）",
            "measures": done,
            "document": "",
            "date": "2026-09-01",
        },
    ]
    education = content["groups"][9]["projects"][0]["entries"]
    assert [(e["problem"], e["outcome"], e["date"]) for e in education] == [
        ("教师队伍专业素质尚有提升空间。", "不予整改", "2026-10-11"),
        ("绩效管理水平有待提高。", "正在整改", ""),
    ]
    # An open problem with neither measures nor progress is published without a next step;
    # one with measures gives them as the next step.
    unfinished = content["unfinished"]
    assert len(unfinished) == 19
    assert unfinished[0] == {
        "unit": "广州市荔湾区市政园林绿化管理中心",
        "project": "公共管绿化养护及绿化抢险支出",
        "problem": "信息系统开发仍有进步空间。",
        "next_step": "",
    }
    assert unfinished[-1] == {
        "unit": "广州市荔湾区教育局",
        "project": "新样态学校专项经费项目",
        "problem": "绩效管理水平有待提高。",
        "next_step": "针对“绩效管理水平有待提高。”问题：一是成立整改工作专班，明确分管领导和"
        "责任科室；二是制定整改方案和时间表；三是建立整改台账，逐项对账销号。",
    }
    assert content["title"] == "荔湾区2020年度财政支出绩效评价问题整改情况"


def _run_pending() -> None:
    """What the worker does with the computation the page queued."""
    snapshots.run(RoundSnapshot.objects.get(status=SnapshotStatus.QUEUED).pk)


def test_a_large_rounds_draft_is_computed_in_the_background_and_published_as_read(
    client, staff, settings
):
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    item = _item()
    flagged = _item(measures="由联系人：陈志强落实，电话13812345678。")
    page = client.get(URL).content.decode()
    assert 'id="snapshot-progress"' in page
    assert 'id="publish-form"' not in page
    _run_pending()
    response = client.get(URL)
    page = response.content.decode()
    assert 'id="redaction-blocking"' in page
    assert f"{RedactionKind.PHONE.label}「13812345678」" in page
    assert [e.item.pk for e in response.context["flagged"]] == [flagged.pk]
    assert f'id="entry-{item.pk}"' in page and f'id="entry-{flagged.pk}"' in page
    # What staff read is what would be published now, to the hash.
    current = draft(user=staff, year=item.round_year, units=[], today=clock.today())
    seen = response.context["publish_form"].initial["seen"]
    assert seen == content_hash(current.content())
    # Held back by the finding: refused at once, from the stored draft staff read.
    assert client.post(URL, {"seen": seen}).status_code == 400
    assert not RoundSnapshot.objects.filter(kind=SnapshotKind.PUBLISHING).exists()

    save_public_wording(
        item=flagged,
        actor=Actor(user=staff),
        problem=flagged.recommendation.finding.title,
        measures="已明确专人负责整改。",
        document="",
        seen=wording_hash(flagged),
    )
    # The stored draft read the old wording: it is shown, and computed again.
    page = client.get(URL).content.decode()
    assert 'id="redaction-blocking"' in page
    assert 'id="snapshot-refreshing"' in page
    _run_pending()
    response = client.get(URL)
    assert 'id="redaction-clear"' in response.content.decode()
    seen = response.context["publish_form"].initial["seen"]
    assert client.post(URL, {"seen": seen}).status_code == 302
    _run_pending()
    assert "13812345678" not in str(Publication.objects.get().content)


def test_a_large_rounds_draft_pages_through_its_stored_problems_in_constant_queries(
    client, staff, settings
):
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    unit = factories.UnitFactory()
    result = factories.ResultFactory(project__unit=unit)
    factories.ItemFactory(recommendation__finding__result=result)
    client.get(URL)
    _run_pending()
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for number in range(2, 52):
        factories.ItemFactory(
            recommendation__finding__result=result, recommendation__finding__number=number
        )
    client.post(URL, {"recompute": "1"})
    _run_pending()
    with CaptureQueriesContext(connection) as fifty:
        first = client.get(URL)
    assert len(first.context["entries"].object_list) == 50
    assert len(fifty) == len(one)
    second = client.get(f"{URL}?page=2")
    assert [e.item.recommendation.finding.number for e in second.context["entries"]] == [51]
    assert 'id="draft-totals"' in second.content.decode()


def test_a_large_rounds_draft_of_chosen_units_publishes_as_read(client, staff, settings):
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    # Created in the reverse of their names' order (乙 sorts before 甲): ids and names disagree.
    first, second = factories.UnitFactory(name="甲单位"), factories.UnitFactory(name="乙单位")
    year = _item(unit=first).round_year
    _item(unit=second)
    query = f"year={year}&units={first.pk}&units={second.pk}"
    client.get(f"{URL}?{query}")
    _run_pending()
    response = client.post(f"{URL}?{query}", {"seen": _seen(client, query)})
    assert response.status_code == 302
    _run_pending()
    assert Publication.objects.get().content["units"] == ["乙单位", "甲单位"]
