"""Inspecting a zip-based document (docx, xlsx, OFD) before anything unpacks or parses it.

Office Open XML and OFD files are zip archives of XML parts. A hostile one can be a *zip bomb*
(a few kilobytes that unpack to gigabytes), carry an *XML bomb* or an external entity in one of
its parts (a DTD whose entities expand a billion-fold, or read a local file), hide its content
by encryption, or carry macros and embedded programs. None of these is needed by a genuine
document: ECMA-376 Part 2 (Open Packaging Conventions) forbids DTD declarations in a package's
XML, and OFD (GB/T 33190) is plain XML too. So the check is simple and does not depend on which
XML parser reads the file later: look at the zip directory and at the prolog of every XML part,
and refuse what a genuine document never has.

Reading is bounded: the declared sizes are checked before anything is decompressed, and only
the first ``PROLOG_BYTES`` of each XML part are parsed. The declared sizes are not trusted
either: Python's ``zipfile`` stops at a member's declared size, but Word, WPS or 7-Zip inflate a
deflate stream to its end, so a header claiming 1,000 bytes for a 210 MB member is a bomb for
them. Every member is therefore inflated once, as a stream read from its local header and
never held in memory, and refused as soon as it yields more than it declares (the sum of the
declared sizes being within the limit, so is the work). The same pass finds programs hidden in
members and, when asked, known malware signatures in the decompressed bytes.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
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
# Programs and scripts that Windows runs on a double click. A document package never holds one;
# a .docx carrying one is a dropper (a link or an OLE object in the document points at it).
_PROGRAM = re.compile(
    r"\.(exe|dll|com|scr|pif|cpl|msi|msp|bat|cmd|ps1|psm1|vbs|vbe|js|jse|wsf|wsh|hta|jar|lnk|"
    r"reg|inf|chm|sys|ocx)$",
    re.IGNORECASE,
)
_INFLATE_CHUNK = 64 * 1024
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


def inspect(file: IO[bytes], *, limits: Limits, signatures: tuple[bytes, ...] = ()) -> set[str]:
    """The member names of the zip archive ``file``, or :class:`UnsafePackage`.

    ``signatures`` are byte strings (a virus scanner's test signature) refused wherever they
    appear in a member's decompressed content (code ``malware``). Raises ``zipfile.BadZipFile``
    when ``file`` is not a zip archive at all (the caller knows what that means for its
    format). ``file`` is rewound afterwards.
    """
    file.seek(0)
    try:
        return _inspect(file, limits, signatures)
    finally:
        file.seek(0)


def _inspect(file: IO[bytes], limits: Limits, signatures: tuple[bytes, ...]) -> set[str]:
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
        if not limits.allow_active_content and any(
            _ACTIVE_CONTENT.search(name) or _PROGRAM.search(name.rstrip("/")) for name in names
        ):
            raise UnsafePackage("macro")
        for info in infos:
            if not info.is_dir():
                _inflate(file, info, limits, signatures)
        for info in infos:
            if info.filename.lower().endswith(XML_SUFFIXES) or info.filename == (
                "[Content_Types].xml"
            ):
                _check_prolog(archive, info)
        return names


def _inflate(
    file: IO[bytes], info: zipfile.ZipInfo, limits: Limits, signatures: tuple[bytes, ...]
) -> None:
    """Decompress one member as Word or 7-Zip would — from its local header to the end of its
    deflate stream, whatever the directory says — counting and scanning, keeping nothing."""
    file.seek(info.header_offset)
    header = file.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise UnsafePackage("damaged")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    file.seek(info.header_offset + 30 + name_length + extra_length)
    scan = _MemberScan(info, limits, signatures)
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise UnsafePackage("zip_bomb", unpacked=max(info.file_size, info.compress_size))
        left = info.compress_size
        while left > 0 and (data := file.read(min(_INFLATE_CHUNK, left))):
            left -= len(data)
            scan.feed(data)
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        # bzip2, LZMA, Deflate64…: no office suite writes them into a document; refusing them
        # beats auditing a second decompressor.
        raise UnsafePackage("damaged")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    while not inflater.eof and (data := file.read(_INFLATE_CHUNK)):
        while True:
            try:
                out = inflater.decompress(data, _INFLATE_CHUNK)
            except zlib.error as exc:
                raise UnsafePackage("damaged") from exc
            scan.feed(out)
            data = inflater.unconsumed_tail
            # A full chunk of output may leave more inside the inflater: ask again until it
            # yields less, so nothing it holds escapes the count.
            if inflater.eof or (not data and len(out) < _INFLATE_CHUNK):
                break


class _MemberScan:
    """Counts a member's decompressed bytes against its declared size, looks at its first bytes
    for a program and at all of them for the signatures (overlapping the chunk edges)."""

    def __init__(
        self, info: zipfile.ZipInfo, limits: Limits, signatures: tuple[bytes, ...]
    ) -> None:
        self.declared = info.file_size
        self.check_programs = not limits.allow_active_content
        self.signatures = signatures
        self.keep = max((len(s) for s in signatures), default=1) - 1
        self.seen = 0
        self.tail = b""

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self.seen == 0 and self.check_programs and _is_program(data):
            raise UnsafePackage("macro")
        self.seen += len(data)
        if self.seen > self.declared:
            # More than the directory declared: a lying header, the carrier of a bomb.
            raise UnsafePackage("zip_bomb", unpacked=self.seen)
        if self.signatures:
            window = self.tail + data
            if any(signature in window for signature in self.signatures):
                raise UnsafePackage("malware")
            self.tail = window[-self.keep :] if self.keep else b""


def _is_program(head: bytes) -> bool:
    """A Windows program (PE): "MZ", and "PE\\0\\0" where the DOS header's pointer says."""
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return False
    (offset,) = struct.unpack("<I", head[0x3C:0x40])
    return head[offset : offset + 4] == b"PE\x00\x00"


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
