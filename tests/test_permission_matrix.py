"""Every URL of the site × every role × GET and POST, checked against an explicit matrix.

The URL list is read from the URL configuration, so a new URL without a row here fails the
suite. The Django admin's own pages are represented by its index (the admin checks is_staff
and model permissions itself; tests/test_admin_changelists.py covers its lists).
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from rectification import export_jobs
from rectification.choices import ExtensionStatus, SnapshotKind
from rectification.models import ExtensionRequest, RoundSnapshot
from rectification.services import Actor
from results.publication import content_hash, draft
from results.services import publish
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "a_staff", "a_head", "b_staff", "evaluation", "oversight")
LOGIN = "login"  # a 302 to a login page

# url name → {method: expected status per role, in the order of ROLES}
MATRIX: dict[str, dict[str, tuple[int | str, ...]]] = {
    "rectification:ledger": {"GET": (LOGIN, 200, 200, 200, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "rectification:export": {"GET": (LOGIN, 200, 200, 200, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    # A background export is its requester's alone (here evaluation staff's).
    "rectification:export-job": {"GET": (LOGIN, 404, 404, 404, 200, 404), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "rectification:export-download": {"GET": (LOGIN, 404, 404, 404, 200, 404), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "rectification:worklist": {"GET": (LOGIN, 200, 200, 200, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "rectification:item-detail": {"GET": (LOGIN, 200, 200, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "rectification:item-assign": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 400, 403)},
    "rectification:item-progress": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 400, 400, 404, 403, 403)},
    "rectification:item-submit": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 403, 403)},
    "rectification:item-return": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 403, 403)},
    "rectification:item-reopen": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 403, 403)},
    "rectification:item-plan": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 400, 400, 404, 403, 403)},
    "rectification:item-plan-decide": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 400, 403)},
    "rectification:item-milestone-report": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 400, 400, 404, 403, 403)},
    "rectification:item-milestone-decide": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 400, 403)},
    "rectification:item-head-signoff": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 403, 403)},
    "rectification:item-first-review": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 400, 403)},
    "rectification:item-second-review": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 403, 403)},
    "rectification:item-follow-up-schedule": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 403, 403)},
    "rectification:item-follow-up-record": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 403, 403)},
    "rectification:item-extension-request": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 400, 400, 404, 403, 403)},
    "rectification:item-extension-decide": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 400, 403)},
    "rectification:item-supervision": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 403, 403, 404, 400, 403)},
    "rectification:evidence-download": {"GET": (LOGIN, 200, 200, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "rectification:bulk-assign": {"GET": (LOGIN, 403, 403, 403, 200, 403), "POST": (LOGIN, 403, 403, 403, 400, 403)},
    # Staff only; with one round in the database there is nothing to rule on (POST 404).
    "rectification:repeats": {"GET": (LOGIN, 403, 403, 403, 200, 403), "POST": (LOGIN, 403, 403, 403, 404, 403)},
    "rectification:bulk-follow-up": {"GET": (LOGIN, 403, 403, 403, 200, 403), "POST": (LOGIN, 403, 403, 403, 400, 403)},
    # Without ?days= the staff member's request is a 400 (JSON error); see test_working_days_view.py.
    "calendars:working-days": {"GET": (LOGIN, 403, 403, 403, 400, 403), "POST": (LOGIN, 403, 403, 403, 405, 403)},
    "dashboard:index": {"GET": (LOGIN, 200, 200, 200, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "dashboard:unit-report": {"GET": (LOGIN, 200, 200, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "dashboard:unit-report-docx": {"GET": (LOGIN, 200, 200, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "dashboard:closure-list": {"GET": (LOGIN, 200, 200, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "dashboard:closure-list-docx": {"GET": (LOGIN, 200, 200, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    # The bureau issues slips: staff and oversight; a unit (its own or not) does not find them.
    "dashboard:supervision-slip": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    # The matrix's item is not overdue: no red item, no slip to download.
    "dashboard:supervision-slip-docx": {"GET": (LOGIN, 404, 404, 404, 404, 404), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    # The bureau's budget sheet: evaluation staff and oversight read it, only staff decide.
    "results:budget-sheet": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "results:budget-sheet-xlsx": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    # POST: staff ask for a large round's stored report to be computed again.
    "results:leaders-report": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 404, 404, 404, 302, 302)},
    "results:leaders-report-docx": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "results:budget-decision": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 404, 404, 404, 400, 403)},
    "dashboard:unit-instruction": {"GET": (LOGIN, 405, 405, 405, 405, 405), "POST": (LOGIN, 404, 404, 404, 400, 403)},
    "results:publication": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 404, 404, 404, 400, 403)},
    "results:public-wording": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 404, 404, 404, 400, 403)},
    # Public: no sign-in; the world has one published version.
    "results:public-index": {"GET": (200, 200, 200, 200, 200, 200), "POST": (405, 405, 405, 405, 405, 405)},
    # A large round's publishing job: staff follow it; oversight may read it, as the draft.
    "results:publication-job": {"GET": (LOGIN, 404, 404, 404, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "results:public-publication": {"GET": (200, 200, 200, 200, 200, 200), "POST": (405, 405, 405, 405, 405, 405)},
    "results:public-publication-docx": {"GET": (200, 200, 200, 200, 200, 200), "POST": (405, 405, 405, 405, 405, 405)},
    "results:public-publication-pdf": {"GET": (200, 200, 200, 200, 200, 200), "POST": (405, 405, 405, 405, 405, 405)},
    "login": {"GET": (200,) * 6, "POST": (200,) * 6},
    "logout": {"GET": (200,) * 6, "POST": (LOGIN,) * 6},
    "password_change": {"GET": (LOGIN, 200, 200, 200, 200, 200), "POST": (LOGIN, 200, 200, 200, 200, 200)},
    "password_change_done": {"GET": (LOGIN, 200, 200, 200, 200, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "password_reset": {"GET": (200,) * 6, "POST": (200,) * 6},
    "password_reset_done": {"GET": (200,) * 6, "POST": (405,) * 6},
    "password_reset_confirm": {"GET": (200,) * 6, "POST": (200,) * 6},
    "password_reset_complete": {"GET": (200,) * 6, "POST": (405,) * 6},
    "set_language": {"GET": (302,) * 6, "POST": (302,) * 6},
    "healthz": {"GET": (200,) * 6, "POST": (405,) * 6},
    "profile": {"GET": (LOGIN, 200, 200, 200, 200, 200), "POST": (LOGIN, 400, 400, 400, 400, 400)},
    "two_factor_verify": {"GET": (LOGIN, 302, 302, 302, 302, 302), "POST": (LOGIN, 302, 302, 302, 302, 302)},
    "two_factor_setup": {"GET": (LOGIN, 403, 403, 403, 200, 403), "POST": (LOGIN, 403, 403, 403, 200, 403)},
    "admin:index": {"GET": (LOGIN, LOGIN, LOGIN, LOGIN, 200, LOGIN), "POST": (LOGIN, LOGIN, LOGIN, LOGIN, 200, LOGIN)},
}  # fmt: skip


def _site_url_names() -> set[str]:
    """Every named URL of the project outside the admin, as 'namespace:name'."""
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:  # type: ignore[no-untyped-def]
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.app_name == "admin":
                    continue
                inner = entry.namespace or namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern):
                assert entry.name, f"URL {entry.pattern} has no name and cannot be in the matrix"
                names.add(f"{namespace}:{entry.name}" if namespace else entry.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_has_a_row_in_the_matrix():
    missing = _site_url_names() - MATRIX.keys()
    assert not missing, f"add these URLs to MATRIX: {sorted(missing)}"


@pytest.fixture
def world():
    item = factories.ItemFactory(deadline=datetime.date.today() + datetime.timedelta(days=20))
    evidence = factories.EvidenceFactory(progress__item=item)
    ExtensionRequest.objects.create(
        item=item,
        requested_deadline=item.deadline + datetime.timedelta(days=30),
        reason="需要更多时间",
        status=ExtensionStatus.PENDING,
    )
    unit_b = factories.UnitFactory()
    users = {
        "anonymous": None,
        "a_staff": factories.UnitStaffFactory(unit=item.unit),
        "a_head": factories.UnitHeadFactory(unit=item.unit),
        "b_staff": factories.UnitStaffFactory(unit=unit_b),
        "evaluation": factories.StaffUserFactory(),
        "oversight": factories.OversightFactory(),
    }
    kwargs = {
        "item": {"pk": item.pk},
        "evidence": {"pk": evidence.pk},
        "reset": {"uidb64": "MQ", "token": "set-password"},
        "result": {"pk": item.recommendation.finding.result_id},
        "report": {"unit_id": item.unit_id, "year": item.recommendation.finding.result.round.year},
        "publication": {"pk": _publication(item, users["evaluation"]).pk},
        "export": {"pk": _export(users["evaluation"]).pk},
        "publishing": {
            "pk": RoundSnapshot.objects.create(
                kind=SnapshotKind.PUBLISHING, year=item.round_year, requested_by=users["evaluation"]
            ).pk
        },
    }
    return item, users, kwargs


def _publication(item, staff):  # type: ignore[no-untyped-def]
    current = draft(user=staff, year=item.round_year, units=[], today=datetime.date.today())
    return publish(
        actor=Actor(user=staff),
        year=item.round_year,
        units=[],
        seen=content_hash(current.content()),
        today=datetime.date.today(),
    )


def _export(staff):  # type: ignore[no-untyped-def]
    job, _new = export_jobs.start(
        user=staff, query="", fmt="csv", filename="x.csv", today=datetime.date.today()
    )
    export_jobs.run(job.pk)
    return job


def _url(name: str, kwargs: dict) -> str:
    if name.startswith("rectification:export-"):
        return reverse(name, kwargs=kwargs["export"])
    if name == "rectification:evidence-download":
        return reverse(name, kwargs=kwargs["evidence"])
    if name.startswith("rectification:item-"):
        return reverse(name, kwargs=kwargs["item"])
    if name.startswith(
        (
            "dashboard:unit-report",
            "dashboard:closure-list",
            "dashboard:supervision",
            "dashboard:unit-instruction",
        )
    ):
        return reverse(name, kwargs=kwargs["report"])
    if name == "results:budget-decision":
        return reverse(name, kwargs=kwargs["result"])
    if name == "results:public-wording":
        return reverse(name, kwargs=kwargs["item"])
    if name == "results:publication-job":
        return reverse(name, kwargs=kwargs["publishing"])
    if name.startswith("results:public-publication"):
        return reverse(name, kwargs=kwargs["publication"])
    if name == "password_reset_confirm":
        return reverse(name, kwargs=kwargs["reset"])
    return reverse(name)


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_each_role_gets_the_expected_status(client, world, name, method):
    _item, users, kwargs = world
    url = _url(name, kwargs)
    failures = []
    for role, expected in zip(ROLES, MATRIX[name][method], strict=True):
        client.logout()
        if users[role] is not None:
            client.force_login(users[role])
        response = client.get(url) if method == "GET" else client.post(url, {})
        got: int | str = response.status_code
        if got == 302 and "login" in response["Location"]:
            got = LOGIN
        if got != expected:
            failures.append(f"{role}: got {got}, expected {expected}")
    assert not failures, f"{method} {url}: " + "; ".join(failures)


def test_an_unoffered_field_changes_nothing(client, world):
    item, users, _kwargs = world
    other_unit = users["b_staff"].unit
    client.force_login(users["a_staff"])
    response = client.post(
        reverse("rectification:item-plan", kwargs={"pk": item.pk}),
        {
            "version": item.version,
            "rectification_type": "immediate",
            "agreement": "agree",
            "measures": "整改措施",
            "unit": other_unit.pk,
            "status": "closed",
            "owner": users["b_staff"].pk,
            "deadline": "2099-01-01",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.plans.get().measures == "整改措施"
    assert item.unit_id != other_unit.pk
    assert item.status == "open"
    assert item.owner_id is None
    assert item.deadline != datetime.date(2099, 1, 1)


def test_unit_b_never_sees_unit_a_in_lists_exports_or_search(client, world):
    item, users, _kwargs = world
    client.force_login(users["b_staff"])
    listing = client.get(reverse("rectification:ledger"), {"q": item.recommendation.title[:4]})
    assert f'data-item="{item.pk}"' not in listing.content.decode()
    export = client.get(reverse("rectification:export"), {"format": "csv"})
    assert item.unit.name not in b"".join(export.streaming_content).decode("utf-8-sig")
