"""The data the browser draws the dashboard's charts from (``static/js/dashboard.js``).

It travels as a JSON block (``json_script``), never as code. Every bar carries the ledger link
behind it, so a click on the chart opens the same list as the number in the table beneath.
Labels are translated here, so the charts speak the page's language.

Each chart draws the rows of the table beneath it, so it is as bounded as the table: one page of
each unit ranking, the categories (each with its first units, then "and N more"), and one page
of the projects.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboard.selectors import CategoryRow, Dashboard
from rectification.choices import ItemStatus
from rectification.links import ledger_url


def chart_data(dash: Dashboard) -> dict[str, Any]:
    year = dash.year
    by_rate = list(dash.closure_ranking)
    by_overdue = [row for row in dash.overdue_ranking if row.figures.overdue]
    categories = [row for row in dash.categories if row.findings]
    projects = list(dash.projects)
    return {
        "status": {
            "label": _("Items"),
            "labels": [str(label) for label in ItemStatus.labels],
            "keys": list(ItemStatus.values),
            "values": [dash.figures.by_status[status] for status in ItemStatus.values],
            "links": [ledger_url(year=year, status=status) for status in ItemStatus.values],
        },
        "closure": {
            "label": _("Closure rate (%)"),
            "labels": [axis_label(row.label) for row in by_rate],
            "titles": [row.name for row in by_rate],
            "values": [float(row.figures.closure_rate) for row in by_rate],
            "notes": [
                _("%(closed)s of %(total)s closed")
                % {"closed": row.figures.closed, "total": row.figures.total}
                for row in by_rate
            ],
            "links": [
                ledger_url(year=year, unit=row.unit_id, status=ItemStatus.CLOSED) for row in by_rate
            ],
        },
        "overdue": {
            "label": _("Overdue items"),
            "labels": [axis_label(row.label) for row in by_overdue],
            "titles": [row.name for row in by_overdue],
            "values": [row.figures.overdue for row in by_overdue],
            "links": [ledger_url(year=year, unit=row.unit_id, overdue="yes") for row in by_overdue],
        },
        "categories": {
            "label": _("Findings"),
            "labels": [axis_label(row.name) for row in categories],
            "titles": [row.name for row in categories],
            "values": [row.findings for row in categories],
            "notes": [_category_notes(row) for row in categories],
            "links": [ledger_url(year=year, category=row.category_id) for row in categories],
        },
        "projects": {
            # Each bar is a project: labelled by the project, its unit in the tooltip.
            "labels": [axis_label(f"{row.seq}. {row.project}") for row in projects],
            "titles": [f"{row.project}（{row.unit}）" for row in projects],
            "series": [_("Score"), _("Closure rate (%)")],
            "scores": [None if row.score is None else float(row.score) for row in projects],
            "rates": [float(row.figures.closure_rate) for row in projects],
            "links": [
                ledger_url(year=year, project=row.project_id) if row.project_id else ""
                for row in projects
            ],
        },
    }


# An axis label longer than this is cut with "…" (a unit without a short name, a project's full
# name): the chart keeps its bars wide, and the tooltip and the table below carry the full text.
AXIS_LABEL_CHARS = 14


def axis_label(text: str) -> str:
    return text if len(text) <= AXIS_LABEL_CHARS else text[: AXIS_LABEL_CHARS - 1] + "…"


def _category_notes(row: CategoryRow) -> list[str]:
    """The tooltip of a category bar: its first units, then how many more."""
    notes = [f"{label}: {n}" for _unit, label, n in row.units]
    if row.more_units:
        notes.append(
            ngettext("and %(n)s more unit", "and %(n)s more units", row.more_units)
            % {"n": row.more_units}
        )
    return notes
