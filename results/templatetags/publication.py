"""The publication's lines as every rendering prints them (results.publication)."""

from typing import Any

from django import template

from results import publication

register = template.Library()


@register.filter
def totals_line(content: dict[str, Any]) -> str:
    return publication.totals_line(content)


@register.filter
def entry_lines(entry: dict[str, Any]) -> list[str]:
    return publication.entry_lines(entry)


@register.filter
def next_step_line(row: dict[str, Any]) -> str:
    return publication.next_step_line(row)


@register.simple_tag
def unit_heading(index: int, name: str) -> str:
    return publication.unit_heading(index, name)


@register.simple_tag
def project_heading(index: int, name: str) -> str:
    return publication.project_heading(index, name)
