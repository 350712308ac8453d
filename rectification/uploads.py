"""Checking evidence uploads (佐证材料) by their content, not by their name.

The allow-list is small and includes OFD (China's fixed-layout document standard, GB/T 33190),
which generic type sniffers do not know, so the signatures are checked here explicitly:
a file's bytes decide its type, and the extension must agree with them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ofd": "application/ofd",
}
EXTENSION_ALIASES = {"jpeg": "jpg"}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Members that identify an Office Open XML or OFD package.
_ZIP_MARKERS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "ofd": "OFD.xml"}
# A zip whose members would expand beyond this is refused (a "zip bomb").
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_NAME_MAX = 150


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    name: str
    kind: str
    content_type: str
    size: int
    sha256: str


def check_evidence(upload: UploadedFile) -> CheckedFile:
    """Validate one uploaded file or raise ValidationError with a specific, translated message."""
    name = _clean_name(upload.name or "")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    extension = EXTENSION_ALIASES.get(extension, extension)
    allowed = [EXTENSION_ALIASES.get(e, e) for e in settings.LIWAN_EVIDENCE_ALLOWED_TYPES]
    limit = settings.LIWAN_EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size).1f MB, more than the limit of %(limit)d MB.")
            % {"name": name, "size": upload.size / 1048576, "limit": limit // 1048576},
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("“%(name)s” is an empty file.") % {"name": name}, code="empty")
    if extension not in allowed:
        raise ValidationError(
            _("The type of “%(name)s” is not allowed (allowed: %(allowed)s).")
            % {"name": name, "allowed": pgettext("list separator", ", ").join(allowed)},
            code="extension",
        )
    kind = sniff(upload)
    if kind is None:
        raise ValidationError(
            _(
                "The content of “%(name)s” is not an allowed file type (the content does not "
                "match the extension .%(extension)s)."
            )
            % {"name": name, "extension": extension},
            code="content",
        )
    if kind != extension:
        raise ValidationError(
            _(
                "“%(name)s” has the extension .%(extension)s but its content is %(kind)s; "
                "please check the file and upload it again."
            )
            % {"name": name, "extension": extension, "kind": kind.upper()},
            code="mismatch",
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(
        upload=upload,
        name=name,
        kind=extension,
        content_type=CONTENT_TYPES[extension],
        size=upload.size or 0,
        sha256=digest.hexdigest(),
    )


def sniff(upload: UploadedFile) -> str | None:
    """The allow-listed type of the bytes in ``upload``, or None."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(_OLE2):
        # Word 97 and Excel 97 share the OLE2 container; a Word file has a WordDocument stream.
        return "doc" if _ole_has(upload, "WordDocument") else "xls"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(upload)
    return None


def _ole_has(upload: UploadedFile, stream: str) -> bool:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return stream.encode("utf-16-le") in data


def _zip_kind(upload: UploadedFile) -> str | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
                raise ValidationError(
                    _("The archive would be too large when unpacked and may be malicious."),
                    code="zip_bomb",
                )
            names = {info.filename for info in infos}
    except zipfile.BadZipFile:
        return None
    finally:
        upload.seek(0)
    for kind, marker in _ZIP_MARKERS.items():
        if marker in names:
            return kind
    return None


def _clean_name(raw: str) -> str:
    """The user's file name, kept for display and download; refuse anything path-like."""
    if "\x00" in raw or "/" in raw or "\\" in raw or raw.startswith(".") or ".." in raw:
        raise ValidationError(
            _(
                "The file name “%(name)s” contains a path or illegal characters; please rename "
                "the file and upload it again."
            )
            % {"name": raw[:50]},
            code="name",
        )
    name = unicodedata.normalize("NFC", raw)
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", name).strip()
    if not name:
        raise ValidationError(_("The file name is empty."), code="name")
    if len(name) > _NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = stem[: _NAME_MAX - len(ext) - 1] + dot + ext
    return name
