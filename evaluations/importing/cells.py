"""Parsing single cells of the summary table: numbers, rates, grades and numbered texts.

Each parser returns a value or raises :class:`CellError` with a Chinese message; the caller adds
the sheet, row and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from evaluations.importing.records import NumberedText
from evaluations.models import Grade, chinese_numeral, parse_chinese_numeral

CENT = Decimal("0.01")
# Far above any real table, far below the database integer limit (the importer temporarily adds
# a large offset to 序号 while renumbering).
MAX_SEQ = 100_000


class CellError(ValueError):
    pass


def text(value: Any) -> str:
    """A cell as text: ``None`` is empty, numbers keep their shortest form, whitespace trimmed.

    Line breaks become LF whatever wrote them (Excel on Windows, a CSV, YAML), so the same
    text read from two formats compares equal and a re-import is not mistaken for a change.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _decimal(value: Any, *, what: str) -> Decimal:
    if isinstance(value, bool):
        raise CellError(f"{what}应为数字")
    if isinstance(value, int | float):
        # repr() of a float is its shortest exact-looking form: 2433.48, not 2433.4799999...
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():  # a NaN or infinite float cell (a broken formula)
            raise CellError(f"{what}「{text(value)}」不是有效的数字")
        return number
    raw = text(value)
    for separator in (",", "，", " ", "\u3000"):
        raw = raw.replace(separator, "")
    if not raw:
        raise CellError(f"{what}不能为空")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
        raise CellError(f"{what}「{text(value)}」不是有效的数字")
    try:
        return Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise CellError(f"{what}「{text(value)}」不是有效的数字") from exc


def _two_decimals(number: Decimal, *, what: str, original: Any) -> Decimal:
    try:
        rounded = number.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        # More digits than the decimal context holds (1e+26 with two decimals): far beyond any
        # real amount (found by tests/test_import_fuzz.py).
        raise CellError(f"{what}「{text(original)}」超出范围") from exc
    # Spreadsheet arithmetic leaves float noise (2432.7600000000002); real extra digits are an
    # error.
    if abs(rounded - number) > Decimal("0.000001"):
        raise CellError(f"{what}「{text(original)}」最多保留两位小数")
    return rounded


def parse_amount(value: Any, *, what: str) -> Decimal:
    """An amount in 万元: a number or text with thousands separators, ≥ 0, two decimals."""
    number = _decimal(value, what=what)
    if number < 0:
        raise CellError(f"{what}不能为负数")
    rounded = _two_decimals(number, what=what, original=value)
    if rounded >= Decimal("1e12"):
        raise CellError(f"{what}「{text(value)}」超出范围")
    return rounded


@dataclass(frozen=True)
class RateReading:
    """One way of reading a completion-rate cell, in percentage points."""

    value: Decimal
    # A plain number read as a fraction: 0.9575 in a cell without a percent format → 95.75 %.
    as_fraction: bool = False


def rate_readings(value: Any, *, number_format: str | None = None) -> list[RateReading]:
    """Every plausible reading of a completion-rate cell, the usual one first.

    ``99.97%`` as text and 0.9997 in a cell formatted as a percentage mean 99.97 % and
    nothing else. A plain number (99.97, or 0.9997 typed into a cell without a percent format,
    or either as text in a CSV) may be percentage points or a fraction; both readings are
    returned and the caller keeps the one that agrees with 完成数÷预算数.
    """
    what = "预算完成率"
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    percent = False
    if numeric:
        number = _decimal(value, what=what)
        percent = bool(number_format and "%" in number_format)
        if percent:
            number *= 100
    else:
        raw = text(value)
        percent = raw.endswith(("%", "％"))
        number = _decimal(raw[:-1] if percent else raw, what=what)
    if number < 0:
        raise CellError("预算完成率不能为负数")
    candidates = [(number, False)] if percent else [(number, False), (number * 100, True)]
    readings: list[RateReading] = []
    refusal: CellError | None = None
    for candidate, as_fraction in candidates:
        if candidate >= Decimal("100000"):
            refusal = refusal or CellError(f"预算完成率「{text(value)}」超出范围")
            continue
        if numeric or as_fraction:
            # A number cell often holds a formula's quotient (=F4/E4 → 0.99970413…) at full
            # precision while the sheet shows 99.97%; take what is shown. The check against
            # 完成数÷预算数 still catches a wrong rate.
            readings.append(RateReading(candidate.quantize(CENT, ROUND_HALF_UP), as_fraction))
            continue
        try:
            readings.append(RateReading(_two_decimals(candidate, what=what, original=value)))
        except CellError as exc:
            refusal = refusal or exc
    if not readings:
        assert refusal is not None
        raise refusal
    return readings


def parse_rate(value: Any, *, number_format: str | None = None) -> Decimal:
    """A completion rate in percentage points, read the usual way (see ``rate_readings``):
    ``99.97%`` as text, 0.9997 in a cell formatted as a percentage, or 99.97 typed as a plain
    number all mean 99.97 %."""
    return rate_readings(value, number_format=number_format)[0].value


def parse_score(value: Any) -> Decimal:
    number = _decimal(value, what="分数")
    if not Decimal(0) <= number <= Decimal(100):
        raise CellError(f"分数「{text(value)}」应在 0 到 100 之间")
    return _two_decimals(number, what="分数", original=value)


def parse_grade(value: Any) -> str:
    raw = text(value)
    if not raw:
        raise CellError("等级不能为空")
    if raw not in Grade.values:
        raise CellError(f"等级「{raw}」无效，应为 优、良、中、差 之一")
    return raw


def parse_seq(value: Any) -> int:
    number = _decimal(value, what="序号")
    if number != number.to_integral_value() or number < 1:
        raise CellError(f"序号「{text(value)}」应为正整数")
    if number > MAX_SEQ:
        raise CellError(f"序号「{text(value)}」超出范围（最大 {MAX_SEQ}）")
    return int(number)


# A number marker （一）… begins the cell, a line, or follows the end of a sentence.
_MARKER = re.compile(r"(?:^|(?<=[\n。；;]))[ \t\u3000]*[（(]([一二三四五六七八九十]+)[）)]")


def split_numbered(value: Any, *, what: str) -> list[NumberedText]:
    """Split a 问题 or 建议 cell at （一）（二）… into numbered items.

    Title is the first sentence (up to and including the first 。, or the first line when it has
    none); the body is the rest, line breaks kept. Numbering must run 1, 2, 3… without gaps.
    """
    raw = text(value)
    if not raw:
        raise CellError(f"{what}不能为空")
    matches = list(_MARKER.finditer(raw))
    if not matches:
        raise CellError(f"{what}未按（一）（二）…编号")
    if raw[: matches[0].start()].strip():
        raise CellError(f"{what}在（一）之前有未编号的文字")
    items: list[NumberedText] = []
    for index, match in enumerate(matches):
        number = parse_chinese_numeral(match.group(1))
        expected = index + 1
        if number != expected:
            raise CellError(
                f"{what}编号不连续：第{expected}条应为（{chinese_numeral(expected)}），"
                f"实际为（{match.group(1)}）"
            )
        end = matches[index + 1].start() if index + 1 < len(matches) else len(raw)
        title, body = split_title(raw[match.end() : end])
        if not title:
            raise CellError(f"{what}（{match.group(1)}）缺少标题")
        items.append(NumberedText(number=number, title=title, body=body))
    return items


def split_title(chunk: str) -> tuple[str, str]:
    chunk = chunk.strip()
    stop = chunk.find("。")
    newline = chunk.find("\n")
    if stop != -1 and (newline == -1 or stop < newline):
        title, body = chunk[: stop + 1], chunk[stop + 1 :]
    elif newline != -1:
        title, body = chunk[:newline], chunk[newline + 1 :]
    else:
        title, body = chunk, ""
    lines = [line.strip() for line in body.strip().split("\n")]
    return title.strip(), "\n".join(line for line in lines if line)
