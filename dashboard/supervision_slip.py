"""The supervision slip (督办单) of one unit for one round: its red items (三色预警: overdue and
not closed), as the bureau sends them with a time to answer.

The page and the .docx render this one structure. Only the bureau's side issues slips, so only
users who see every unit get one; the items come from ``items_visible_to`` and the colour from
``warning_q`` (red is ``overdue_q``), the same definitions as the ledger and the dashboard.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.roles import sees_all_units
from dashboard.selectors import YEAR
from evaluations.models import Unit
from rectification.choices import WarningLevel
from rectification.models import RectificationItem
from rectification.querysets import warning_q
from rectification.selectors import items_visible_to

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class SlipRow:
    number: int
    item: RectificationItem
    today: datetime.date

    @property
    def project(self) -> str:
        return self.item.recommendation.finding.result.project.name

    @property
    def problem(self) -> str:
        return str(self.item.recommendation.finding)

    @property
    def days_overdue(self) -> int:
        return (self.today - self.item.deadline).days if self.item.deadline else 0

    @property
    def owner(self) -> str:
        return self.item.owner.display_name if self.item.owner else _("Not set")


@dataclass(frozen=True)
class SupervisionSlip:
    unit: Unit
    year: int
    today: datetime.date
    rows: list[SlipRow]

    @property
    def title(self) -> str:
        return _("Supervision slip on the rectification of the %(year)s performance evaluation") % {
            "year": self.year
        }

    @property
    def request(self) -> str:
        """What the bureau asks of the unit, with the number of items and the time to answer."""
        return _(
            "%(unit)s: as of %(date)s, the %(count)d problems below from the %(year)s "
            "performance evaluation are past their rectification deadline and not closed (red "
            "warning). Within %(days)d working days of receiving this slip, complete their "
            "rectification and submit them for closure, or explain in writing why not and by "
            "when they will be done."
        ) % {
            "unit": self.unit.name,
            "date": f"{self.today:%Y-%m-%d}",
            "count": len(self.rows),
            "year": self.year,
            "days": settings.LIWAN_SUPERVISION_REPLY_WORKING_DAYS,
        }

    @property
    def filename(self) -> str:
        return _("%(unit)s %(year)s supervision slip.docx") % {
            "unit": self.unit.short_name or self.unit.name,
            "year": self.year,
        }

    @property
    def signatures(self) -> list[str]:
        return [_("Issued by (bureau, seal)"), _("Received by (unit, signature)")]


def supervision_slip(
    *, user: User, unit_id: int, year: int, today: datetime.date
) -> SupervisionSlip | None:
    """The slip, with no rows when the unit has no red item; ``None`` when ``user`` does not
    issue slips or the unit has no item in that round."""
    if not sees_all_units(user):
        return None
    unit = Unit.objects.filter(pk=unit_id).first()
    scoped = items_visible_to(user).filter(unit_id=unit_id, **{YEAR: year})
    if unit is None or not scoped.exists():
        return None
    items = (
        scoped.filter(warning_q(WarningLevel.RED, today))
        .select_related("owner", "recommendation__finding__result__project")
        .order_by(
            "deadline", "recommendation__finding__result__seq", "recommendation__finding__number"
        )
    )
    rows = [SlipRow(number=n, item=item, today=today) for n, item in enumerate(items, start=1)]
    return SupervisionSlip(unit=unit, year=year, today=today, rows=rows)
