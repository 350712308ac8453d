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
# Not a part of a longer number, code or amount: no digit, letter, hyphen or point next to it,
# nor an ASCII comma of thousands grouping (a Chinese comma between two numbers separates
# them). GZ020-2020-1234 is a contract number, not a telephone …
_NOT_IN_CODE_BEFORE = r"(?<![0-9A-Za-z.,-])"
# … and 13500000000元 is money.
_NOT_IN_CODE_AFTER = r"(?![0-9A-Za-z]|[.,-]\d|\s*[元万亿%])"
# 11-digit mobile numbers (13x … 19x), optionally +86 and spaced or hyphenated 3-4-4.
_MOBILE = re.compile(
    _NOT_IN_CODE_BEFORE + r"(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}" + _NOT_IN_CODE_AFTER
)
# Landlines with their area code — 020-81234567, 02081234567, 020 8123 4567, (020)81234567,
# 020-81234567-8001 with an extension — the area code being 010, 02x, or four digits from 03xx
# on …
_AREA_CODE = r"0(?:10|2\d|[3-9]\d{2})"
_LANDLINE = re.compile(
    _NOT_IN_CODE_BEFORE
    + rf"(?:{_AREA_CODE}[-\s]?|\({_AREA_CODE}\)\s?)[2-9]\d{{2,3}}[-\s]?\d{{4}}(?:-\d{{1,5}})?"
    + _NOT_IN_CODE_AFTER
)
# … and 7–8 digits within a few characters after a word that says they are a telephone number
# (电话号码：81234567, 联系电话为8123 4567).
_PHONE_WORD = re.compile(
    r"(?:电话|手机|座机|联系方式|Tel|TEL|tel)[^\d\n]{0,4}?"
    + _NOT_IN_CODE_BEFORE
    + r"(?P<number>[2-9]\d{2,3}[-\s]?\d{4}(?:-\d{1,5})?)"
    + _NOT_IN_CODE_AFTER
)
# A number right after these words is a code of some record, whatever it looks like
# (合同编号0755-2020-0001).
_CODE_WORDS = ("编号", "合同号", "文号", "批次", "流水号", "代码", "单号", "项目号", "凭证号")
# 18-character resident ID: region (6), birth date (8, 1900–2099), sequence (3) and the check
# character of GB 11643 — which an 18-digit code that merely contains a date rarely has.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# A person named after the role the text gives them: 联系人：张三, 负责人：财务科 李明,
# 联系人张三, 负责人为李小红. After a colon, the words up to the next mark are read: an office
# (财务科, 区财政局) and a title (主任, 出纳) are set aside and what remains is the name. Without
# a colon the name must stand alone (two or three characters, then a mark or the end) and begin
# with a common surname, or 建立项目负责人制度 and 负责人审批 would read as names.
_HAN = r"[\u4e00-\u9fff·]"
_NAMED_ROLE = re.compile(
    r"(?:联系人|负责人|经办人|责任人|填报人|承办人|审核人)\s*(?:"
    rf"[:：]\s*(?P<given>{_HAN}(?:[ \u3000]?{_HAN}){{1,9}})"
    rf"|(?:为|是)?(?P<bare>{_HAN}{{2,3}})(?!{_HAN}))"
)
_OFFICE_ENDS = (
    *("局", "科", "室", "处", "办", "股", "所", "站", "队", "中心", "单位", "部门", "小组"),
    *("委员会", "街道", "镇", "领导", "班子"),
)
_OFFICE_STARTS = ("各", "单位", "分管", "相关", "主要", "本")
_TITLES = (
    *("主任", "副主任", "科长", "局长", "处长", "股长", "所长", "站长", "书记", "部长", "院长"),
    *("同志", "老师", "出纳", "会计", "专员", "干部"),
)
# The common surnames (a name without a colon before it must start with one); characters that
# also begin everyday words after a role (于, 关, 方, 任, 向, 严, 余, 常, 安, 金, 万) are left out.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡杜叶"
    "程苏魏吕丁沈姚卢姜崔钟谭陆汪范石廖贾夏韦付傅白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵钱覃武戴莫孔汤区欧麦冼岑伍温甘植骆谷霍凌柯洪翁庞阮卓邝梅黎巫利"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "司徒", "东方", "皇甫", "尉迟", "公孙")


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


def _fold_table() -> dict[int, str]:
    """Every character NFKC reads as one other character (full-width digits, letters and
    marks, the ideographic space …), the Chinese comma excepted: it separates numbers, where
    an ASCII comma groups thousands. Built once; ``str.translate`` then folds at C speed."""
    table = {}
    # Latin-1, general punctuation to the enclosed and CJK compatibility blocks, and the
    # half- and full-width forms: where such characters live.
    ranges = (range(0xA0, 0x100), range(0x2000, 0x3400), range(0xFE30, 0xFFF0))
    for code in (code for block in ranges for code in block):
        char = chr(code)
        if char == "，":
            continue
        form = unicodedata.normalize("NFKC", char)
        if len(form) == 1 and form != char:
            table[code] = form
    return table


_FOLD = _fold_table()


def _folded(text: str) -> str:
    """``text`` with full-width digits, letters and marks read as their ASCII forms (NFKC),
    character for character so that positions in it are positions in ``text``."""
    return text.translate(_FOLD)


def _after_code_word(text: str, start: int) -> bool:
    before = text[max(0, start - 4) : start]
    return any(word in before for word in _CODE_WORDS)


def _valid_id(number: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11] == number[17].upper()


def _person(words: str, *, bare: bool) -> tuple[int, int] | None:
    """Where the person's name is in ``words`` (what follows a role), or None when they name
    an office or a title only."""
    cut = max((words.rfind(end) + len(end) for end in _OFFICE_ENDS if end in words), default=0)
    if cut == 0 and words.startswith(_OFFICE_STARTS):
        return None
    start = cut + len(words[cut:]) - len(words[cut:].lstrip(" \u3000"))
    name = words[start:]
    for title in sorted(_TITLES, key=len, reverse=True):
        if name.endswith(title):
            name = name[: -len(title)].rstrip(" \u3000")
            break
    letters = name.replace(" ", "").replace("\u3000", "")
    if len(letters) < 2:
        return None
    known_surname = letters[0] in _SURNAMES or letters.startswith(_COMPOUND_SURNAMES)
    if bare and not known_surname:
        return None
    if len(letters) > 4:
        # More than a name follows (负责人：张三负责协调): a name is two or three characters.
        if not known_surname:
            return None
        name = name[:3]
    return start, start + len(name)


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
            if not _after_code_word(folded, match.start()):
                add(RedactionKind.PHONE, *match.span())
    for match in _PHONE_WORD.finditer(folded):
        add(RedactionKind.PHONE, *match.span("number"))
    for match in _NAMED_ROLE.finditer(folded):
        group = "given" if match.group("given") else "bare"
        span = _person(match.group(group), bare=group == "bare")
        if span is not None:
            offset = match.start(group)
            add(RedactionKind.NAME, offset + span[0], offset + span[1])
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
