"""The rectification report of one unit for one year (整改情况报告), as data.

The printable page and the .docx download both render this, so they always say the same thing.
Items come from ``items_visible_to`` filtered to the unit and year: a unit can only report on
itself, and another unit's report is simply not found.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dashboard.selectors import YEAR, Figures
from evaluations.models import EvaluationResult, Unit, chinese_numeral
from rectification.choices import ItemStatus
from rectification.models import Evidence, ProgressUpdate, RectificationItem
from rectification.selectors import items_visible_to

if TYPE_CHECKING:
    from accounts.models import User


def _day(value: datetime.date | None) -> str:
    return date_format(value, "DATE_FORMAT") if value else "—"


def _number(n: int) -> str:
    # Chinese official documents number sections 一、二、…; other languages 1. 2. …
    return chinese_numeral(n) if translation.get_language().startswith("zh") else str(n)


@dataclass(frozen=True)
class ReportEntry:
    """One item: the problem, what was done about it and where it stands."""

    item: RectificationItem
    progress: list[ProgressUpdate]  # oldest first

    @property
    def finding(self):  # type: ignore[no-untyped-def]
        return self.item.recommendation.finding

    @property
    def evidence(self) -> list[Evidence]:
        return [evidence for progress in self.progress for evidence in progress.evidence.all()]

    @property
    def status_text(self) -> str:
        text = _("%(status)s; deadline %(deadline)s; owner %(owner)s") % {
            # The label from the choices (get_status_display builds a dict of them per call).
            "status": ItemStatus(self.item.status).label,
            "deadline": _day(self.item.deadline),
            "owner": self.item.owner.display_name if self.item.owner else _("not set"),
        }
        if self.item.is_overdue:  # type: ignore[attr-defined]
            text += _(" (overdue)")
        return text

    @property
    def closure_text(self) -> str:
        item = self.item
        if item.status != ItemStatus.CLOSED:
            return _("Not closed yet.")
        text = _("%(outcome)s. Verified by %(method)s, by %(who)s on %(date)s.") % {
            "outcome": item.get_closure_outcome_display(),
            "method": item.get_verification_method_display(),
            "who": item.verified_by,
            "date": _day(item.verified_on),
        }
        return f"{text} {item.verification_note}".strip()


@dataclass(frozen=True)
class ReportProject:
    number: str  # 一 / 1
    result: EvaluationResult
    entries: list[ReportEntry]

    @property
    def heading(self) -> str:
        return _("%(number)s. %(project)s (score %(score)s, grade %(grade)s)") % {
            "number": self.number,
            "project": self.result.project.name,
            "score": self.result.score,
            "grade": self.result.grade,
        }


@dataclass(frozen=True)
class UnitReport:
    unit: Unit
    year: int
    as_of: datetime.date
    projects: list[ReportProject]
    figures: Figures

    @property
    def title(self) -> str:
        return _(
            "Report of %(unit)s on the rectification of the problems found by the %(year)s "
            "performance evaluation"
        ) % {"unit": self.unit.name, "year": self.year}

    @property
    def addressee(self) -> str:
        return _("To the Liwan District Finance Bureau:")

    @property
    def introduction(self) -> str:
        by_status = self.figures.by_status
        return _(
            "The %(year)s key performance evaluation of fiscal expenditure found problems to "
            "rectify in our unit (projects: %(projects)s; problems: %(problems)s). As of "
            "%(date)s: closed %(closed)s, awaiting closure %(submitted)s, in progress "
            "%(in_progress)s, not started %(open)s; overdue %(overdue)s. The rectification of "
            "each problem is reported below."
        ) % {
            "year": self.year,
            "problems": self.figures.total,
            "projects": len(self.projects),
            "date": _day(self.as_of),
            "closed": by_status[ItemStatus.CLOSED],
            # At the bureau: waiting for either review; still with the unit: its head's
            # sign-off included.
            "submitted": by_status[ItemStatus.SUBMITTED] + by_status[ItemStatus.SECOND_REVIEW],
            "in_progress": by_status[ItemStatus.IN_PROGRESS] + by_status[ItemStatus.HEAD_REVIEW],
            "open": by_status[ItemStatus.OPEN],
            "overdue": self.figures.overdue,
        }

    @property
    def date_line(self) -> str:
        return _day(self.as_of)

    @property
    def filename(self) -> str:
        return _("%(unit)s %(year)s rectification report.docx") % {
            "unit": self.unit.short_name or self.unit.name,
            "year": self.year,
        }


def unit_report(*, user: User, unit_id: int, year: int, today: datetime.date) -> UnitReport | None:
    """The report, or ``None`` when ``user`` sees no item of that unit in that year."""
    progress = ProgressUpdate.objects.select_related("author").prefetch_related(
        Prefetch("evidence", queryset=Evidence.objects.order_by("id"))
    )
    items = list(
        items_visible_to(user)
        .filter(unit_id=unit_id, **{YEAR: year})
        .with_overdue(today)
        .select_related(
            "unit",
            "owner",
            "recommendation__finding__result__round",
            "recommendation__finding__result__project",
        )
        .prefetch_related(
            Prefetch("progress", queryset=progress.order_by("created_at", "id"), to_attr="log")
        )
        .order_by("recommendation__finding__result__seq", "recommendation__finding__number")
    )
    if not items:
        return None
    projects: list[ReportProject] = []
    for item in items:
        result = item.recommendation.finding.result
        if not projects or projects[-1].result.pk != result.pk:
            projects.append(
                ReportProject(number=_number(len(projects) + 1), result=result, entries=[])
            )
        projects[-1].entries.append(ReportEntry(item=item, progress=item.log))  # type: ignore[attr-defined]
    by_status = {status: 0 for status in ItemStatus.values}
    for item in items:
        by_status[item.status] += 1
    figures = Figures(
        total=len(items),
        overdue=sum(1 for item in items if item.is_overdue),  # type: ignore[attr-defined]
        by_status=by_status,
    )
    return UnitReport(
        unit=items[0].unit, year=year, as_of=today, projects=projects, figures=figures
    )
