"""Inspecting a zip-based document (docx, xlsx, OFD) before anything unpacks or parses it.

Office Open XML and OFD files are zip archives of XML parts. A hostile one can be a *zip bomb*
(a few kilobytes that unpack to gigabytes), carry an *XML bomb* or an external entity in one of
its parts (a DTD whose entities expand a billion-fold, or read a local file), hide its content
by encryption, or carry macros and embedded programs. None of these is needed by a genuine
document: ECMA-376 Part 2 (Open Packaging Conventions) forbids DTD declarations in a package's
XML, and OFD (GB/T 33190) is plain XML too. So the check is simple and does not depend on which
XML parser reads the file later: look at the zip directory and at the prolog of every XML part,
and refuse what a genuine document never has.

Reading is bounded: the declared sizes are checked before anything is decompressed, Python's
``zipfile`` never returns more than a member's declared size, and only the first
``PROLOG_BYTES`` of each XML part are read.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import IO

# A genuine part starts with its root element within a few hundred bytes (an XML declaration,
# perhaps a comment); a prolog longer than this is refused rather than read on.
PROLOG_BYTES = 64 * 1024
XML_SUFFIXES = (".xml", ".rels", ".vml")
# Macros (VBA), ActiveX controls and embedded OLE objects (the carrier of packaged executables
# and of the old Equation Editor exploits). A ledger's evidence needs none of them.
_ACTIVE_CONTENT = re.compile(
    r"(^|/)vbaProject\.bin$|(^|/)vbaData\.xml$|(^|/)activeX/|(^|/)embeddings/oleObject[^/]*\.bin$",
    re.IGNORECASE,
)
_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)


class UnsafePackage(Exception):
    """The archive is refused; ``code`` says why (one message per code, chosen by the caller)."""

    def __init__(self, code: str, **details: int | str) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Limits:
    max_unpacked_bytes: int
    max_members: int
    allow_active_content: bool = False


def inspect(file: IO[bytes], *, limits: Limits) -> set[str]:
    """The member names of the zip archive ``file``, or :class:`UnsafePackage`.

    Raises ``zipfile.BadZipFile`` when ``file`` is not a zip archive at all (the caller knows
    what that means for its format). ``file`` is rewound afterwards.
    """
    file.seek(0)
    try:
        return _inspect(file, limits)
    finally:
        file.seek(0)


def _inspect(file: IO[bytes], limits: Limits) -> set[str]:
    try:
        archive = zipfile.ZipFile(file)
    except Exception as exc:
        # A damaged directory raises whatever the zip layer trips over (BadZipFile, OSError,
        # struct.error, ValueError…); all of them mean "not a zip archive we can read".
        raise zipfile.BadZipFile(str(exc)) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise UnsafePackage("zip_members", count=len(infos))
        unpacked = sum(info.file_size for info in infos)
        if unpacked > limits.max_unpacked_bytes:
            raise UnsafePackage("zip_bomb", unpacked=unpacked)
        if any(info.flag_bits & 0x1 for info in infos):
            raise UnsafePackage("encrypted")
        names = {info.filename for info in infos}
        if not limits.allow_active_content and any(_ACTIVE_CONTENT.search(name) for name in names):
            raise UnsafePackage("macro")
        for info in infos:
            if info.filename.lower().endswith(XML_SUFFIXES) or info.filename == (
                "[Content_Types].xml"
            ):
                _check_prolog(archive, info)
        return names


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    try:
        with archive.open(info) as member:
            head = member.read(PROLOG_BYTES)
    except Exception as exc:
        # Damaged data (zlib.error, BadZipFile on a bad CRC, EOFError…) or an unsupported
        # compression method: nothing can read this part.
        raise UnsafePackage("damaged") from exc
    text = _decode(head)
    position = 0
    while match := _PROLOG_ITEM.match(text, position):
        position = match.end()
    rest = text[position:].lstrip()
    if rest.startswith("<!"):
        raise UnsafePackage("xml_dtd", part=info.filename)
    if not rest:
        if len(head) == PROLOG_BYTES:
            raise UnsafePackage("xml_dtd", part=info.filename)  # a prolog that never ends
        return  # an empty part: harmless
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        # After the root element a DTD is not well-formed XML; refuse it all the same.
        raise UnsafePackage("xml_dtd", part=info.filename)


def _decode(head: bytes) -> str:
    """The text of an XML part's first bytes in its own encoding (UTF-8 or UTF-16 here)."""
    if head.startswith((b"\xff\xfe", b"<\x00")):
        text = head.decode("utf-16-le", errors="ignore")
    elif head.startswith((b"\xfe\xff", b"\x00<")):
        text = head.decode("utf-16-be", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore")
    return text.lstrip("\ufeff")
