"""Links from a dashboard figure to the ledger list behind it.

The ledger's filters (``rectification.filters.LedgerFilter``) are the contract: every number on
the dashboard is the count of the list its link opens.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode


def ledger_url(**filters: Any) -> str:
    """The ledger filtered by ``filters`` (year, unit, status, overdue, closed, category,
    project, deadline_after, deadline_before); empty values are left out."""
    query = {}
    for name, value in filters.items():
        if value is None or value == "":
            continue
        if isinstance(value, datetime.date):
            value = value.isoformat()
        query[name] = value
    url = reverse("rectification:ledger")
    return f"{url}?{urlencode(query)}" if query else url
