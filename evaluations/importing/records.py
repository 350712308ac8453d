"""Plain data passed from the readers to the import service."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class ImportIssue:
    """One problem in an input file, located precisely enough to fix it by hand."""

    where: str  # e.g. 工作表「汇总表」第5行
    column: str  # header name as in the table, e.g. 预算数; "" for whole-row/file issues
    message: str
    # Where to look besides the header name: the column letter as a spreadsheet program shows it
    # (E, also for CSV files, which staff open in Excel/WPS), or the key in our YAML fixture.
    letter: str = ""

    def __str__(self) -> str:
        place = self.where
        if self.column:
            place += f"「{self.column}」列"
            if re.fullmatch(r"[A-Z]{1,3}", self.letter):
                place += f"（{self.letter}列）"
            elif self.letter.isdigit():
                place += f"（第{self.letter}列）"
            elif self.letter:
                place += f"（字段 {self.letter}）"
        return f"{place}：{self.message}"


@dataclass(frozen=True)
class ImportNote:
    """Something the reader did that the person importing should see in the preview, without
    it being an error: a total row checked and left out, a rate read as a fraction."""

    where: str  # e.g. 工作表「汇总表」第15行, or the file for a note about several rows
    message: str

    def __str__(self) -> str:
        return f"{self.where}：{self.message}"


class ImportRejected(Exception):
    """The file cannot be imported; nothing was written. Carries every issue found."""

    def __init__(self, issues: list[ImportIssue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


@dataclass(frozen=True)
class NumberedText:
    """A finding or recommendation: its number （一）=1, title sentence and body."""

    number: int
    title: str
    body: str
    # Problem categories (问题类别) by name; only our YAML carries them. ``None``: the file says
    # nothing, so an import leaves the finding's categories as they are.
    categories: tuple[str, ...] | None = None


@dataclass
class ProjectRecord:
    """One validated row of the summary table."""

    where: str
    seq: int
    unit: str
    project: str
    goal: str
    budget: Decimal
    spent: Decimal
    completion_rate: Decimal
    score: Decimal
    grade: str
    findings: list[NumberedText]
    recommendations: list[NumberedText]
    # Column letter (or YAML key) of each field, so later checks can point at the exact cell.
    letters: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedTable:
    """A whole file: which year it is about and its projects, or the issues that stop it."""

    source: str
    year: int | None = None
    title: str = ""
    projects: list[ProjectRecord] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    # What the preview and the command show beside the changes (total rows, rate readings).
    notes: list[ImportNote] = field(default_factory=list)
