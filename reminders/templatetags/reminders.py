"""The item page's list of reminders, rendered by the reminders app.

The ledger's page does not import this app: it loads these tags, so the ledger stays below
reminders in the dependency order (reminders reads items; items know nothing of reminders).
"""

from __future__ import annotations

from typing import Any

from django import template

from rectification.models import RectificationItem
from reminders.selectors import reminders_for_item

register = template.Library()


@register.inclusion_tag("reminders/item_reminders.html")
def item_reminders(item: RectificationItem) -> dict[str, Any]:
    """The reminders planned for ``item`` (access to the item is the page's own check)."""
    return {"reminders": list(reminders_for_item(item))}
