"""The hostile upload corpus, built in code (nothing harmful is stored in the repository).

Each entry is a file an attacker — or an infected PC — could send as evidence, the name it is
sent under (as it travels over HTTP, path and NUL included), and the refusal code it must get.
``tests/test_hostile_uploads.py`` sends every one through the checks and through HTTP; SECURITY.md
lists them. ``python -m tests.hostile DIR`` writes the files out for a look with other tools.
"""

from __future__ import annotations

import functools
import io
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from tests import images

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# The anti-virus test file (https://www.eicar.org): harmless, and reported by every scanner. It is
# assembled here so that no scanner on a developer's machine quarantines this source file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!" + b"$H+H*"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">\n'
        for n in range(1, 10)
    )
    + "]>\n"
)


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>整改情况说明</w:t></w:r></w:p></w:body></w:document>"
)


def docx(**extra: bytes | str) -> bytes:
    """A minimal Word document; ``extra`` members are added or replace the default ones."""
    return _zip({"[Content_Types].xml": DOCX_TYPES, "word/document.xml": DOCUMENT, **extra})


def xlsx(**replace: bytes | str) -> bytes:
    """A real workbook written by openpyxl, with members replaced by ``replace``."""
    workbook = Workbook()
    workbook.active["A1"] = "整改台账"
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as original:
        members: dict[str, bytes | str] = {n: original.read(n) for n in original.namelist()}
    members.update(replace)
    return _zip(members)


# A worksheet with one cell, "@@" standing for the cell's text.
SHEET = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>@@</t></is></c></row></sheetData></worksheet>'
)


def xlsx_with_sheet(sheet: str) -> bytes:
    """A workbook whose only worksheet is ``sheet`` (the part every reader parses)."""
    return xlsx(**{"xl/worksheets/sheet1.xml": sheet})


def billion_laughs(root: str) -> str:
    """``root`` (an XML element as text) behind the classic entity-expansion DTD."""
    return BILLION_LAUGHS + root.replace("@@", "&lol9;")


def external_entity(root: str, target: str = "file:///etc/passwd") -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "{target}">]>\n'
        + root.replace("@@", "&xxe;")
    )


@functools.cache
def zip_bomb() -> bytes:
    """A Word document with a 256 MB part of zeros: about 250 KB on the wire."""
    buffer = io.BytesIO()
    info = zipfile.ZipInfo("word/media/image1.png")
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES)
        archive.writestr("word/document.xml", DOCUMENT)
        with archive.open(info, "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(256):
                member.write(chunk)
    return buffer.getvalue()


def many_members(count: int = 6000) -> bytes:
    members: dict[str, bytes | str] = {
        "OFD.xml": "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>"
    }
    members.update({f"Doc_0/Res/{i}.xml": "<r/>" for i in range(count)})
    return _zip(members)


_FREE, _END, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ole(*streams: str, data: bytes = b"") -> bytes:
    """A small, well-formed OLE2 compound file ([MS-CFB] version 3, 512-byte sectors): a header,
    one FAT sector and a directory holding the root and ``streams`` (empty streams; a name
    ending in "/" is a storage). ``data`` is appended after the directory, outside any stream."""
    entries = [("Root Entry", 5)] + [(n.rstrip("/"), 1 if n.endswith("/") else 2) for n in streams]
    directory_sectors = (len(entries) + 3) // 4
    fat = [_FAT_SECTOR] + [n + 2 for n in range(directory_sectors - 1)] + [_END]
    fat += [_FREE] * (128 - len(fat))
    header = (
        OLE
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<9I", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", 0, *[_FREE] * 108)
    )
    directory = b""
    for index, (name, kind) in enumerate(entries):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        child = 1 if kind == 5 and len(entries) > 1 else _NO_STREAM
        right = index + 1 if 0 < index < len(entries) - 1 else _NO_STREAM
        directory += (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", _NO_STREAM, right, child)
            + bytes(16 + 4 + 8 + 8)
            + struct.pack("<IQ", _END, 0)
        )
    directory = directory.ljust(directory_sectors * 512, b"\x00")
    return header + struct.pack("<128I", *fat) + directory + data


def fake_ole(*streams: str) -> bytes:
    """Only the OLE2 signature, with stream names written anywhere but in a directory."""
    return OLE + b"\x00" * 504 + b"".join(s.encode("utf-16-le") + b"\x00\x00" for s in streams)


def windows_program() -> bytes:
    """The start of a Windows executable (MZ header, PE signature)."""
    header = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56 + struct.pack("<I", 64))
    return bytes(header) + b"PE\x00\x00" + b"\x00" * 64


def windows_program_file() -> bytes:
    """A file that Windows would run: the MZ header, its pointer to the PE signature, and the
    signature itself (what a packaged program inside a document looks like)."""
    return windows_program() + bytes(1024)


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """``data`` (a zip archive) with ``member``'s uncompressed size rewritten to ``size`` in its
    local header and in the central directory: the archive lies about what it unpacks to."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    encoded = member.encode()
    position = 0
    while (position := out.find(b"PK\x01\x02", position)) != -1:
        (name_length,) = struct.unpack_from("<H", out, position + 28)
        if bytes(out[position + 46 : position + 46 + name_length]) == encoded:
            struct.pack_into("<I", out, position + 24, size)
        position += 4
    return bytes(out)


@functools.cache
def lying_zip() -> bytes:
    """A Word document whose picture declares 1,000 bytes but inflates to 210 MB (what Word or
    7-Zip would unpack; Python's zipfile stops at the declared size)."""
    buffer = io.BytesIO()
    info = zipfile.ZipInfo("word/media/image1.png")
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES)
        archive.writestr("word/document.xml", DOCUMENT)
        with archive.open(info, "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(210):
                member.write(chunk)
    return declare_size(buffer.getvalue(), "word/media/image1.png", 1000)


def eicar_compressed_in_docx() -> bytes:
    """The EICAR string in a deflated part: not visible in the file's raw bytes."""
    data = docx(**{"word/media/readme.txt": b"readme " * 200 + EICAR + b" readme" * 200})
    assert EICAR not in data
    return data


def yaml_alias_bomb(levels: int = 9) -> bytes:
    """A summary table in our YAML format whose title is a "billion laughs" of aliases: each
    level lists the previous one ten times, so ``levels`` levels expand to 10**levels strings
    (nine levels: about 650 bytes on disk, gigabytes once expanded)."""
    lines = ['a0: &a0 "哈哈"']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, levels + 1)]
    lines += [f"round: {{year: 2021, title: *a{levels}}}", "projects: []"]
    return ("\n".join(lines) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Hostile:
    key: str
    name: str  # as sent over HTTP
    make: Callable[[], bytes]
    code: str  # the refusal code of rectification.uploads
    what: str  # for SECURITY.md and failure messages


CORPUS: list[Hostile] = [
    Hostile("html-as-pdf", "整改报告.pdf", lambda: b"<html><script>alert(document.cookie)</script></html>", "content", "a web page named .pdf"),
    Hostile("svg-as-png", "现场照片.png", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "content", "an SVG with script named .png"),
    Hostile("exe-as-pdf", "整改方案.pdf", windows_program, "content", "a Windows program named .pdf"),
    Hostile("renamed-html", "通知.html", lambda: b"<html><body>hi</body></html>", "extension", "a web page as .html"),
    Hostile("renamed-svg", "图标.svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "extension", "an SVG image (can carry script)"),
    Hostile("renamed-exe", "整改方案.exe", windows_program, "extension", "a Windows program as .exe"),
    Hostile("double-extension", "现场照片.jpg.exe", windows_program, "extension", "a program behind a double extension"),
    Hostile("pdf-as-png", "现场照片.png", lambda: PDF, "mismatch", "a PDF named .png (content and extension disagree)"),
    Hostile("dot-dot-name", "../../../etc/cron.d/整改方案.pdf", lambda: PDF, "name", "a name climbing out of the folder"),
    Hostile("nul-name", "整改方案.php\x00.pdf", lambda: PDF, "name", "a NUL byte cutting the name short"),
    Hostile("right-to-left-name", "整改说明\u202efdp.exe", windows_program, "name", "a right-to-left override disguising .exe as .pdf"),
    Hostile("device-name", "CON.pdf", lambda: PDF, "name", "a Windows device name"),
    Hostile("oversize", "扫描件.pdf", lambda: PDF + bytes(20 * 1024 * 1024), "too_large", "more than 20 MB"),
    Hostile("empty", "空白.pdf", lambda: b"", "empty", "an empty file"),
    Hostile("zip-bomb", "整改报告.docx", zip_bomb, "zip_bomb", "a zip bomb (250 KB unpacking to 256 MB)"),
    Hostile("many-parts", "公文.ofd", many_members, "zip_members", "an archive of 6,000 parts"),
    Hostile("xml-bomb-xlsx", "台账.xlsx", lambda: xlsx_with_sheet(billion_laughs(SHEET)), "xml_dtd", "an XML bomb (billion laughs) inside an .xlsx"),
    Hostile("xxe-docx", "整改报告.docx", lambda: docx(**{"word/document.xml": external_entity('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>@@</w:t></w:r></w:p></w:body></w:document>')}), "xml_dtd", "an external entity reading /etc/passwd inside a .docx"),
    Hostile("macro-docx", "整改报告.docx", lambda: docx(**{"word/vbaProject.bin": OLE + b"\x00" * 64}), "macro", "a Word document carrying macros"),
    Hostile("ole-object-docx", "整改报告.docx", lambda: docx(**{"word/embeddings/oleObject1.bin": OLE + b"\x00" * 64}), "macro", "an embedded OLE object (packaged program)"),
    Hostile("macro-doc", "旧版说明.doc", lambda: ole("WordDocument", "Macros/", "VBA/", "_VBA_PROJECT"), "macro", "an old Word file carrying macros"),
    Hostile("macro-xls", "台账.xls", lambda: ole("Workbook", "_VBA_PROJECT_CUR/", "VBA/"), "macro", "an old Excel file carrying macros"),
    Hostile("encrypted-xls", "台账.xls", lambda: ole("EncryptedPackage", "EncryptionInfo"), "encrypted", "a password-protected Office file"),
    Hostile("pixel-flood-png", "现场照片.png", lambda: images.png(100_000, 100_000), "pixel_flood", "a PNG declaring 100,000 × 100,000 pixels"),
    Hostile("pixel-flood-jpeg", "现场照片.jpg", lambda: images.jpeg(65_000, 65_000), "pixel_flood", "a JPEG declaring 65,000 × 65,000 pixels"),
    Hostile("jpeg-marker-flood", "现场照片.jpg", lambda: images.jpeg_marker_flood(2 * 1024 * 1024), "damaged", "a JPEG of empty comment segments and no frame (slow to walk byte by byte)"),
    Hostile("lying-zip", "整改报告.docx", lying_zip, "zip_bomb", "a .docx whose part declares 1,000 bytes and inflates to 210 MB"),
    Hostile("exe-in-docx", "整改报告.docx", lambda: docx(**{"word/media/setup.exe": windows_program_file()}), "macro", "a .docx carrying an .exe part"),
    Hostile("hta-in-docx", "整改报告.docx", lambda: docx(**{"word/update.hta": b"<script>new ActiveXObject('WScript.Shell').Run('calc')</script>"}), "macro", "a .docx carrying an .hta (HTML application) part"),
    Hostile("program-as-image-in-docx", "整改报告.docx", lambda: docx(**{"word/media/image1.png": windows_program_file()}), "macro", "a Windows program disguised as a picture inside a .docx"),
    Hostile("eicar-in-docx-part", "整改报告.docx", eicar_compressed_in_docx, "malware", "the EICAR string inside a compressed part of a .docx"),
    Hostile("ole-not-excel", "台账.xls", lambda: ole("PowerPoint Document", "Current User"), "content", "a PowerPoint file (another OLE2 container) named .xls"),
    Hostile("ole-names-outside-directory", "台账.xls", lambda: fake_ole("Workbook"), "content", "an OLE2 signature with \"Workbook\" written outside any directory"),
    Hostile("html-after-pdf-header", "整改报告.pdf", lambda: b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n", "content", "a web page behind a PDF header"),
    Hostile("program-after-pdf-header", "整改报告.pdf", lambda: b"%PDF-1.4\n" + windows_program_file(), "content", "a program behind a PDF header (no PDF structure)"),
    Hostile("tag-characters-name", "整改说明\U000e0065\U000e0078\U000e0065.pdf", lambda: PDF, "name", "invisible tag characters in the name"),
    Hostile("line-separator-name", "整改\u2028说明.pdf", lambda: PDF, "name", "a line separator (U+2028) in the name"),
    Hostile("truncated-png", "现场照片.png", lambda: images.png()[:20], "damaged", "a PNG cut off inside its header"),
    Hostile("eicar", "整改说明.pdf", lambda: EICAR, "malware", "the EICAR anti-virus test file"),
    Hostile("eicar-in-pdf", "整改说明.pdf", lambda: PDF + EICAR + b"\n%%EOF\n", "malware", "the EICAR string inside a PDF"),
]  # fmt: skip


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for entry in CORPUS:
        suffix = entry.name.rsplit(".", 1)[-1] if "." in entry.name else "bin"
        (folder / f"{entry.key}.{suffix}").write_bytes(entry.make())


if __name__ == "__main__":  # pragma: no cover - a tool for a person
    write_corpus(Path(sys.argv[1]))
