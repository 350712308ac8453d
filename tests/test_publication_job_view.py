"""Publishing a large round as a job of the worker: the request only asks; the worker computes
the draft again, publishes it if it still reads as staff read it, and tells them by e-mail; the
job's page shows how far it is, then the version or why it was refused. Small rounds publish in
the request (tests/test_publication_view.py)."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from rectification import snapshots
from rectification.choices import SnapshotKind, SnapshotStatus
from rectification.models import RectificationItem, RoundSnapshot
from rectification.services import Actor
from results.models import Publication
from results.publication import wording_hash
from results.services import save_public_wording
from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("results:publication")
TODAY = datetime.date.today()


@pytest.fixture
def staff(client, settings):
    """A large round (every round counts as one here) and staff reading its draft."""
    settings.LIWAN_ROUND_INLINE_ITEMS = 0
    user = factories.StaffUserFactory(
        full_name="区财政局评价办 王珊", email="wangshan@example.gov.cn"
    )
    client.force_login(user)
    return user


def _item(**kwargs) -> RectificationItem:  # type: ignore[no-untyped-def]
    return factories.ItemFactory(
        deadline=TODAY + datetime.timedelta(days=30), measures="已制定整改方案并落实。", **kwargs
    )


def _run(kind: SnapshotKind) -> RoundSnapshot:
    """What the worker does with the job or computation the page queued."""
    snapshot = RoundSnapshot.objects.get(kind=kind, status=SnapshotStatus.QUEUED)
    snapshots.run(snapshot.pk)
    snapshot.refresh_from_db()
    return snapshot


def _reword(item: RectificationItem, staff, problem: str) -> None:  # type: ignore[no-untyped-def]
    save_public_wording(
        item=item,
        actor=Actor(user=staff),
        problem=problem,
        measures="已明确专人负责整改。",
        document="",
        seen=wording_hash(item),
    )


def _read_draft(client) -> str:  # type: ignore[no-untyped-def]
    """Open the draft, let the worker compute it, and read it: the hash staff saw."""
    client.get(URL)
    _run(SnapshotKind.PUBLICATION)
    return client.get(URL).context["publish_form"].initial["seen"]


def test_a_large_round_is_published_by_the_worker_who_tells_the_publisher(client, staff):
    items = [_item(), _item()]
    seen = _read_draft(client)
    response = client.post(URL, {"seen": seen})
    job = RoundSnapshot.objects.get(kind=SnapshotKind.PUBLISHING)
    assert response["Location"] == reverse("results:publication-job", args=[job.pk])
    assert not Publication.objects.exists()  # the request only asked

    page = client.get(response["Location"]).content.decode()
    assert 'id="publishing-progress"' in page
    assert 'http-equiv="refresh"' in page
    draft_page = client.get(URL).content.decode()
    assert 'id="publishing-under-way"' in draft_page
    assert 'id="publish-form"' not in draft_page  # not a second time meanwhile

    job = _run(SnapshotKind.PUBLISHING)
    publication = Publication.objects.get()
    assert (publication.number, publication.published_by, publication.sha256) == (1, staff, seen)
    assert (job.status, job.summary["publication"]) == (SnapshotStatus.DONE, publication.pk)
    assert job.total == job.done == len(items)
    page = client.get(response["Location"]).content.decode()
    assert 'id="publishing-done"' in page and 'http-equiv="refresh"' not in page
    assert reverse("results:public-publication", args=[publication.pk]) in page
    (notice,) = mail.outbox
    assert notice.to == ["wangshan@example.gov.cn"]
    assert "第1版" in notice.subject
    assert reverse("results:public-publication", args=[publication.pk]) in notice.body


def test_a_draft_changed_after_it_was_read_is_refused_and_computed_again(client, staff):
    item = _item()
    seen = _read_draft(client)
    client.post(URL, {"seen": seen})
    # A colleague rewords the problem before the worker gets to the job.
    _reword(item, staff, "改写后的问题表述")
    job = _run(SnapshotKind.PUBLISHING)
    assert job.status == SnapshotStatus.FAILED
    assert not Publication.objects.exists()
    page = client.get(reverse("results:publication-job", args=[job.pk])).content.decode()
    assert 'id="publishing-refused"' in page
    assert "您阅读后公开稿已有变化" in page  # the reason, in the site's language
    assert f'href="{URL}?year={job.year}"' in page  # back to the draft of the same scope
    (notice,) = mail.outbox
    assert "未发布" in notice.subject
    # The stored draft staff read is out of date: the next visit computes it again.
    assert RoundSnapshot.objects.get(kind=SnapshotKind.PUBLICATION).superseded


def test_publishing_the_same_draft_twice_at_once_is_one_job(client, staff):
    _item()
    seen = _read_draft(client)
    first = client.post(URL, {"seen": seen})
    second = client.post(URL, {"seen": seen})
    assert first["Location"] == second["Location"]
    assert RoundSnapshot.objects.filter(kind=SnapshotKind.PUBLISHING).count() == 1


def test_a_published_jobs_page_stays_after_the_next_version(client, staff):
    item = _item()
    client.post(URL, {"seen": _read_draft(client)})
    first = _run(SnapshotKind.PUBLISHING)
    _reword(item, staff, "第二版的问题表述")
    client.post(URL, {"recompute": "1"})
    _run(SnapshotKind.PUBLICATION)
    client.post(URL, {"seen": client.get(URL).context["publish_form"].initial["seen"]})
    second = _run(SnapshotKind.PUBLISHING)
    assert second.summary["number"] == 2
    # The e-mail of the first still leads to its page (jobs are not replaced like results).
    response = client.get(reverse("results:publication-job", args=[first.pk]))
    assert response.status_code == 200
    assert response.context["publication"].number == 1


def test_units_do_not_see_a_publishing_job_and_oversight_may_not_start_one(client, staff):
    item = _item()
    seen = _read_draft(client)
    client.post(URL, {"seen": seen})
    job = RoundSnapshot.objects.get(kind=SnapshotKind.PUBLISHING)
    page = reverse("results:publication-job", args=[job.pk])
    client.force_login(factories.UnitStaffFactory(unit=item.unit))
    assert client.get(page).status_code == 404
    client.force_login(factories.OversightFactory())
    assert client.get(page).status_code == 200
    assert client.post(URL, {"seen": seen}).status_code == 403
    assert RoundSnapshot.objects.filter(kind=SnapshotKind.PUBLISHING).count() == 1


def test_a_draft_from_another_job_kind_is_not_a_publishing_page(client, staff):
    _item()
    client.get(URL)
    draft = RoundSnapshot.objects.get(kind=SnapshotKind.PUBLICATION)
    assert client.get(reverse("results:publication-job", args=[draft.pk])).status_code == 404


def test_an_error_in_the_worker_is_told_without_its_text(client, staff, monkeypatch):
    _item()
    client.post(URL, {"seen": _read_draft(client)})

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("connection to server at 10.0.0.5 lost")

    monkeypatch.setattr("results.services.publish", broken)
    job = _run(SnapshotKind.PUBLISHING)
    assert job.status == SnapshotStatus.FAILED and "10.0.0.5" in job.error  # for the log
    page = client.get(reverse("results:publication-job", args=[job.pk])).content.decode()
    assert 'id="publishing-refused"' in page and "10.0.0.5" not in page
    (notice,) = mail.outbox
    assert "未发布" in notice.subject and "10.0.0.5" not in notice.body
    assert not Publication.objects.exists()
