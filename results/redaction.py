"""The redaction check (脱敏检查) of what the bureau is about to publish.

A publication goes on the government website, so before it is published every public text is
scanned for what must not appear there: the personal names of the people the ledger knows
(owners and other accounts — the names are the system's own, so the check knows them exactly),
names given after 联系人 / 负责人 / 经办人 / 责任人, mobile and landline numbers, resident ID
numbers and e-mail addresses. The patterns are deliberately strict about their surroundings: a
finding text is full of amounts (5,793.48万元), years and document numbers (荔财〔2020〕10号),
and a check that cries wolf on every one of them would be clicked through unread.

Pure functions of their arguments, no queries: ``results.publication`` gathers the names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from results.choices import RedactionKind

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Not a part of a longer number, code or amount: no digit, letter, hyphen, point or comma next
# to it (GZ020-2020-1234 and 0201-2020-0001 are contract numbers, not telephones).
_NOT_IN_CODE_BEFORE = r"(?<![0-9A-Za-z.,，-])"
# … and not an amount either: 13500000000元 is money.
_NOT_IN_CODE_AFTER = r"(?![0-9A-Za-z]|[.,-]\d|\s*[元万亿%])"
# 11-digit mobile numbers (13x … 19x), optionally +86 and spaced or hyphenated 3-4-4.
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z.,，-])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}" + _NOT_IN_CODE_AFTER
)
# Landlines with their area code — 020-81234567, 02081234567, 020 8123 4567, (020)81234567 —
# the area code being 010, 02x, or four digits from 03xx on …
_AREA_CODE = r"0(?:10|2\d|[3-9]\d{2})"
_LANDLINE = re.compile(
    _NOT_IN_CODE_BEFORE
    + rf"(?:{_AREA_CODE}[-\s]?|\({_AREA_CODE}\)\s?)[2-9]\d{{2,3}}[-\s]?\d{{4}}"
    + _NOT_IN_CODE_AFTER
)
# … and 7–8 digits within a few characters after a word that says they are a telephone number
# (电话号码：81234567, 联系电话为8123 4567).
_PHONE_WORD = re.compile(
    r"(?:电话|手机|座机|联系方式|Tel|TEL|tel)[^\d\n]{0,4}?"
    + _NOT_IN_CODE_BEFORE
    + r"(?P<number>[2-9]\d{2,3}[-\s]?\d{4})"
    + _NOT_IN_CODE_AFTER
)
# 18-character resident ID: region (6), birth date (8, 1900–2099), sequence (3) and the check
# character of GB 11643 — which an 18-digit code that merely contains a date rarely has.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# A person named after the role the text gives them: 联系人：张三, 负责人 李四, 联系人为王五.
# With a colon the name is whatever follows; without one it must stand alone (a punctuation
# mark or the end after it, and two or three characters), or 负责人要加强统筹 and 联系人数量较多
# would read as names.
_NAMED_ROLE = re.compile(
    r"(?:联系人|负责人|经办人|责任人)\s*(?:"
    r"[:：]\s*(?P<given>[\u4e00-\u9fff·]{2,4})"
    r"|(?:为|是)?(?P<bare>[\u4e00-\u9fff·]{2,3})(?![\u4e00-\u9fff·]))"
)
# What follows a role but is an office, not a person: 负责人：区财政局, 经办人：财务科,
# 责任人：各科室, 负责人：分管领导. A person the ledger knows is still found by name.
_OFFICE_ENDS = ("局", "科", "室", "处", "办", "中心", "单位", "领导", "部门", "小组", "委员会")
_OFFICE_STARTS = ("各", "单位", "分管", "相关", "主要", "本")
# Words a role is followed by in a sentence about duties, not a name: 负责人要…, 经办人应….
_NOT_A_NAME_START = tuple("要应须需对在和及与的等会已未不也均都由将把被")


@dataclass(frozen=True)
class Flag:
    kind: RedactionKind
    text: str

    @property
    def label(self) -> str:
        return f"{self.kind.label}「{self.text}」"

    @property
    def key(self) -> str:
        """How a confirmation remembers this finding (``PublicWording.confirmed``)."""
        return f"{self.kind}:{self.text}"


def _folded(text: str) -> str:
    """``text`` with full-width digits, letters and marks read as their ASCII forms (NFKC),
    character by character so that positions in it are positions in ``text``."""
    folded = []
    for char in text:
        form = unicodedata.normalize("NFKC", char)
        folded.append(form if len(form) == 1 else char)
    return "".join(folded)


def _valid_id(number: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11] == number[17].upper()


def _is_office(name: str) -> bool:
    return name.endswith(_OFFICE_ENDS) or name.startswith(_OFFICE_STARTS)


def scan(text: str, *, names: Iterable[str] = ()) -> list[Flag]:
    """What in ``text`` must not be published, in the order it appears; each distinct match
    once, as written in ``text``. ``names`` are the personal names the ledger knows (two
    characters or more)."""
    folded = _folded(text)
    found: list[tuple[int, Flag]] = []

    def add(kind: RedactionKind, start: int, end: int) -> None:
        found.append((start, Flag(kind, text[start:end].strip())))

    for match in _EMAIL.finditer(folded):
        add(RedactionKind.EMAIL, *match.span())
    for match in _ID_NUMBER.finditer(folded):
        if _valid_id(match.group(0)):
            add(RedactionKind.ID_NUMBER, *match.span())
    for pattern in (_MOBILE, _LANDLINE):
        for match in pattern.finditer(folded):
            add(RedactionKind.PHONE, *match.span())
    for match in _PHONE_WORD.finditer(folded):
        add(RedactionKind.PHONE, *match.span("number"))
    for match in _NAMED_ROLE.finditer(folded):
        group = "given" if match.group("given") else "bare"
        name = match.group(group)
        if _is_office(name) or (group == "bare" and name.startswith(_NOT_A_NAME_START)):
            continue
        add(RedactionKind.NAME, *match.span(group))
    for name in {n.strip() for n in names if len(n.strip()) >= 2}:
        start = text.find(name)
        if start >= 0:
            add(RedactionKind.NAME, start, start + len(name))
    seen: set[Flag] = set()
    flags = []
    # A number found by two patterns (020-81234567 as a landline and after 电话) is one finding.
    spans: list[tuple[int, int]] = []
    for start, flag in sorted(found, key=lambda pair: (pair[0], -len(pair[1].text))):
        end = start + len(flag.text)
        if flag in seen or any(s <= start and end <= e for s, e in spans):
            continue
        seen.add(flag)
        spans.append((start, end))
        flags.append(flag)
    return flags
