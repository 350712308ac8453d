from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from rectification.uploads import check_evidence
from tests import hostile, images

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = images.png()
JPG = images.jpeg()


def _zip(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, "<x/>")
    return buffer.getvalue()


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("整改方案.pdf", PDF, "application/pdf"),
        ("现场照片.PNG", PNG, "image/png"),
        ("现场照片.jpeg", JPG, "image/jpeg"),
        ("报告.docx", _zip("word/document.xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("台账.xlsx", _zip("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("公文.ofd", _zip("OFD.xml"), "application/ofd"),
        ("旧版.doc", hostile.ole("WordDocument", "1Table", "\x05SummaryInformation"), "application/msword"),
        ("旧版.xls", hostile.ole("Workbook", "\x05SummaryInformation"), "application/vnd.ms-excel"),
        ("旧版95.xls", hostile.ole("Book"), "application/vnd.ms-excel"),
    ],
)  # fmt: skip
def test_it_accepts_allowed_types_by_content(name, data, content_type):
    checked = check_evidence(_upload(name, data))
    assert checked.content_type == content_type
    assert len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 60, "content"),  # renamed executable
        ("报告.pdf", b"<html><script>alert(1)</script></html>", "content"),  # HTML as PDF
        ("报告.png", PDF, "mismatch"),  # a PDF named .png
        ("报告.docx", _zip("xl/workbook.xml"), "mismatch"),
        ("page.html", b"<html></html>", "extension"),
        ("tool.exe", b"MZ", "extension"),
        ("a\x00.pdf", PDF, "name"),
        ("空.pdf", b"", "empty"),
        ("noextension", PDF, "extension"),
    ],
)
def test_it_refuses_hostile_uploads_with_a_specific_message(name, data, code):
    with pytest.raises(ValidationError) as error:
        check_evidence(_upload(name, data))
    assert error.value.code == code
    assert error.value.messages[0]


@pytest.mark.parametrize("raw_name", ["../../etc/passwd.pdf", "C:\\evil\\a.pdf", "..pdf"])
def test_it_refuses_a_name_with_a_path_even_when_the_caller_kept_it(raw_name):
    # Django's multipart parser already strips directories from uploaded names; this is the
    # second line of defence for callers that build uploads themselves.
    upload = _upload("x.pdf", PDF)
    upload._name = raw_name
    with pytest.raises(ValidationError) as error:
        check_evidence(upload)
    assert error.value.code == "name"


def test_it_refuses_an_oversize_file(settings):
    settings.LIWAN_EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as error:
        check_evidence(_upload("大文件.pdf", PDF + b"0" * 2048))
    assert error.value.code == "too_large"
    assert "1 MB" in error.value.messages[0] or "上限" in error.value.messages[0]


def test_it_honours_the_allow_list_setting(settings):
    settings.LIWAN_EVIDENCE_ALLOWED_TYPES = ["pdf"]
    with pytest.raises(ValidationError) as error:
        check_evidence(_upload("照片.png", PNG))
    assert error.value.code == "extension"
