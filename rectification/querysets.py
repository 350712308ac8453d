"""Query-level rules of the ledger. The definition of "overdue" lives here and only here."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import BooleanField, Case, Q, Value, When

from rectification.choices import ItemStatus


def overdue_q(today: datetime.date) -> Q:
    """Overdue (逾期): the deadline has passed and the item is not closed (销号).

    A deadline is a calendar date in Asia/Shanghai; an item is due *on* that day and overdue
    from the next. Every list, dashboard, export and reminder rule builds on this one Q.
    """
    return Q(deadline__lt=today) & ~Q(status=ItemStatus.CLOSED)


class RectificationItemQuerySet(models.QuerySet):
    def overdue(self, today: datetime.date) -> RectificationItemQuerySet:
        return self.filter(overdue_q(today))

    def not_overdue(self, today: datetime.date) -> RectificationItemQuerySet:
        return self.exclude(overdue_q(today))

    def with_overdue(self, today: datetime.date) -> RectificationItemQuerySet:
        """Annotate ``is_overdue`` so pages show the flag without a query per row."""
        # Case/When rather than a bare boolean expression: with no deadline the comparison is
        # NULL in SQL, and an item without a deadline is simply not overdue.
        return self.annotate(
            is_overdue=Case(
                When(overdue_q(today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
