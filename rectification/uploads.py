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

Every check reads a bounded amount of the file, whatever it holds: the JPEG walk skips segments
by their lengths and gives up after a few hundred markers, the OLE2 directory walk follows at
most as many sectors as the file has, and zip members are inflated as a stream, counted against
their declared sizes (liwan.zipcheck).

A file that passes is stored under :func:`storage_name` (bounded in bytes, extension kept);
the name the user gave it is kept for display and download.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile
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
# The name shown and offered on download (Evidence.original_name holds up to 200 characters).
_NAME_MAX = 150
# The name the file is stored under, in bytes: file systems allow 255 bytes per name (ext4, XFS;
# a Chinese character is 3 bytes in UTF-8, so 79 of them are already too many), and the stored
# name adds our 17-byte hash prefix (Evidence's upload_to) and, on a collision, the storage's
# 8-character suffix. 150 leaves room for all of it and for object-storage key prefixes.
STORAGE_NAME_MAX_BYTES = 150
# Characters that draw nothing or move what follows: bidirectional controls make
# "evil<U+202E>fdp.exe" display as "evilexe.pdf"; zero-width and format characters (U+200B,
# U+2060, U+00AD soft hyphen, U+061C, tag characters U+E0000–E007F…) hide what a name says; line
# and paragraph separators break it over lines. Refused by Unicode category rather than by a
# list, so the next such character is refused too: Cc control, Cf format, Cs surrogate, Co
# private use, Cn unassigned, Zl line separator, Zp paragraph separator.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Names Windows reserves for devices: a download saved as "CON.pdf" misbehaves on a unit's PC.
_WINDOWS_DEVICES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)
# The anti-virus test file (eicar.org): every scanner reports it, so it stands in for malware
# in tests of the refusal path. Production adds a real scanner in front (docs/operations.md).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_SCAN_CHUNK = 1024 * 1024
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    name: str  # for display and download
    storage_name: str  # what the file is stored under (see storage_name())
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
        raise _malware(name)
    if _ole_streams(upload) & {"EncryptedPackage"}:
        # A password-protected .docx/.xlsx is an OLE2 container of an encrypted package: say
        # so rather than "not an allowed type".
        raise _encrypted(name)
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
        storage_name=storage_name(name),
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
        return "pdf" if _plausible_pdf(upload) else None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(_OLE2):
        # Word 97 and Excel 97 share the OLE2 container with PowerPoint, Visio, MSI installers
        # and anything else; the container's directory says which it is: a Word file has a
        # WordDocument stream, an Excel file a Workbook (BIFF8) or Book (BIFF5) stream.
        streams = _ole_streams(upload)
        if "WordDocument" in streams:
            return "doc"
        if streams & {"Workbook", "Book"}:
            return "xls"
        return None
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(upload)
    return None


# --- PDF ------------------------------------------------------------------------------------------

# Where a PDF's end-of-file marker may sit: the last line of the file by the standard (ISO
# 32000), within the last kilobyte by what readers tolerate (Acrobat's own rule).
_PDF_TAIL = 1024
# A web page behind a PDF header: browsers that sniff HTML look at the first 512 bytes or so.
_PDF_HEAD = 1024
_HTML_IN_PDF = re.compile(
    rb"<\s*(!doctype|html|head|body|script|iframe|svg|object|embed|meta|img|a\s|div)",
    re.IGNORECASE,
)


def _plausible_pdf(upload: UploadedFile) -> bool:
    """Whether a file that starts with %PDF- looks like a PDF and not like something wearing
    its header: a version ("%PDF-1.7", "%PDF-2.0"), the %%EOF marker near the end, and no HTML
    markup in the first kilobyte. Not a parser — a PDF reader copes with far worse — but enough
    that a web page or a script with a PDF header in front is refused, and cheap (two reads)."""
    upload.seek(0)
    head = upload.read(_PDF_HEAD)
    size = upload.size if upload.size is not None else len(head)
    upload.seek(max(0, size - _PDF_TAIL))
    tail = upload.read(_PDF_TAIL)
    upload.seek(0)
    if not re.match(rb"%PDF-[12]\.\d", head):
        return False
    if b"%%EOF" not in tail:
        return False
    return not _HTML_IN_PDF.search(head)


# --- OLE2 (Word 97, Excel 97) --------------------------------------------------------------------

_OLE_FREE = 0xFFFFFFFF
_OLE_END = 0xFFFFFFFE


def _ole_streams(upload: UploadedFile) -> set[str]:
    """The names in an OLE2 compound file's directory ([MS-CFB]); empty when ``upload`` is not
    one or its structure is damaged. Reads the header, the FAT sectors and the directory chain,
    each sector at most once, so the work is bounded by the file's size."""
    upload.seek(0)
    try:
        return _read_ole_directory(upload)
    except (struct.error, ValueError, OSError):
        return set()
    finally:
        upload.seek(0)


def _read_ole_directory(upload: UploadedFile) -> set[str]:
    header = upload.read(512)
    if len(header) < 512 or not header.startswith(_OLE2):
        return set()
    (shift,) = struct.unpack_from("<H", header, 0x1E)
    if shift not in (9, 12):  # 512- or 4096-byte sectors, nothing else exists
        return set()
    sector_size = 1 << shift
    size = upload.size or 0
    sectors = max(0, (size - sector_size) // sector_size + 1)
    (fat_count, first_directory) = struct.unpack_from("<I I", header, 0x2C)
    (first_difat, difat_count) = struct.unpack_from("<I I", header, 0x44)

    def sector(number: int) -> bytes:
        if number >= sectors:
            raise ValueError("sector outside the file")
        upload.seek((number + 1) * sector_size)
        data = upload.read(sector_size)
        if len(data) < sector_size:
            raise ValueError("short sector")
        return data

    fat_sectors = list(struct.unpack_from("<109I", header, 0x4C))
    next_difat, visited = first_difat, 0
    while next_difat not in (_OLE_END, _OLE_FREE) and visited <= min(difat_count, sectors):
        entries = struct.unpack(f"<{sector_size // 4}I", sector(next_difat))
        fat_sectors.extend(entries[:-1])
        next_difat = entries[-1]
        visited += 1
    fat: list[int] = []
    for number in fat_sectors[: min(fat_count, sectors)]:
        if number in (_OLE_END, _OLE_FREE):
            continue
        fat.extend(struct.unpack(f"<{sector_size // 4}I", sector(number)))
    names: set[str] = set()
    current, seen = first_directory, set()
    while current not in (_OLE_END, _OLE_FREE):
        if current in seen or current >= len(fat):
            raise ValueError("broken directory chain")
        seen.add(current)
        data = sector(current)
        for offset in range(0, sector_size, 128):
            entry = data[offset : offset + 128]
            (length,) = struct.unpack_from("<H", entry, 64)
            kind = entry[66]
            if kind in (1, 2, 5) and 2 <= length <= 64:  # storage, stream, root
                names.add(entry[: length - 2].decode("utf-16-le", errors="replace"))
        current = fat[current]
    return names


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


# A camera's JPEG has a dozen segments before its frame header (APPn for Exif, ICC, XMP, MPF;
# DQT, DHT); a few hundred is far beyond any real file. Fill bytes (FF before a marker) are
# allowed by the standard but no encoder writes more than a couple.
_JPEG_MAX_SEGMENTS = 500
_JPEG_MAX_FILL = 64


def _jpeg_size(upload: UploadedFile) -> tuple[int, int] | None:
    """The width and height of the frame header, walking the segments by their lengths.

    Bounded whatever the file: a crafted one of 20 MB of empty comment segments (FF FE 00 02…)
    made the walk take seconds; now it stops after ``_JPEG_MAX_SEGMENTS`` and the file counts
    as damaged.
    """
    if upload.read(2) != b"\xff\xd8":
        return None
    for _segment in range(_JPEG_MAX_SEGMENTS):
        if upload.read(1) != b"\xff":
            return None  # not a marker where one must be, or the end of the file
        marker = upload.read(1)
        fill = 0
        while marker == b"\xff":  # fill bytes before a marker
            fill += 1
            if fill > _JPEG_MAX_FILL:
                return None
            marker = upload.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in (0xD9, 0xDA):
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
    return None


# --- documents -----------------------------------------------------------------------------------


def _check_package(upload: UploadedFile, name: str) -> None:
    limits = zipcheck.Limits(
        max_unpacked_bytes=settings.LIWAN_UPLOAD_MAX_UNPACKED_BYTES,
        max_members=settings.LIWAN_UPLOAD_MAX_ZIP_MEMBERS,
    )
    try:
        zipcheck.inspect(upload, limits=limits, signatures=(EICAR,))
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
    if exc.code == "malware":
        return _malware(name)
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


# Where old Office files keep macros: Word in a "Macros" storage holding "VBA" and a
# "_VBA_PROJECT" stream, Excel in a "_VBA_PROJECT_CUR" storage; embedded objects (packaged
# programs) sit in "ObjectPool" (Word) or "MBD…" storages (Excel).
_OLE_ACTIVE = re.compile(r"^(_VBA_PROJECT(_CUR)?|VBA|Macros|ObjectPool|MBD[0-9A-F]{8})$")


def _check_ole(upload: UploadedFile, name: str) -> None:
    streams = _ole_streams(upload)
    if "EncryptedPackage" in streams:
        raise _encrypted(name)
    if any(_OLE_ACTIVE.match(stream) for stream in streams):
        raise _macro(name)


def _malware(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” contains a known virus signature and was refused.") % {"name": name},
        code="malware",
    )


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
        or any(_hidden(c) for c in unescaped)
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


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def _printable(raw: str) -> str:
    """``raw`` with control and invisible characters shown as escapes, for the message."""
    return "".join(c if c.isprintable() and not _hidden(c) else f"\\u{ord(c):04x}" for c in raw)


def storage_name(name: str) -> str:
    """THE name an upload is stored under: ``name`` (already checked by :func:`_clean_name`)
    cut to ``STORAGE_NAME_MAX_BYTES`` bytes of UTF-8 at a character boundary, its extension
    kept (lower-cased). The name the user gave stays in ``Evidence.original_name``."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension.lower()
    budget = STORAGE_NAME_MAX_BYTES - len(dot) - len(extension.encode("utf-8"))
    stem = stem.encode("utf-8")[: max(budget, 1)].decode("utf-8", errors="ignore").rstrip(" .")
    return f"{stem or 'file'}{dot}{extension}"


@contextmanager
def removed_on_failure() -> Iterator[list[FieldFile]]:
    """Deletes again the files saved inside the block if the block raises.

    Saving a progress report writes files to storage before its database rows, and storage
    takes no part in a transaction: without this, a report that fails half-way (the database
    refusing a row, a full disk at the third file) leaves the files written before it on disk,
    with no row pointing at them. Append each saved ``FieldFile``; put the transaction inside
    the block, so that a failed commit is covered too.
    """
    written: list[FieldFile] = []
    try:
        yield written
    except BaseException:
        for field_file in written:
            try:
                field_file.storage.delete(field_file.name)
            except Exception:  # the original error matters more; say what stays behind
                logger.exception("could not remove %r after a failed save", field_file.name)
        raise
