"""Small template helpers of the ledger pages (presentation only)."""

from __future__ import annotations

from django import forms, template
from django.http import QueryDict
from django.utils.html import format_html

from rectification.choices import ItemStatus, WarningLevel

register = template.Library()

_STATUS_CLASSES = {
    ItemStatus.OPEN: "text-bg-secondary",
    ItemStatus.IN_PROGRESS: "text-bg-primary",
    ItemStatus.HEAD_REVIEW: "text-bg-info",
    ItemStatus.SUBMITTED: "text-bg-warning",
    ItemStatus.SECOND_REVIEW: "text-bg-warning",
    ItemStatus.CLOSED: "text-bg-success",
}


@register.simple_tag
def status_badge(item) -> str:  # type: ignore[no-untyped-def]
    css = _STATUS_CLASSES.get(item.status, "text-bg-light")
    return format_html(
        '<span class="badge status-badge {}">{}</span>', css, item.get_status_display()
    )


@register.simple_tag
def warning_label(level: str) -> str:
    """The colour's name for screen readers only, where the colour itself is shown by styling
    (the ledger colours the deadline's text: a dot would widen a crowded table)."""
    if not level:
        return ""
    return format_html(
        '<span class="visually-hidden" data-warning="{}">{}</span>',
        level,
        WarningLevel(level).label,
    )


@register.simple_tag
def warning_dot(level: str, labelled: bool = False) -> str:
    """The item's supervision colour (三色预警) as a dot with its name for screen readers and
    on hover (and written beside it when ``labelled``); nothing for an item without one."""
    if not level:
        return ""
    label = WarningLevel(level).label
    dot = format_html(
        '<span class="warning-dot warning-{}" data-warning="{}" title="{}" role="img" '
        'aria-label="{}"></span>',
        level,
        level,
        label,
        label,
    )
    if labelled:
        return format_html('{}<span class="small text-secondary">{}</span> ', dot, label)
    return dot


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label: str) -> str:  # type: ignore[no-untyped-def]
    """A column header that sorts by ``field``; clicking again reverses the order."""
    query: QueryDict = context["request"].GET.copy()
    current = query.get("sort", "")
    descending = current == field
    query["sort"] = f"-{field}" if descending else field
    query.pop("page", None)
    arrow = " ▲" if current == field else (" ▼" if current == f"-{field}" else "")
    return format_html(
        '<a class="link-dark text-decoration-none" href="?{}">{}{}</a>',
        query.urlencode(),
        label,
        arrow,
    )


@register.simple_tag
def form_widget(field: forms.BoundField) -> str:
    """A form field's widget with Bootstrap's class (``form-select`` for drop-downs, else
    ``form-control``): the forms and filters stay free of presentation."""
    widget = field.field.widget
    parts = getattr(widget, "widgets", [widget])
    css = "form-select" if isinstance(parts[0], forms.Select) else "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


@register.simple_tag(takes_context=True)
def worklist_count(context) -> int:  # type: ignore[no-untyped-def]
    """How many things wait for the signed-in person (the menu's badge; cached briefly)."""
    from liwan import clock
    from rectification.worklists import worklist_count as count

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return 0
    return count(user=request.user, today=clock.today())
