"""Links to the ledger list filtered by its own parameters (``LedgerFilter``).

Every number on the dashboard links to the list it counts, so the ledger's parameters are the
contract; a name the ledger does not filter by is refused here rather than silently ignored by
the list it would open.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any
from urllib.parse import quote_plus

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def ledger_url(**filters: Any) -> str:
    """The ledger filtered by ``filters`` (year, unit, status, overdue, closed, category,
    project, deadline_after, deadline_before…); empty values are left out."""
    unknown = set(filters) - _parameters()
    if unknown:
        raise ValueError(f"the ledger has no filter {', '.join(sorted(unknown))}")
    # What urlencode() does with a dict, without its generality: a dashboard page holds some
    # 300 of these links, and the names are plain words.
    query = "&".join(
        f"{name}={quote_plus(_text(value))}"
        for name, value in filters.items()
        if value is not None and value != ""
    )
    url = _ledger_path(get_urlconf(), get_script_prefix(), settings.ROOT_URLCONF)
    return f"{url}?{query}" if query else url


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


@functools.cache
def _parameters() -> frozenset[str]:
    """The query parameters of the ledger's filters (a date range is two: _after, _before)."""
    from rectification.filters import LedgerFilter

    names: set[str] = set()
    for name, declared in LedgerFilter.base_filters.items():
        widget = declared.extra.get("widget") or declared.field_class.widget
        suffixes = getattr(widget, "suffixes", None)
        names |= {f"{name}_{suffix}" for suffix in suffixes} if suffixes else {name}
    return frozenset(names)


@functools.lru_cache(maxsize=8)
def _ledger_path(urlconf: str | None, prefix: str, root_urlconf: str) -> str:
    # reverse() of the same name 300 times a page was a tenth of its rendering time. The path
    # depends only on the arguments (the URLconf and the script prefix reverse() reads), so it
    # is worked out once per combination.
    return reverse("rectification:ledger", urlconf=urlconf)
