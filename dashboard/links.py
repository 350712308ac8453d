"""Links from a dashboard figure to the ledger list behind it.

The ledger's filters (``rectification.filters.LedgerFilter``) are the contract: every number on
the dashboard is the count of the list its link opens.
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
    project, deadline_after, deadline_before); empty values are left out."""
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


@functools.lru_cache(maxsize=8)
def _ledger_path(urlconf: str | None, prefix: str, root_urlconf: str) -> str:
    # reverse() of the same name 300 times a page was a tenth of its rendering time. The path
    # depends only on the arguments (the URLconf and the script prefix reverse() reads), so it
    # is worked out once per combination.
    return reverse("rectification:ledger", urlconf=urlconf)
