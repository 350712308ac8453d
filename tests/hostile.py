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


def ole(*streams: str) -> bytes:
    """An OLE2 container header with these stream names in its directory (UTF-16LE)."""
    return OLE + b"\x00" * 504 + b"".join(s.encode("utf-16-le") + b"\x00\x00" for s in streams)


def windows_program() -> bytes:
    """The start of a Windows executable (MZ header, PE signature)."""
    header = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56 + struct.pack("<I", 64))
    return bytes(header) + b"PE\x00\x00" + b"\x00" * 64


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
    Hostile("macro-doc", "旧版说明.doc", lambda: ole("WordDocument", "_VBA_PROJECT"), "macro", "an old Word file carrying macros"),
    Hostile("encrypted-xls", "台账.xls", lambda: ole("EncryptedPackage", "EncryptionInfo"), "encrypted", "a password-protected Office file"),
    Hostile("pixel-flood-png", "现场照片.png", lambda: images.png(100_000, 100_000), "pixel_flood", "a PNG declaring 100,000 × 100,000 pixels"),
    Hostile("pixel-flood-jpeg", "现场照片.jpg", lambda: images.jpeg(65_000, 65_000), "pixel_flood", "a JPEG declaring 65,000 × 65,000 pixels"),
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
