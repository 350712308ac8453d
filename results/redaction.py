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
from collections.abc import Iterable
from dataclasses import dataclass

from results.choices import RedactionKind

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Not a part of a longer number or of an amount: no digit, point or comma next to it.
_NOT_IN_NUMBER_BEFORE = r"(?<![\d.,，])"
_NOT_IN_NUMBER_AFTER = r"(?![\d]|[.,]\d)"
# 11-digit mobile numbers (13x … 19x), optionally +86 and spaced or hyphenated 3-4-4.
_MOBILE = re.compile(
    _NOT_IN_NUMBER_BEFORE + r"(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}" + _NOT_IN_NUMBER_AFTER
)
# Landlines with their area code set off — 020-81234567, (020)81234567, （020）8123 4567 — or
# any 7–8 digits right after a word that says it is a telephone number.
_LANDLINE = re.compile(
    _NOT_IN_NUMBER_BEFORE
    + r"(?:0\d{2,3}-|[(（]0\d{2,3}[)）]\s?)[2-9]\d{2,3}[-\s]?\d{4}"
    + _NOT_IN_NUMBER_AFTER
    + r"|(?:电话|手机|座机|联系方式|Tel|TEL|tel)[:：]?\s*([2-9]\d{2,3}[-\s]?\d{4})"
    + _NOT_IN_NUMBER_AFTER
)
# 18-character resident ID: region (6), birth date (8, 1900–2099), sequence (3), check digit.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
)
# A person named after the role the text gives them: 联系人：张三, 负责人 李四.
_NAMED_ROLE = re.compile(r"(?:联系人|负责人|经办人|责任人)\s*[:：]\s*([\u4e00-\u9fff·]{2,4})")


@dataclass(frozen=True)
class Flag:
    kind: RedactionKind
    text: str

    @property
    def label(self) -> str:
        return f"{self.kind.label}「{self.text}」"


def scan(text: str, *, names: Iterable[str] = ()) -> list[Flag]:
    """What in ``text`` must not be published, in the order it appears; each distinct match
    once. ``names`` are the personal names the ledger knows (two characters or more)."""
    found: list[tuple[int, Flag]] = []
    for kind, pattern in (
        (RedactionKind.EMAIL, _EMAIL),
        (RedactionKind.ID_NUMBER, _ID_NUMBER),
        (RedactionKind.PHONE, _MOBILE),
        (RedactionKind.PHONE, _LANDLINE),
    ):
        for match in pattern.finditer(text):
            found.append((match.start(), Flag(kind, match.group(0).strip())))
    for match in _NAMED_ROLE.finditer(text):
        found.append((match.start(1), Flag(RedactionKind.NAME, match.group(1))))
    for name in {n.strip() for n in names if len(n.strip()) >= 2}:
        start = text.find(name)
        if start >= 0:
            found.append((start, Flag(RedactionKind.NAME, name)))
    seen: set[Flag] = set()
    flags = []
    for _start, flag in sorted(found, key=lambda pair: pair[0]):
        if flag not in seen:
            seen.add(flag)
            flags.append(flag)
    return flags
