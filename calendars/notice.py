"""Reading the dates of a State Council notice (国务院办公厅关于部分节假日安排的通知) as pasted.

Staff paste the lines of the notice, one festival per line, as published::

    一、元旦：1月1日（周五）放假，与周末连休，共3天。
    二、春节：2月6日至13日放假调休，共8天。2月14日（星期日）、2月20日（星期六）上班。

or a plain list, one date or range per line, with the festival and 上班 for a make-up
workday::

    2027-02-06 至 2027-02-13 春节
    2027-02-14 春节 上班

In a sentence that says 上班 every date is a make-up workday; in any other sentence every date
or range is a day off. The parenthesised notes (weekdays, lunar dates) are ignored. Nothing is
guessed silently: what cannot be read is an error naming the line, and what looks odd (共N天
that does not match the dates, a make-up workday on a weekday, a statutory day missing) is a
warning shown in the preview before anything is saved.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from calendars import sources
from calendars.models import DayKind
from calendars.services import NoticeDay

# Festival names as the notice writes them → the names of our table (chinesecalendar's).
FESTIVALS = {
    "元旦": "元旦",
    "春节": "春节",
    "清明节": "清明",
    "清明": "清明",
    "劳动节": "劳动节",
    "五一": "劳动节",
    "端午节": "端午",
    "端午": "端午",
    "中秋节": "中秋",
    "中秋": "中秋",
    "国庆节": "国庆节",
    "国庆": "国庆节",
}
_FESTIVAL = re.compile("|".join(sorted(FESTIVALS, key=len, reverse=True)))
_ORDINAL = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|\d+[、.．)）]|[（(][一二三四五六七八九十\d]+[)）])\s*"
)
_NOTES = re.compile(r"（[^）]*）|\([^)]*\)")
_DATE = re.compile(
    r"(?P<iso>(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2}))"
    r"|(?:(?P<y>\d{4})\s*年\s*)?(?:(?P<m>\d{1,2})\s*月\s*)?(?P<d>\d{1,2})\s*日"
)
_RANGE = re.compile(r"^\s*(?:至|到|~|～|—|–|-)\s*$")
_TOTAL = re.compile(r"共\s*(\d{1,2})\s*天")
WEEKDAYS = "一二三四五六日"


@dataclass
class ParsedNotice:
    year: int
    days: list[NoticeDay] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def weekday_name(day: datetime.date) -> str:
    return "星期" + WEEKDAYS[day.weekday()]


def parse_notice(text: str, *, year: int) -> ParsedNotice:
    """The days off and make-up workdays of ``year`` that ``text`` lists."""
    notice = ParsedNotice(year=year)
    found: dict[datetime.date, NoticeDay] = {}
    totals: list[tuple[int, str, int, list[datetime.date]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        _read_line(number, line, year, notice, found, totals)
    notice.days = sorted(found.values(), key=lambda d: d.date)
    if not notice.errors:
        _check(notice, totals)
    return notice


def _read_line(
    number: int,
    line: str,
    year: int,
    notice: ParsedNotice,
    found: dict[datetime.date, NoticeDay],
    totals: list[tuple[int, str, int, list[datetime.date]]],
) -> None:
    body = _ORDINAL.sub("", line)
    head, colon, rest = _split_head(body)
    names = [FESTIVALS[m] for m in _FESTIVAL.findall(head if colon else body)]
    name = "、".join(dict.fromkeys(names))
    if not name:
        notice.errors.append(
            _("Line %(n)d: no festival named (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节).")
            % {"n": number}
        )
        return
    dates_text = rest if colon else body
    any_date = False
    for sentence in re.split(r"[。；;]", _NOTES.sub("", dates_text)):
        kind = DayKind.WORKDAY if "上班" in sentence else DayKind.HOLIDAY
        try:
            spans = _spans(sentence, year)
        except ValueError as exc:
            notice.errors.append(_("Line %(n)d: %(error)s") % {"n": number, "error": exc})
            return
        sentence_days: list[datetime.date] = []
        for first, last in spans:
            if last < first or (last - first).days > 30:
                notice.errors.append(
                    _("Line %(n)d: the range %(first)s to %(last)s is not plausible.")
                    % {"n": number, "first": first, "last": last}
                )
                return
            day = first
            while day <= last:
                sentence_days.append(day)
                day += datetime.timedelta(days=1)
        for day in sentence_days:
            any_date = True
            if abs(day.year - year) > 1:
                notice.errors.append(
                    _("Line %(n)d: %(date)s is not in or next to %(year)s.")
                    % {"n": number, "date": day, "year": year}
                )
                return
            known = found.get(day)
            if known is not None and known.kind != kind:
                notice.errors.append(
                    _("Line %(n)d: %(date)s is listed both as a day off and as a workday.")
                    % {"n": number, "date": day}
                )
                return
            label = name if known is None or name in known.name else f"{known.name}、{name}"
            found[day] = NoticeDay(date=day, kind=kind, name=label)
        total = _TOTAL.search(sentence)
        if total and kind == DayKind.HOLIDAY and sentence_days:
            totals.append((number, name, int(total.group(1)), sentence_days))
    if not any_date:
        notice.errors.append(_("Line %(n)d: no date found.") % {"n": number})


def _split_head(body: str) -> tuple[str, str, str]:
    """(festival part, colon, the rest) — or (body, "", body) without a colon."""
    match = re.search(r"[：:]", body)
    if match is None:
        return body, "", body
    return body[: match.start()], match.group(0), body[match.end() :]


def _spans(sentence: str, year: int) -> list[tuple[datetime.date, datetime.date]]:
    """The dates of one sentence as (first, last) spans; a missing year or month is taken from
    the date before it ("2月6日至13日"), the year otherwise from the notice."""
    tokens = list(_DATE.finditer(sentence))
    spans: list[tuple[datetime.date, datetime.date]] = []
    current_year, current_month = year, None
    explicit_year = False
    dates: list[datetime.date] = []
    for token in tokens:
        if token.group("iso"):
            y, m, d = int(token.group("iy")), int(token.group("im")), int(token.group("id"))
            explicit_year = True
        else:
            if token.group("y"):
                current_year, explicit_year = int(token.group("y")), True
            if token.group("m"):
                current_month = int(token.group("m"))
            if current_month is None:
                raise ValueError(_("「%(text)s」 has no month.") % {"text": token.group(0)})
            y, m, d = current_year, current_month, int(token.group("d"))
        try:
            dates.append(datetime.date(y, m, d))
        except ValueError:
            raise ValueError(_("「%(text)s」 is not a date.") % {"text": token.group(0)}) from None
        current_year, current_month = y, m
    index = 0
    while index < len(tokens):
        first = dates[index]
        between = (
            sentence[tokens[index].end() : tokens[index + 1].start()]
            if index + 1 < len(tokens)
            else ""
        )
        if index + 1 < len(tokens) and _RANGE.match(between):
            last = dates[index + 1]
            if last < first and not explicit_year and last.month < first.month:
                # 12月30日至1月1日 in the notice of the year the range ends in.
                first = first.replace(year=first.year - 1)
            spans.append((first, last))
            index += 2
        else:
            spans.append((first, first))
            index += 1
    return spans


def _check(notice: ParsedNotice, totals: list[tuple[int, str, int, list[datetime.date]]]) -> None:
    """Warnings: what a careful reader of the notice would query before saving."""
    kinds = {d.date: d.kind for d in notice.days}

    def off(day: datetime.date) -> bool:
        kind = kinds.get(day)
        return kind == DayKind.HOLIDAY or (kind is None and day.weekday() >= 5)

    for number, name, stated, days in totals:
        # 共N天 counts the whole period off, weekend days next to the listed dates included
        # ("1月1日放假，与周末连休，共3天").
        first, last = min(days), max(days)
        while off(first - datetime.timedelta(days=1)):
            first -= datetime.timedelta(days=1)
        while off(last + datetime.timedelta(days=1)):
            last += datetime.timedelta(days=1)
        counted = (last - first).days + 1
        if counted != stated:
            notice.warnings.append(
                _(
                    "Line %(n)d (%(name)s): the notice says %(stated)d days, the dates give "
                    "%(counted)d days off in a row (%(first)s to %(last)s)."
                )
                % {
                    "n": number,
                    "name": name,
                    "stated": stated,
                    "counted": counted,
                    "first": first,
                    "last": last,
                }
            )
    for day in notice.days:
        if day.kind == DayKind.WORKDAY and day.date.weekday() < 5:
            notice.warnings.append(
                _(
                    "%(date)s (%(weekday)s) is listed as a make-up workday but is a weekday, "
                    "a working day anyway."
                )
                % {"date": day.date, "weekday": weekday_name(day.date)}
            )
    if notice.year >= sources.STATUTORY_DAYS_SINCE:
        try:
            law = sources.statutory_days_off(notice.year)
        except sources.StatutoryDaysError:
            return
        for day, name in law:
            if kinds.get(day) != DayKind.HOLIDAY and not off(day):
                notice.warnings.append(
                    _("%(date)s (%(name)s) is a statutory day off by law but is not listed as one.")
                    % {"date": day, "name": name}
                )
