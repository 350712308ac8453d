"""The closure list (对账销号单) of one unit for one round, as data.

The bureau and the unit go through it line by line: every item of the unit in that round with
its problem, the measures, the evidence, the outcome and who reviewed it when, then the
signatures of both sides. The printable page and the .docx render this one structure, and the
items come from ``items_visible_to``: a unit sees only its own list.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dashboard.selectors import YEAR
from evaluations.models import Unit
from rectification.choices import ClosureOutcome, ItemStatus
from rectification.models import Evidence, ProgressUpdate, RectificationItem
from rectification.selectors import items_visible_to

if TYPE_CHECKING:
    from accounts.models import User
    from rectification.querysets import RectificationItemQuerySet


def _when(moment: datetime.datetime | None) -> str:
    return f"{localtime(moment):%Y-%m-%d}" if moment else ""


def _signed(user: User | None, moment: datetime.datetime | None) -> str:
    """“王珊 2026-05-22”, or “—” for a step nobody took."""
    if user is None:
        return "—"
    return f"{user.display_name} {_when(moment)}".strip()


@dataclass(frozen=True)
class ClosureRow:
    number: int
    item: RectificationItem
    evidence: list[str]  # the evidence files' names, oldest first

    @property
    def project(self) -> str:
        return self.item.recommendation.finding.result.project.name

    @property
    def problem(self) -> str:
        return str(self.item.recommendation.finding)

    @property
    def rectification_type(self) -> str:
        return self.item.get_rectification_type_display() or "—"

    @property
    def outcome(self) -> str:
        """The ruling on the line: the outcome of a closed item; for one still open, where it
        stands (and the outcome proposed by the first review, if any)."""
        item = self.item
        if item.status == ItemStatus.CLOSED:
            return item.get_closure_outcome_display()
        if item.status == ItemStatus.SECOND_REVIEW:
            return _("Proposed: %(outcome)s (awaiting second review)") % {
                "outcome": ClosureOutcome(item.proposed_outcome).label
            }
        return _("Not closed (%(status)s)") % {"status": item.get_status_display()}

    @property
    def first_review(self) -> str:
        return _signed(self.item.first_reviewer, self.item.first_reviewed_at)

    @property
    def second_review(self) -> str:
        if self.item.status != ItemStatus.CLOSED:
            return "—"
        return _signed(self.item.closed_by, self.item.closed_at)


@dataclass(frozen=True)
class ClosureList:
    unit: Unit
    year: int
    as_of: datetime.date
    rows: list[ClosureRow]

    @property
    def title(self) -> str:
        return _("Closure list of %(unit)s for the %(year)s performance evaluation") % {
            "unit": self.unit.name,
            "year": self.year,
        }

    @property
    def summary(self) -> str:
        closed = Counter(
            row.item.closure_outcome for row in self.rows if row.item.status == ItemStatus.CLOSED
        )
        parts = [
            _("%(label)s %(count)d") % {"label": ClosureOutcome(outcome).label, "count": count}
            for outcome, count in sorted(
                closed.items(), key=lambda pair: ClosureOutcome.values.index(pair[0])
            )
        ]
        not_closed = len(self.rows) - sum(closed.values())
        return _(
            "%(total)d problems; closed %(closed)d (%(outcomes)s); not closed %(open)d; "
            "as of %(date)s."
        ) % {
            "total": len(self.rows),
            "closed": sum(closed.values()),
            "outcomes": pgettext("list separator", ", ").join(parts) or "—",
            "open": not_closed,
            "date": f"{self.as_of:%Y-%m-%d}",
        }

    @property
    def filename(self) -> str:
        return _("%(unit)s %(year)s closure list.docx") % {
            "unit": self.unit.short_name or self.unit.name,
            "year": self.year,
        }

    @property
    def signatures(self) -> list[str]:
        """The lines both sides sign (the unit's seal, its head and 经办人; the bureau's two
        reviewers), each followed by blank space on paper."""
        return [
            _("Unit (seal)"),
            _("Head of the unit (signature)"),
            _("Unit staff in charge (signature)"),
            _("First reviewer (signature)"),
            _("Second reviewer (signature)"),
        ]


def closure_items(*, user: User, unit_id: int, year: int) -> RectificationItemQuerySet:
    """The items on the list of ``unit_id`` and ``year`` that ``user`` sees."""
    return items_visible_to(user).filter(unit_id=unit_id, **{YEAR: year})


def closure_list(
    *, user: User, unit_id: int, year: int, today: datetime.date
) -> ClosureList | None:
    """The list, or ``None`` when ``user`` sees no item of that unit in that round."""
    evidence = Evidence.objects.order_by("id").only("progress_id", "original_name")
    items = list(
        closure_items(user=user, unit_id=unit_id, year=year)
        .select_related(
            "unit",
            "first_reviewer",
            "closed_by",
            "recommendation__finding__result__project",
        )
        .prefetch_related(
            Prefetch(
                "progress",
                queryset=ProgressUpdate.objects.order_by("created_at", "id").prefetch_related(
                    Prefetch("evidence", queryset=evidence)
                ),
            )
        )
        .order_by("recommendation__finding__result__seq", "recommendation__finding__number")
    )
    if not items:
        return None
    rows = [
        ClosureRow(
            number=number,
            item=item,
            evidence=[
                file.original_name
                for progress in item.progress.all()
                for file in progress.evidence.all()
            ],
        )
        for number, item in enumerate(items, start=1)
    ]
    return ClosureList(unit=items[0].unit, year=year, as_of=today, rows=rows)
