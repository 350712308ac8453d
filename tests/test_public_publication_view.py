"""The public side of the disclosure: anyone, without signing in, reads the published versions
as a page, a Word file and a PDF; nothing unpublished is served."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document

from rectification.models import RectificationItem
from rectification.services import Actor
from results.models import Publication
from results.publication import content_hash, draft
from results.services import publish
from tests import factories

pytestmark = pytest.mark.django_db

INDEX = reverse("results:public-index")
TODAY = datetime.date.today()


def _published(measures: str = "已建立项目绩效目标审核机制。", units=(), item=None) -> Publication:  # type: ignore[no-untyped-def]
    item = item or factories.ItemFactory(
        deadline=TODAY + datetime.timedelta(days=30), measures=measures
    )
    staff = factories.StaffUserFactory()
    current = draft(user=staff, year=item.round_year, units=list(units), today=TODAY)
    return publish(
        actor=Actor(user=staff),
        year=item.round_year,
        units=list(units),
        seen=content_hash(current.content()),
        today=TODAY,
    )


def test_anyone_reads_the_list_of_publications(client):
    publication = _published()
    response = client.get(INDEX)
    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("results:public-publication", args=[publication.pk]) in page
    assert 'id="nav-public"' in page


def test_an_empty_list_says_so(client):
    assert 'id="no-publications"' in client.get(INDEX).content.decode()


def test_the_page_shows_the_frozen_content_and_its_fingerprint(client):
    publication = _published()
    response = client.get(reverse("results:public-publication", args=[publication.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "已建立项目绩效目标审核机制。" in page
    assert publication.sha256 in page
    assert "一、" in page and "（一）" in page


def test_the_word_file_holds_every_line_of_the_page(client):
    publication = _published()
    response = client.get(reverse("results:public-publication-docx", args=[publication.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert publication.content["title"] in text
    assert "已建立项目绩效目标审核机制。" in text
    assert "1. " in text


def test_the_pdf_is_a_pdf_titled_as_the_publication(client):
    publication = _published()
    response = client.get(reverse("results:public-publication-pdf", args=[publication.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"STSong-Light" in response.content
    assert response.content.rstrip().endswith(b"%%EOF")


def test_an_unknown_publication_is_not_found(client):
    assert client.get(reverse("results:public-publication", args=[999999])).status_code == 404
    assert client.get(reverse("results:public-publication-pdf", args=[999999])).status_code == 404


def test_the_list_takes_the_same_queries_for_more_publications(client):
    _published()
    client.get(INDEX)
    with CaptureQueriesContext(connection) as few:
        client.get(INDEX)
    for _ in range(3):
        _published()
    with CaptureQueriesContext(connection) as more:
        client.get(INDEX)
    assert len(more) == len(few)


def test_the_list_pages_twenty_at_a_time(client):
    staff = factories.StaffUserFactory()
    Publication.objects.bulk_create(
        Publication(
            year=2020,
            number=n,
            title=f"第{n}版",
            content={},
            sha256="0" * 64,
            published_by=staff,
        )
        for n in range(1, 22)
    )
    first = client.get(INDEX)
    assert len(first.context["page"].object_list) == 20
    assert 'rel="next" href="?page=2"' in first.content.decode()
    assert len(client.get(INDEX, {"page": "2"}).context["page"].object_list) == 1


def test_a_newer_version_is_the_newest_of_the_same_units(client):
    first = _published()
    item = RectificationItem.objects.get()
    # A publication of one unit afterwards is another publication, not a newer version.
    only_unit = _published(units=[item.unit], item=item)
    url = reverse("results:public-publication", args=[first.pk])
    assert client.get(url).context["newer"] is None
    RectificationItem.objects.filter(pk=item.pk).update(measures="第三版的措施。")
    third = _published(item=item)
    assert client.get(url).context["newer"] == third
    assert (
        client.get(reverse("results:public-publication", args=[only_unit.pk])).context["newer"]
        is None
    )


def test_the_list_names_the_units_of_each_version(client):
    first = _published()
    unit = RectificationItem.objects.get().unit
    _published(units=[unit], item=RectificationItem.objects.get())
    page = client.get(INDEX).content.decode()
    assert "本轮全部单位" in page
    assert unit.name in page
    assert first.title in page


def test_control_characters_in_a_text_do_not_break_the_files(client):
    publication = _published(measures="已整改\x0b完毕\x01。")
    entry = publication.content["groups"][0]["projects"][0]["entries"][0]
    assert entry["measures"] == "已整改完毕。"
    for name in ("results:public-publication-docx", "results:public-publication-pdf"):
        assert client.get(reverse(name, args=[publication.pk])).status_code == 200


def test_a_version_frozen_with_control_characters_still_renders(client):
    publication = _published()
    content = publication.content
    content["groups"][0]["projects"][0]["entries"][0]["problem"] = "问题\x08\x1f。"
    Publication.objects.filter(pk=publication.pk).update(content=content, sha256="1" * 64)
    response = client.get(reverse("results:public-publication-docx", args=[publication.pk]))
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "问题。" in text
