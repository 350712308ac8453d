"""Absolute links in e-mails (a worker has no request to build them from)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def item_url(item_id: int) -> str:
    """The item's page on the portal, under ``SITE_BASE_URL``. The one place links are built."""
    return settings.SITE_BASE_URL + reverse("rectification:item-detail", kwargs={"pk": item_id})
