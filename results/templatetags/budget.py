"""Template helpers of the budget sheet and its decision page (presentation only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from django import template
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from results.choices import BudgetAdvice

if TYPE_CHECKING:
    from results.selectors import BudgetRow

register = template.Library()

# Bootstrap colours of each advice: green to fund, amber to cut, red to hold back, blue to wait.
_BADGE = {
    BudgetAdvice.SUPPORT: "text-bg-success",
    BudgetAdvice.REDUCE: "text-bg-warning",
    BudgetAdvice.DEFER: "text-bg-danger",
    BudgetAdvice.AFTER_RECTIFICATION: "text-bg-info",
}


@register.filter
def advice_badge(advice: str) -> str:
    return _BADGE.get(advice, "text-bg-secondary")  # type: ignore[call-overload]


class RowsHtml(NamedTuple):
    cards: SafeString  # one list item per project, for a phone
    table: SafeString  # one table row per project


def _text(value: object) -> str:
    """``value`` as ``{{ value }}`` writes it: localized, then escaped."""
    return conditional_escape(localize(value))


@register.simple_tag
def rectification_state(row: BudgetRow) -> SafeString:
    """A project's rectification in a line: its state, closed of all, overdue."""
    parts = [_text(row.state.label)]
    if row.items:
        closed = gettext("%(closed)s of %(total)s closed") % {
            "closed": localize(row.closed),
            "total": localize(row.items),
        }
        parts.append(
            f' <span class="small text-secondary text-nowrap">{conditional_escape(closed)}</span>'
        )
    if row.overdue:
        overdue = gettext("%(n)s overdue") % {"n": localize(row.overdue)}
        parts.append(f' <span class="badge text-bg-danger">{conditional_escape(overdue)}</span>')
    # Every value above is escaped.
    return mark_safe("".join(parts))  # noqa: S308 # nosec B308 B703


@register.simple_tag
def budget_rows(rows: Iterable[BudgetRow], *, may_decide: bool) -> RowsHtml:
    """A page of the sheet twice, written in Python rather than by the template engine: as
    cards for a phone and as table rows (``{% budget_rows page may_decide=… as rows %}``,
    then ``{{ rows.cards }}`` and ``{{ rows.table }}``). Through ``{% for %}``, an include and
    filters per row the 50 rows took ≈ 14 ms, a quarter of the page. The HTML is the
    template's; every value is escaped as its autoescape would."""
    yuan = conditional_escape(gettext("(10k yuan)"))
    changed = conditional_escape(gettext("changed by staff"))
    by_rule = conditional_escape(gettext("by the rule"))
    change = conditional_escape(gettext("change"))
    cards: list[str] = []
    table: list[str] = []
    for row in rows:
        result = row.result
        pk = result.pk
        project = conditional_escape(result.project.name)
        unit = result.project.unit
        unit_name = conditional_escape(unit.short_name or unit.name)
        url = reverse("results:budget-decision", args=[pk])
        budget = floatformat(result.budget, "2g")
        seq = _text(result.seq)
        score_grade = f"{_text(result.score)} · {_text(result.grade)}"
        state = rectification_state(row)
        advice = f'<span class="badge {advice_badge(row.advice)}">{_text(row.advice.label)}</span>'
        cards.append(
            f'<li class="list-group-item" data-result="{pk}">'
            f'<a class="fw-semibold text-decoration-none d-block" href="{url}">{project}</a>'
            f'<div class="small text-secondary">{seq} · {unit_name} · {score_grade} · '
            f"{budget} {yuan}</div>"
            f'<div class="small">{state}</div>'
            f'<div class="mt-1">{advice}'
            + (
                f' <span class="small">{changed}</span>'
                if row.overridden
                else f' <span class="small text-secondary">{by_rule}</span>'
            )
            + "</div></li>"
        )
        if row.overridden:
            note = f'<span class="small" data-overridden>{changed}</span>'
        elif may_decide:
            note = f'<span class="small">{change}</span>'
        else:
            note = ""
        table.append(
            f'<tr id="result-{pk}" data-result="{pk}">'
            f"<td>{seq}</td>"
            f'<td class="text-nowrap">{unit_name}</td>'
            f"<td>{project}</td>"
            f'<td class="text-end">{budget}</td>'
            f'<td class="text-nowrap">{score_grade}</td>'
            f'<td data-state="{row.state}">{state}</td>'
            f'<td class="text-nowrap" data-proposed="{row.proposed}">'
            f"{_text(row.proposed.label)}</td>"
            f'<td class="text-nowrap" data-advice="{row.advice}">'
            f'<a href="{url}" class="text-decoration-none">{advice}\n{note}</a></td>'
            "</tr>"
        )
    # Every value above is escaped.
    return RowsHtml(
        cards=mark_safe("".join(cards)),  # noqa: S308 # nosec B308 B703
        table=mark_safe("".join(table)),  # noqa: S308 # nosec B308 B703
    )
