"""Checking evidence uploads (佐证材料) by their content, not by their name.

The allow-list is small and includes OFD (China's fixed-layout document standard, GB/T 33190),
which generic type sniffers do not know, so the signatures are checked here explicitly:
a file's bytes decide its type, and the extension must agree with them.

Past the type, each kind gets the checks its hostile variants call for (SECURITY.md lists the
corpus in tests/test_hostile_uploads.py): images must not declare a pixel flood; zip-based
documents (docx, xlsx, ofd) must not be zip bombs, carry a DTD (XML bombs, external entities),
be encrypted, or hold macros or embedded programs (liwan.zipcheck); old Word/Excel files must
not hold macros or be encrypted; no file may carry a known virus signature. Every refusal has
its own message and ``code``, and is written to the security log with who sent the file.
"""

from __future__ import annotations

import hashlib
import html
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from liwan import zipcheck
from liwan.logs import security_event

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
_ZIP_KINDS = frozenset(_ZIP_MARKERS)
_NAME_MAX = 150
# Bidirectional controls make "evil<U+202E>fdp.exe" display as "evilexe.pdf"; zero-width characters
# hide what a name says. Neither belongs in a file name.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Names Windows reserves for devices: a download saved as "CON.pdf" misbehaves on a unit's PC.
_WINDOWS_DEVICES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)
# The anti-virus test file (eicar.org): every scanner reports it, so it stands in for malware
# in tests of the refusal path. Production adds a real scanner in front (docs/operations.md).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_SCAN_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    name: str
    kind: str
    content_type: str
    size: int
    sha256: str


def check_evidence(upload: UploadedFile) -> CheckedFile:
    """Validate one uploaded file or raise ValidationError with a specific, translated message.

    Each refusal is logged (``liwan.security``) with its code, the name as sent and the sender.
    """
    raw_name = getattr(upload, "raw_name", None) or upload.name or ""
    try:
        return _check(upload, raw_name)
    except ValidationError as exc:
        security_event(
            "upload_refused", code=exc.code or "invalid", file=raw_name[:200], size=upload.size
        )
        raise


def _check(upload: UploadedFile, raw_name: str) -> CheckedFile:
    name = _clean_name(raw_name)
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
    if _has_virus_signature(upload):
        raise ValidationError(
            _("“%(name)s” contains a known virus signature and was refused.") % {"name": name},
            code="malware",
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
    if kind in {"png", "jpg"}:
        _check_image(upload, name, kind)
    elif kind in _ZIP_KINDS:
        _check_package(upload, name)
    elif kind in {"doc", "xls"}:
        _check_ole(upload, name)
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
    # Stream names sit in the container's directory as UTF-16LE; files are ≤ the upload limit.
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return stream.encode("utf-16-le") in data


def _zip_kind(upload: UploadedFile) -> str | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except Exception:  # whatever a damaged zip directory raises: not a document of ours
        return None
    finally:
        upload.seek(0)
    for kind, marker in _ZIP_MARKERS.items():
        if marker in names:
            return kind
    return None


def _has_virus_signature(upload: UploadedFile) -> bool:
    """Whether ``upload`` carries a known signature (read in chunks that overlap, so that a
    signature across a chunk boundary is found)."""
    upload.seek(0)
    tail = b""
    try:
        while chunk := upload.read(_SCAN_CHUNK):
            if EICAR in tail + chunk:
                return True
            tail = chunk[-len(EICAR) :]
        return False
    finally:
        upload.seek(0)


# --- images --------------------------------------------------------------------------------------


def _check_image(upload: UploadedFile, name: str, kind: str) -> None:
    upload.seek(0)
    try:
        size = _png_size(upload) if kind == "png" else _jpeg_size(upload)
    finally:
        upload.seek(0)
    if size is None or 0 in size:
        raise ValidationError(
            _("The image “%(name)s” is damaged or incomplete.") % {"name": name}, code="damaged"
        )
    width, height = size
    if width * height > settings.LIWAN_UPLOAD_MAX_IMAGE_PIXELS:
        # A "pixel flood": a small file whose header promises billions of pixels, which any
        # viewer or thumbnailer would try to allocate.
        raise ValidationError(
            _(
                "The image “%(name)s” is %(width)d × %(height)d pixels, more than allowed; "
                "please reduce its size and upload it again."
            )
            % {"name": name, "width": width, "height": height},
            code="pixel_flood",
        )


def _png_size(upload: UploadedFile) -> tuple[int, int] | None:
    # Signature (8 bytes), then the IHDR chunk: length, type, width, height (big-endian).
    head = upload.read(24)
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


# Start-of-frame markers (SOF0–SOF15 without DHT C4, JPG C8 and DAC CC) carry the dimensions.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(upload: UploadedFile) -> tuple[int, int] | None:
    if upload.read(2) != b"\xff\xd8":
        return None
    while True:
        byte = upload.read(1)
        while byte == b"\xff":  # fill bytes before a marker
            marker = upload.read(1)
            if marker != b"\xff":
                break
        else:
            return None  # not a marker where one must be, or the end of the file
        code = marker[0] if marker else None
        if code is None or code == 0xD9 or code == 0xDA:
            return None  # end of image or start of scan without a frame header
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue  # markers without a length
        length_bytes = upload.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if length < 2:
            return None
        if code in _SOF:
            frame = upload.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        upload.seek(length - 2, 1)


# --- documents -----------------------------------------------------------------------------------


def _check_package(upload: UploadedFile, name: str) -> None:
    limits = zipcheck.Limits(
        max_unpacked_bytes=settings.LIWAN_UPLOAD_MAX_UNPACKED_BYTES,
        max_members=settings.LIWAN_UPLOAD_MAX_ZIP_MEMBERS,
    )
    try:
        zipcheck.inspect(upload, limits=limits)
    except zipfile.BadZipFile as exc:  # pragma: no cover - sniff() opened it a moment ago
        raise _damaged(name) from exc
    except zipcheck.UnsafePackage as exc:
        raise _package_error(exc, name) from exc


def _package_error(exc: zipcheck.UnsafePackage, name: str) -> ValidationError:
    if exc.code == "zip_bomb":
        return ValidationError(
            _("The archive would be too large when unpacked and may be malicious."),
            code="zip_bomb",
        )
    if exc.code == "zip_members":
        return ValidationError(
            _("“%(name)s” contains too many parts (%(count)d) and may be malicious.")
            % {"name": name, "count": exc.details["count"]},
            code="zip_members",
        )
    if exc.code == "encrypted":
        return _encrypted(name)
    if exc.code == "macro":
        return _macro(name)
    if exc.code == "xml_dtd":
        return ValidationError(
            _(
                "“%(name)s” contains XML declarations (a DTD or entities) that documents never "
                "need; it may be malicious."
            )
            % {"name": name},
            code="xml_dtd",
        )
    return _damaged(name)


def _check_ole(upload: UploadedFile, name: str) -> None:
    # An Office file saved with a password is an OLE container of an "EncryptedPackage";
    # macros live in a "_VBA_PROJECT" stream (Word) or a "_VBA_PROJECT_CUR" storage (Excel).
    if _ole_has(upload, "EncryptedPackage"):
        raise _encrypted(name)
    if _ole_has(upload, "_VBA_PROJECT"):
        raise _macro(name)


def _encrypted(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” is encrypted or password-protected; please upload it without a password.")
        % {"name": name},
        code="encrypted",
    )


def _macro(name: str) -> ValidationError:
    return ValidationError(
        _(
            "“%(name)s” contains macros or embedded programs; please save it without them "
            "(for example as PDF) and upload it again."
        )
        % {"name": name},
        code="macro",
    )


def _damaged(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” is damaged and cannot be read.") % {"name": name}, code="damaged"
    )


# --- names ---------------------------------------------------------------------------------------


def _clean_name(raw: str) -> str:
    """The user's file name, kept for display and download; refuse anything path-like.

    ``raw`` is the name as the client sent it (``RawNameMultiPartParser`` keeps it), before
    Django's parser stripped directories and unprintable characters.
    """
    unescaped = html.unescape(raw)
    stem = unescaped.rsplit(".", 1)[0] if "." in unescaped else unescaped
    if (
        "\x00" in unescaped
        or "/" in unescaped
        or "\\" in unescaped
        or unescaped.startswith(".")
        or ".." in unescaped
        or _INVISIBLE.search(unescaped)
        or any(unicodedata.category(c) == "Cc" for c in unescaped)
        or _WINDOWS_DEVICES.match(stem.strip())
    ):
        raise ValidationError(
            _(
                "The file name “%(name)s” contains a path or illegal characters; please rename "
                "the file and upload it again."
            )
            % {"name": _printable(raw)[:50]},
            code="name",
        )
    name = unicodedata.normalize("NFC", unescaped)
    name = re.sub(r"[<>:\"|?*]", "_", name).strip().rstrip(".")
    if not name:
        raise ValidationError(_("The file name is empty."), code="name")
    if len(name) > _NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = stem[: _NAME_MAX - len(ext) - 1] + dot + ext
    return name


def _printable(raw: str) -> str:
    """``raw`` with control and invisible characters shown as escapes, for the message."""
    return "".join(
        c if c.isprintable() and not _INVISIBLE.match(c) else f"\\u{ord(c):04x}" for c in raw
    )
