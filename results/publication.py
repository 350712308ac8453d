"""The public disclosure of a round's rectification (整改情况公开).

Guangzhou publishes rectification results as a numbered list under each unit and project: the
problem, 整改情况 (the outcome), the measures in brief, and the document and date; then the
totals and the problems not yet finished with their next steps. This module draws that list
from the ledger (``draft``), runs the redaction check over every public text, freezes it into
the content of a publication (``Draft.content``, hashed by ``content_hash``) and renders a frozen
content as Word and PDF (the page is ``templates/results/publication.html``).

The public text of an item is its ``PublicWording`` where staff saved one, otherwise drawn from
the ledger: the finding's title, the result (closed items) or the measures, and the date of
closure. Nothing of the ledger is edited here.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.timezone import localdate
from django.utils.translation import gettext as _
from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from accounts.models import User
from dashboard.selectors import closure_rate
from evaluations.models import Unit, chinese_numeral
from liwan import clock
from rectification.choices import ClosureOutcome, ItemStatus
from rectification.models import RectificationItem, RoundSnapshot
from rectification.selectors import items_visible_to, ledger_rows
from rectification.snapshots import Outcome, Progress, Row
from rectification.snapshots import rows as stored_rows
from results.choices import RedactionKind
from results.models import Publication
from results.redaction import Flag, scan
from results.rules import may_prepare_publication

# The publication's own format; a page reads the content by it.
CONTENT_FORMAT = 1
# How often a stored computation of the draft writes its progress (problems checked).
PROGRESS_EVERY = 500


@dataclass
class Entry:
    """One problem as the public reads it."""

    item: RectificationItem
    problem: str
    outcome: str
    measures: str
    document: str
    date: str
    closed: bool
    flags: list[Flag]
    # Staff saved this item's public wording.
    reviewed: bool
    # The findings staff confirmed may be published (``PublicWording.confirmed``).
    confirmed: frozenset[str] = frozenset()

    @property
    def blocking(self) -> bool:
        """A finding nobody confirmed holds the publication back."""
        return any(flag.key not in self.confirmed for flag in self.flags)


@dataclass
class ProjectGroup:
    name: str
    entries: list[Entry] = field(default_factory=list)


@dataclass
class UnitGroup:
    name: str
    projects: list[ProjectGroup] = field(default_factory=list)


@dataclass
class Draft:
    year: int
    today: datetime.date
    units: list[Unit]
    groups: list[UnitGroup]

    @property
    def entries(self) -> list[Entry]:
        return [e for g in self.groups for p in g.projects for e in p.entries]

    @property
    def flagged(self) -> list[Entry]:
        return [e for e in self.entries if e.flags]

    @property
    def blocking(self) -> list[Entry]:
        return [e for e in self.entries if e.blocking]

    @property
    def title(self) -> str:
        return _("Rectification of the problems found in the %(year)s performance evaluation") % {
            "year": self.year
        }

    def content(self) -> dict[str, Any]:
        """Everything the public reads, as plain JSON values (what a publication freezes)."""
        entries = self.entries
        closed = sum(1 for e in entries if e.closed)
        return printable(
            {
                "format": CONTENT_FORMAT,
                "year": self.year,
                "title": self.title,
                "as_of": f"{self.today:%Y-%m-%d}",
                "units": [u.name for u in self.units],
                "totals": {
                    "items": len(entries),
                    "closed": closed,
                    "rate": str(closure_rate(closed, len(entries))),
                    "unfinished": len(entries) - closed,
                },
                "groups": [
                    {
                        "unit": group.name,
                        "projects": [
                            {
                                "project": project.name,
                                "entries": [
                                    {
                                        "number": number,
                                        "problem": e.problem,
                                        "outcome": e.outcome,
                                        "measures": e.measures,
                                        "document": e.document,
                                        "date": e.date,
                                    }
                                    for number, e in enumerate(project.entries, start=1)
                                ],
                            }
                            for project in group.projects
                        ],
                    }
                    for group in self.groups
                ],
                "unfinished": [
                    {
                        "unit": group.name,
                        "project": project.name,
                        "problem": e.problem,
                        "next_step": e.measures,
                    }
                    for group in self.groups
                    for project in group.projects
                    for e in project.entries
                    if not e.closed
                ],
            }
        )


def versions_of_scope(year: int, units: Iterable[int]) -> list[Publication]:
    """``year``'s published versions of exactly ``units`` (none: the whole round), oldest
    first: the editions of one publication. A year has a handful of versions, so their scopes
    are compared here rather than in SQL."""
    wanted = sorted(units)
    scopes: dict[int, list[int]] = defaultdict(list)
    for pk, unit in Publication.units.through.objects.filter(publication__year=year).values_list(
        "publication_id", "unit_id"
    ):
        scopes[pk].append(unit)
    return [
        version
        for version in Publication.objects.filter(year=year)
        .only("pk", "year", "number", "sha256")
        .order_by("number")
        if sorted(scopes[version.pk]) == wanted
    ]


# Control characters Word's XML cannot hold, and the invisible format characters (zero-width
# space, soft hyphen, byte-order mark …) that text pasted from the web or a chat carries.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b-\u200f\u2060-\u2064\ufeff"
    "\ud800-\udfff\ufffe\uffff]"
)


def printable(value: Any) -> Any:
    """``value`` (a JSON value) without control and invisible characters: a unit may paste
    them into its measures, a frozen text must render as every format, and the redaction check
    must read what the public will read (a mobile number with a zero-width space inside is
    still one)."""
    if isinstance(value, str):
        return _UNPRINTABLE.sub("", value)
    if isinstance(value, list):
        return [printable(v) for v in value]
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    return value


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the content's canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def outcome_label(item: RectificationItem) -> str:
    """整改情况 as published: the closure's outcome, or that the work goes on."""
    if item.status == ItemStatus.CLOSED:
        return (
            str(ClosureOutcome(item.closure_outcome).label)
            if item.closure_outcome
            else _("Rectified")
        )
    return _("Being rectified")


def ledger_wording(item: RectificationItem) -> tuple[str, str]:
    """The problem and the measures the ledger would publish for ``item`` (before staff edit
    them): the finding's title; the result of a closed item, else its measures, else the
    unit's latest progress note (annotated by ``ledger_rows``, read here otherwise)."""
    problem = item.recommendation.finding.title
    if item.status == ItemStatus.CLOSED:
        measures = item.result or item.measures
    elif item.measures:
        measures = item.measures
    elif hasattr(item, "latest_note"):
        measures = item.latest_note or ""
    else:
        measures = (
            item.progress.order_by("-created_at", "-id").values_list("note", flat=True).first()
            or ""
        )
    return problem, measures.strip()


def public_texts(item: RectificationItem) -> tuple[str, str, str]:
    """(problem, measures, document) as ``item`` is published: staff's wording, or the
    ledger's."""
    wording = getattr(item, "public_wording", None)
    if wording is not None:
        return wording.problem, wording.measures, wording.document
    return (*ledger_wording(item), "")


def wording_hash(item: RectificationItem) -> str:
    """A short fingerprint of ``item``'s public texts, for the wording form to detect a change
    made while it was open."""
    return hashlib.sha256("\x00".join(public_texts(item)).encode()).hexdigest()[:16]


def wording_flags(item: RectificationItem, texts: tuple[str, str, str]) -> list[Flag]:
    """What the redaction check finds in ``texts`` (problem, measures, document) as the public
    wording of ``item``: its unit's people and the bureau's are the names it knows."""
    names = personal_names({item.unit_id})
    return scan(printable("\n".join(texts)), names=names[item.unit_id] + names[None])


def personal_names(units: set[int]) -> dict[int | None, list[str]]:
    """The names of the people the ledger knows, by unit (``None``: the bureau's): a unit's
    texts are checked against its own people and the bureau's."""
    names: dict[int | None, list[str]] = defaultdict(list)
    for unit_id, name in (
        User.objects.filter(Q(unit_id__in=units) | Q(unit__isnull=True))
        .exclude(full_name="")
        .values_list("unit_id", "full_name")
    ):
        # A full name may carry the office before the person ("区财政局评价办 王珊"), or be
        # written with a space between surname and given name ("王 珊").
        words = name.split()
        person = words[-1]
        if len(person) == 1 and len(words) > 1 and len(words[-2]) == 1:
            person = words[-2] + person
        names[unit_id].append(person)
    return names


def draft(
    *,
    user: User,
    year: int,
    units: list[Unit],
    today: datetime.date,
    progress: Progress | None = None,
) -> Draft | None:
    """The publication of ``year`` (only ``units`` when given) as it would read today; ``None``
    when ``user`` may not prepare one or there is nothing to publish. ``progress`` is told how
    many problems have been checked, now and then."""
    if not may_prepare_publication(user):
        return None
    # One order of the units, whoever asks (the content is hashed): by name, as the form lists
    # them.
    units = sorted(units, key=lambda unit: (unit.name, unit.pk))
    items = items_visible_to(user).filter(round_year=year)
    if units:
        items = items.filter(unit__in=units)
    rows = list(ledger_rows(items, today=today).select_related("public_wording"))
    if not rows:
        return None
    names = personal_names({item.unit_id for item in rows})
    groups: list[UnitGroup] = []
    by_unit: dict[int, UnitGroup] = {}
    by_project: dict[tuple[int, int], ProjectGroup] = {}
    for checked, item in enumerate(rows, start=1):
        if progress is not None and checked % PROGRESS_EVERY == 0:
            progress(checked, len(rows))
        result = item.recommendation.finding.result
        group = by_unit.get(item.unit_id)
        if group is None:
            group = by_unit[item.unit_id] = UnitGroup(item.unit.name)
            groups.append(group)
        project = by_project.get((item.unit_id, result.pk))
        if project is None:
            project = by_project[(item.unit_id, result.pk)] = ProjectGroup(result.project.name)
            group.projects.append(project)
        project.entries.append(_entry(item, names[item.unit_id] + names[None]))
    if progress is not None:
        progress(len(rows), len(rows))
    return Draft(year=year, today=today, units=list(units), groups=groups)


def compute_snapshot(snapshot: RoundSnapshot, progress: Progress) -> Outcome:
    """A large round's draft, for ``rectification.snapshots`` to store: its totals and content
    hash in the summary, one row per problem in the order it is published (flagged where the
    redaction check found something)."""
    units = list(Unit.objects.filter(pk__in=scope_units(snapshot.scope)))
    current = draft(
        user=snapshot.requested_by,
        year=snapshot.year,
        units=units,
        today=clock.today(),
        progress=progress,
    )
    if current is None:
        return Outcome(summary={"empty": True}, rows=[])
    content = current.content()
    entries = current.entries
    return Outcome(
        summary={
            "empty": False,
            "as_of": content["as_of"],
            "totals": content["totals"],
            "hash": content_hash(content),
            "blocking": sum(1 for e in entries if e.blocking),
            "flagged": sum(1 for e in entries if e.flags),
        },
        rows=[
            Row(
                item_id=e.item.pk,
                flagged=bool(e.flags),
                data={
                    "problem": e.problem,
                    "outcome": e.outcome,
                    "measures": e.measures,
                    "document": e.document,
                    "date": e.date,
                    "closed": e.closed,
                    "reviewed": e.reviewed,
                    "confirmed": sorted(e.confirmed),
                    "flags": [[str(f.kind), f.text] for f in e.flags],
                },
            )
            for e in entries
        ],
    )


def scope_of(units: Iterable[Unit]) -> str:
    """A draft's units as a stored computation's scope ("" for every unit)."""
    return ",".join(str(pk) for pk in sorted(unit.pk for unit in units))


def scope_units(scope: str) -> list[int]:
    return [int(pk) for pk in scope.split(",") if pk]


def draft_path(year: int, scope: str) -> str:
    """The draft page of ``year`` for the units of ``scope``."""
    query = urlencode({"year": year, "units": scope_units(scope)}, doseq=True)
    return f"{reverse('results:publication')}?{query}"


def stored_entries(snapshot: RoundSnapshot, *, start: int, size: int, flagged: bool = False):  # type: ignore[no-untyped-def]
    """Entries ``start`` … ``start + size`` of a stored draft (only the flagged ones when
    asked), with their items read in one query."""
    rows = stored_rows(snapshot, flagged=flagged)
    # Every problem is a row: a page is a range of positions. The flagged are a few, offset.
    rows = list(
        rows[start : start + size]
        if flagged
        else rows.filter(position__gte=start, position__lt=start + size)
    )
    # Only what the page shows of the items: model instances with every column cost more
    # than the queries.
    items = (
        RectificationItem.objects.select_related("unit", "recommendation__finding__result__project")
        .only("unit__name", "unit__short_name", "recommendation__finding__result__project__name")
        .in_bulk([row.item_id for row in rows])
    )
    return [
        Entry(
            item=items[row.item_id],
            problem=row.data["problem"],
            outcome=row.data["outcome"],
            measures=row.data["measures"],
            document=row.data["document"],
            date=row.data["date"],
            closed=row.data["closed"],
            flags=[Flag(RedactionKind(kind), text) for kind, text in row.data["flags"]],
            reviewed=row.data["reviewed"],
            confirmed=frozenset(row.data["confirmed"]),
        )
        for row in rows
        if row.item_id in items
    ]


def _entry(item: RectificationItem, names: list[str]) -> Entry:
    problem, measures, document = public_texts(item)
    closed = item.status == ItemStatus.CLOSED
    wording = getattr(item, "public_wording", None)
    return Entry(
        item=item,
        problem=problem,
        outcome=outcome_label(item),
        measures=measures,
        document=document,
        date=f"{localdate(item.closed_at):%Y-%m-%d}" if closed and item.closed_at else "",
        closed=closed,
        flags=scan(printable("\n".join((problem, measures, document))), names=names),
        reviewed=wording is not None,
        confirmed=frozenset(wording.confirmed) if wording is not None else frozenset(),
    )


# The renderings of a frozen content. Numbering as official documents number: 一、 for units,
# （一） for projects, 1. for problems.


def unit_heading(index: int, name: str) -> str:
    return f"{chinese_numeral(index)}、{name}"


def project_heading(index: int, name: str) -> str:
    return f"（{chinese_numeral(index)}）{name}"


def entry_lines(entry: dict[str, Any]) -> list[str]:
    """The lines of one published problem, as every rendering prints them."""
    lines = [
        f"{entry['number']}. " + _("Problem: %(text)s") % {"text": entry["problem"]},
        _("Rectification: %(outcome)s") % {"outcome": entry["outcome"]},
    ]
    if entry["measures"]:
        lines.append(_("Measures: %(text)s") % {"text": entry["measures"]})
    if entry["document"] or entry["date"]:
        lines.append(
            _("Document and date: %(text)s")
            % {"text": "，".join(t for t in (entry["document"], entry["date"]) if t)}
        )
    return lines


def unfinished_line(row: dict[str, Any]) -> str:
    return f"{row['unit']}｜{row['project']}：{row['problem']}"


def next_step_line(row: dict[str, Any]) -> str:
    return _("Next step: %(text)s") % {"text": row["next_step"]}


def totals_line(content: dict[str, Any]) -> str:
    totals = content["totals"]
    return _(
        "As of %(date)s: %(items)d problems, %(closed)d rectified (%(rate)s%%), "
        "%(unfinished)d being rectified."
    ) % {
        "date": content["as_of"],
        "items": totals["items"],
        "closed": totals["closed"],
        "rate": totals["rate"],
        "unfinished": totals["unfinished"],
    }


def _sections(content: dict[str, Any]) -> list[tuple[int, str, list[str]]]:
    """(heading level, heading, paragraphs) in reading order, for Word and PDF alike."""
    content = printable(content)
    sections: list[tuple[int, str, list[str]]] = [(1, content["title"], [totals_line(content)])]
    for u, group in enumerate(content["groups"], start=1):
        sections.append((2, unit_heading(u, group["unit"]), []))
        for p, project in enumerate(group["projects"], start=1):
            # The lines under a problem's number are indented, as on the page.
            lines = [
                line if n == 0 else f"\u3000\u3000{line}"
                for e in project["entries"]
                for n, line in enumerate(entry_lines(e))
            ]
            sections.append((3, project_heading(p, project["project"]), lines))
    if content["unfinished"]:
        sections.append(
            (
                2,
                _("Problems being rectified and the next steps"),
                [
                    f"{n}. {unfinished_line(row)}"
                    + (f"　{next_step_line(row)}" if row["next_step"] else "")
                    for n, row in enumerate(content["unfinished"], start=1)
                ],
            )
        )
    return sections


def publication_docx(content: dict[str, Any]) -> bytes:
    document = Document()
    document.core_properties.title = content["title"]
    for level, heading, paragraphs in _sections(content):
        document.add_heading(heading, level=level)
        for text in paragraphs:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def publication_pdf(content: dict[str, Any]) -> bytes:
    """The PDF, in the PDF standard's own Song typeface (STSong-Light, which every reader
    supplies), so the application ships no font file."""
    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    styles = {
        level: ParagraphStyle(
            f"h{level}", fontName=font, fontSize=size, leading=size * 1.5, spaceBefore=size / 2
        )
        for level, size in ((1, 18), (2, 14), (3, 12))
    }
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=17, wordWrap="CJK")
    flowables: list[Any] = []
    for level, heading, paragraphs in _sections(content):
        flowables.append(Paragraph(html.escape(heading), styles[level]))
        flowables += [Paragraph(html.escape(text), body) for text in paragraphs]
        flowables.append(Spacer(1, 2 * mm))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=content["title"],
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
    ).build(flowables)
    return buffer.getvalue()
