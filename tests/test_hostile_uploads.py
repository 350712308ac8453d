"""Uploads cannot hurt anyone: every file of the hostile corpus (tests/hostile.py) is refused with
its own message, through the checks and over HTTP, nothing is stored, and each refusal is logged
with who sent it. Spreadsheets for the importer are read safely: no DTD ever reaches a parser,
and openpyxl's own parser is the defused one."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluations.importing import read_table
from evaluations.models import EvaluationRound
from rectification.models import Event, Evidence, ProgressUpdate
from rectification.uploads import check_evidence
from tests import factories, hostile, images
from tests.hostile import CORPUS, Hostile

pytestmark = pytest.mark.django_db

IDS = [entry.key for entry in CORPUS]


def test_the_corpus_has_at_least_fifteen_files_and_covers_every_refusal():
    assert len(CORPUS) >= 15
    assert {e.code for e in CORPUS} == {
        "content", "extension", "mismatch", "name", "too_large", "empty", "zip_bomb",
        "zip_members", "xml_dtd", "macro", "encrypted", "pixel_flood", "damaged", "malware",
    }  # fmt: skip


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_each_hostile_file_is_refused_with_its_own_message(entry: Hostile, caplog):
    upload = SimpleUploadedFile("placeholder", entry.make())
    upload.raw_name = entry.name  # as RawNameMultiPartParser keeps it
    caplog.set_level(logging.WARNING, logger="liwan.security")
    with pytest.raises(ValidationError) as error:
        check_evidence(upload)
    assert error.value.code == entry.code, entry.what
    message = error.value.messages[0]
    assert message
    logged = [r.security for r in caplog.records if r.name == "liwan.security"]
    assert logged == [
        {
            "event": "upload_refused",
            "code": entry.code,
            "file": entry.name,
            "size": upload.size,
            "user": "-",
            "ip": "-",
        }
    ]


def test_the_messages_differ_by_refusal():
    templates: dict[str, str] = {}
    for entry in CORPUS:
        upload = SimpleUploadedFile("x", entry.make())
        upload.raw_name = entry.name
        with pytest.raises(ValidationError) as error:
            check_evidence(upload)
        # The message without what is particular to the file: its name and its numbers.
        text = re.sub(r"“[^”]*”|「[^」]*」|\.\w+|\d+", "", error.value.messages[0])
        templates.setdefault(error.value.code, text)
    assert len(set(templates.values())) == len(templates), templates


def test_the_checks_stay_fast_on_the_bombs():
    for key in ("zip-bomb", "xml-bomb-xlsx", "pixel-flood-png", "many-parts", "lying-zip"):
        entry = next(e for e in CORPUS if e.key == key)
        upload = SimpleUploadedFile(entry.name, entry.make())
        started = time.perf_counter()
        with pytest.raises(ValidationError):
            check_evidence(upload)
        assert time.perf_counter() - started < 2, f"{key} took too long to refuse"


def _fastest(data: bytes, name: str, *, repeat: int = 3) -> float:
    """The best of ``repeat`` timings of the whole check of one file (refused or not)."""
    best = float("inf")
    for _ in range(repeat):
        upload = SimpleUploadedFile(name, data)
        started = time.perf_counter()
        with contextlib.suppress(ValidationError):
            check_evidence(upload)
        best = min(best, time.perf_counter() - started)
    return best


def test_it_checks_a_crafted_jpeg_about_as_fast_as_a_genuine_one_of_the_same_size():
    # 20 MB of empty comment segments (FF FE 00 02) took 6 s to walk one byte at a time; a
    # genuine photo of the same size is read once for the signature scan and the hash. Measured
    # as a ratio, so a slower machine does not change the verdict.
    size = 20 * 1024 * 1024 - 1024
    crafted, genuine = images.jpeg_marker_flood(size), images.jpeg_of_size(size)
    assert len(crafted) <= size and len(genuine) == size
    with pytest.raises(ValidationError) as error:
        check_evidence(SimpleUploadedFile("现场照片.jpg", crafted))
    assert error.value.code == "damaged"
    assert check_evidence(SimpleUploadedFile("现场照片.jpg", genuine)).kind == "jpg"
    ratio = _fastest(crafted, "现场照片.jpg") / _fastest(genuine, "现场照片.jpg")
    assert ratio < 3, f"the crafted JPEG took {ratio:.1f} times as long as a genuine one"


HIDDEN_CHARACTERS = {
    "U+061C arabic letter mark": "\u061c",
    "U+200B zero width space": "\u200b",
    "U+200E left-to-right mark": "\u200e",
    "U+202E right-to-left override": "\u202e",
    "U+2066 left-to-right isolate": "\u2066",
    "U+2060 word joiner": "\u2060",
    "U+00AD soft hyphen": "\u00ad",
    "U+2028 line separator": "\u2028",
    "U+2029 paragraph separator": "\u2029",
    "U+FEFF zero width no-break space": "\ufeff",
    "U+E0001 language tag": "\U000e0001",
    "U+E0041 tag latin capital A": "\U000e0041",
    "U+E007F cancel tag": "\U000e007f",
    "U+E000 private use": "\ue000",
    "U+0378 unassigned": "\u0378",
    "U+0085 next line": "\u0085",
}


@pytest.mark.parametrize("char", HIDDEN_CHARACTERS.values(), ids=HIDDEN_CHARACTERS.keys())
def test_it_refuses_each_invisible_or_direction_character_in_a_name(char):
    upload = SimpleUploadedFile("placeholder", hostile.PDF)
    upload.raw_name = f"整改{char}说明.pdf"
    with pytest.raises(ValidationError) as error:
        check_evidence(upload)
    assert error.value.code == "name"
    assert f"\\u{ord(char):04x}" in error.value.messages[0]  # shown, not hidden, in the message


@pytest.mark.parametrize(
    "name", ["整改 说明（第二版）.pdf", "现场照片\u3000一.pdf", "Ｅｘｃｅｌ台账.pdf"]
)
def test_it_still_accepts_ordinary_chinese_names_with_spaces_and_full_width_letters(name):
    assert check_evidence(SimpleUploadedFile(name, hostile.PDF)).name == name


# --- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def member(client):
    item = factories.ItemFactory()
    user = factories.UnitStaffFactory(unit=item.unit)
    client.force_login(user)
    return client, item, user


def _multipart(item, filename: str, data: bytes) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    # Written by hand so that the name travels exactly as an attacker sends it: Django's test
    # client would strip the path itself.
    boundary = "liwan-hostile-boundary"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="version"\r\n\r\n{item.version}\r\n'
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="note"\r\n\r\n已上传佐证材料\r\n'
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="files"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def _media_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_over_http_each_is_refused_nothing_is_stored_and_the_refusal_is_logged(
    entry: Hostile, member, settings, caplog
):
    client, item, user = member
    before = _media_files(settings)
    body, boundary = _multipart(item, entry.name, entry.make())
    caplog.set_level(logging.WARNING, logger="liwan.security")
    response = client.generic(
        "POST",
        reverse("rectification:item-progress", kwargs={"pk": item.pk}),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 400, entry.what
    form = next(p["form"] for p in response.context["action_panels"] if p["key"] == "progress")
    assert form.errors["files"], entry.what
    assert not ProgressUpdate.objects.exists()
    assert not Evidence.objects.exists()
    assert not Event.objects.filter(item=item).exists()
    assert _media_files(settings) == before
    logged = [r.security for r in caplog.records if r.name == "liwan.security"]
    assert len(logged) == 1
    assert logged[0]["code"] == entry.code
    assert (logged[0]["user"], logged[0]["ip"]) == (user.username, "10.1.2.3")


def test_over_http_a_genuine_file_next_to_the_hostile_ones_still_works(member):
    client, item, _user = member
    body, boundary = _multipart(item, "现场照片.png", images.png())
    response = client.generic(
        "POST",
        reverse("rectification:item-progress", kwargs={"pk": item.pk}),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 302
    assert Evidence.objects.get().original_name == "现场照片.png"


def test_a_downloaded_evidence_file_is_an_attachment_the_browser_does_not_sniff(member):
    client, item, user = member
    evidence = factories.EvidenceFactory(progress__item=item, uploaded_by=user)
    response = client.get(reverse("rectification:evidence-download", kwargs={"pk": evidence.pk}))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"


# --- spreadsheets for the importer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "data", "message"),
    [
        ("xml bomb", lambda: hostile.xlsx_with_sheet(hostile.billion_laughs(hostile.SHEET)), "DTD"),
        ("external entity", lambda: hostile.xlsx_with_sheet(hostile.external_entity(hostile.SHEET)), "DTD"),
        ("zip bomb", hostile.zip_bomb, "解压后超过"),
        ("many parts", lambda: hostile.many_members(2500), "部件超过"),
    ],
    ids=["xml-bomb", "xxe", "zip-bomb", "many-parts"],
)  # fmt: skip
def test_the_importer_refuses_hostile_workbooks_before_parsing(label, data, message):
    started = time.perf_counter()
    table = read_table("2021汇总表.xlsx", data())
    assert time.perf_counter() - started < 2, label
    assert [issue.message for issue in table.issues if message in issue.message], table.issues
    assert not table.projects


def test_the_back_office_import_page_shows_the_refusal(client, staff_user):
    from accounts.roles import Role

    client.force_login(staff_user)
    assert staff_user.groups.filter(name=Role.EVALUATION_STAFF).exists()
    upload = SimpleUploadedFile(
        "2021汇总表.xlsx", hostile.xlsx_with_sheet(hostile.billion_laughs(hostile.SHEET))
    )
    response = client.post(
        reverse("admin:evaluations_evaluationround_import"), {"file": upload, "year": 2021}
    )
    assert response.status_code == 200
    assert "DTD" in response.content.decode()
    assert not EvaluationRound.objects.exists()


def test_openpyxl_parses_with_defusedxml_so_even_without_our_check_a_bomb_is_refused():
    # The proof that the parser itself is safe: hand the bomb straight to openpyxl, past the
    # importer's own check. defusedxml refuses to expand the entities.
    import io

    from defusedxml import DefusedXmlException

    assert openpyxl.DEFUSEDXML is True
    data = hostile.xlsx_with_sheet(hostile.billion_laughs(hostile.SHEET))
    started = time.perf_counter()
    with pytest.raises(Exception) as error:  # openpyxl wraps what the parser raised
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        for row in workbook.active.iter_rows(values_only=True):
            list(row)
    chain = []
    exc: BaseException | None = error.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert any(isinstance(e, DefusedXmlException) for e in chain), chain
    assert time.perf_counter() - started < 2


def test_openpyxl_never_reads_a_local_file_through_an_external_entity(tmp_path):
    import io

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")
    data = hostile.xlsx_with_sheet(hostile.external_entity(hostile.SHEET, target=secret.as_uri()))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        values = [v for row in workbook.active.iter_rows(values_only=True) for v in row]
    except Exception:  # refusing is as good as not resolving
        values = []
    assert not any("TOP-SECRET" in str(v) for v in values)
