"""Template helpers of the dashboard (presentation only)."""

from __future__ import annotations

from typing import Any

from django import template

from rectification.links import ledger_url as _ledger_url

register = template.Library()


@register.simple_tag
def ledger_url(**filters: Any) -> str:
    """``{% ledger_url year=2020 unit=3 overdue="yes" %}``: the ledger list behind a number."""
    return _ledger_url(**filters)
