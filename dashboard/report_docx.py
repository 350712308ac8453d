"""The unit report as a Word document, laid out like a government 整改情况报告.

A4, title in 小标宋 二号 (22 pt), body in 仿宋 三号 (16 pt) with a fixed 28 pt line and a
two-character first-line indent, first-level headings 一、 in 黑体, second-level （一） in 楷体;
the unit and date at the end, right-aligned. The fonts are named, not embedded: Word on the
bureau's machines has them, and any other reader falls back to its own CJK fonts.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from dashboard.closure_list import ClosureList, closure_list
from dashboard.reports import ReportEntry, UnitReport
from dashboard.supervision_slip import SupervisionSlip

if TYPE_CHECKING:
    from rectification.models import ExportJob

# How often a long list's writer says how far it is.
PROGRESS_EVERY = 50
# Lines written, lines in all.
Progress = Callable[[int, int], None]

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
BODY_SIZE = 16  # 三号
TITLE_SIZE = 22  # 二号
TABLE_SIZE = 10.5  # 五号: a table of nine columns on a landscape page


def _run(paragraph, text: str, *, font: str = BODY_FONT, size: float = BODY_SIZE, bold=False):  # type: ignore[no-untyped-def]
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word picks the font of CJK text from the East Asian slot, which font.name does not set.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def _paragraph(document, *, indent: bool = True, align=None):  # type: ignore[no-untyped-def]
    paragraph = document.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(BODY_SIZE * 2)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _labelled(document, label: str, text: str) -> None:  # type: ignore[no-untyped-def]
    paragraph = _paragraph(document)
    _run(paragraph, _("%(label)s: ") % {"label": label}, bold=True)
    _run(paragraph, text)


def _entry(document, entry: ReportEntry) -> None:  # type: ignore[no-untyped-def]
    item = entry.item
    heading = _paragraph(document)
    _run(heading, str(entry.finding), font=SUBHEADING_FONT)
    if entry.finding.body:
        _labelled(document, _("Problem"), entry.finding.body)
    _labelled(document, _("Recommendation"), item.recommendation.full_text)
    _labelled(document, _("Rectification measures"), item.measures or _("Not written yet"))
    if entry.progress:
        _labelled(document, _("Progress"), "")
        for progress in entry.progress:
            line = _paragraph(document)
            _run(line, f"{localtime(progress.created_at):%Y-%m-%d}　{progress.note}")
    else:
        _labelled(document, _("Progress"), _("No progress reported yet."))
    evidence = entry.evidence
    if evidence:
        _labelled(document, _("Supporting evidence"), "")
        for number, file in enumerate(evidence, start=1):
            _run(_paragraph(document), f"{number}. {file.original_name}")
    else:
        _labelled(document, _("Supporting evidence"), _("None yet."))
    if item.result:
        _labelled(document, _("Rectification result"), item.result)
    _labelled(document, _("Status"), entry.status_text)
    _labelled(document, _("Closure"), entry.closure_text)


def unit_report_docx(report: UnitReport) -> bytes:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    document.core_properties.title = report.title
    document.core_properties.author = report.unit.name

    title = _paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(36)
    _run(title, report.title, font=TITLE_FONT, size=TITLE_SIZE)
    _paragraph(document, indent=False)
    _run(_paragraph(document, indent=False), report.addressee)
    _run(_paragraph(document), report.introduction)
    for project in report.projects:
        _run(_paragraph(document), project.heading, font=HEADING_FONT)
        for entry in project.entries:
            _entry(document, entry)
    _paragraph(document, indent=False)
    _run(_paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT), report.unit.name)
    _run(_paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT), report.date_line)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _cell(cell, text: str, *, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    """A table cell's text, one paragraph per line, in the table's font."""
    cell.text = ""
    for number, line in enumerate(text.split("\n") or [""]):
        paragraph = cell.paragraphs[0] if number == 0 else cell.add_paragraph()
        _run(paragraph, line, size=TABLE_SIZE, bold=bold)


def closure_list_docx(closure: ClosureList, progress: Progress | None = None) -> bytes:
    """The 对账销号单 on landscape A4: the title, a table with one line per item, the summary,
    and the signature lines of the unit and the bureau. ``progress`` is told how many lines
    are written, now and then (a big unit's list, written by the worker)."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Cm(2))
    document.core_properties.title = closure.title
    document.core_properties.author = closure.unit.name

    title = _paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(36)
    _run(title, closure.title, font=TITLE_FONT, size=TITLE_SIZE)
    headings = [
        _("No."),
        _("Project"),
        _("Problem"),
        _("Rectification type"),
        _("Rectification measures"),
        _("Supporting evidence"),
        _("Outcome"),
        _("First review"),
        _("Second review"),
    ]
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, headings, strict=True):
        _cell(cell, heading, bold=True)
    for written, row in enumerate(closure.rows, start=1):
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(written, len(closure.rows))
        values = [
            str(row.number),
            row.project,
            row.problem,
            row.rectification_type,
            row.item.measures or "—",
            "\n".join(row.evidence) or "—",
            row.outcome,
            row.first_review,
            row.second_review,
        ]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            _cell(cell, value)
    _run(_paragraph(document, indent=False), closure.summary, size=TABLE_SIZE)
    _paragraph(document, indent=False)
    for line in closure.signatures:
        paragraph = _paragraph(document, indent=False)
        _run(paragraph, _("%(label)s: ") % {"label": line}, size=TABLE_SIZE)
        _run(paragraph, "　" * 12 + _("Date:"), size=TABLE_SIZE)
    if progress is not None:
        progress(len(closure.rows), len(closure.rows))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_closure_list(job: ExportJob, spool: BinaryIO, progress: Progress) -> int:
    """A big unit's closure list as Word, for ``rectification.export_jobs`` (its query names the
    unit and the year): the lines written."""
    query = QueryDict(job.query)
    closure = closure_list(
        user=job.requested_by,
        unit_id=int(query["unit"]),
        year=int(query["year"]),
        today=job.today,
    )
    if closure is None:
        # Nothing of it is the requester's any longer (their unit changed, say).
        raise PermissionDenied(_("You may no longer read this closure list."))
    progress(0, len(closure.rows))
    spool.write(closure_list_docx(closure, progress))
    return len(closure.rows)


def supervision_slip_docx(slip: SupervisionSlip) -> bytes:
    """The 督办单 on A4: the title, the request to the unit, its red items in a table, and the
    lines of the bureau that issues it and the unit that receives it."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Cm(2.5))
    document.core_properties.title = slip.title
    document.core_properties.author = slip.unit.name

    title = _paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(36)
    _run(title, slip.title, font=TITLE_FONT, size=TITLE_SIZE)
    _run(_paragraph(document), slip.request)
    headings = [
        _("No."),
        _("Project"),
        _("Problem"),
        _("Owner"),
        _("Deadline"),
        _("Days overdue"),
        _("Status"),
    ]
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, headings, strict=True):
        _cell(cell, heading, bold=True)
    for row in slip.rows:
        values = [
            str(row.number),
            row.project,
            row.problem,
            row.owner,
            f"{row.item.deadline:%Y-%m-%d}",
            str(row.days_overdue),
            row.item.get_status_display(),
        ]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            _cell(cell, value)
    _paragraph(document, indent=False)
    for line in slip.signatures:
        paragraph = _paragraph(document, indent=False)
        _run(paragraph, _("%(label)s: ") % {"label": line}, size=TABLE_SIZE)
        _run(paragraph, "　" * 12 + _("Date:"), size=TABLE_SIZE)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
