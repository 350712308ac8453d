"""Query-level rules of the ledger. The definition of "overdue" lives here and only here."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import (
    BooleanField,
    Case,
    F,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Concat

from rectification.choices import ItemStatus


def overdue_q(today: datetime.date) -> Q:
    """Overdue (逾期): the deadline has passed and the item is not closed (销号).

    A deadline is a calendar date in Asia/Shanghai; an item is due *on* that day and overdue
    from the next. Every list, dashboard, export and reminder rule builds on this one Q.
    """
    return Q(deadline__lt=today) & ~Q(status=ItemStatus.CLOSED)


# The ledger's order everywhere: newest year first, then as the summary table lists them.
LEDGER_ORDER = ("-round_year", "result_seq", "finding_number", "id")


class RectificationItemQuerySet(models.QuerySet):
    def in_ledger_order(self) -> RectificationItemQuerySet:
        return self.order_by(*LEDGER_ORDER)

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

    def sync_from_evaluation(self) -> int:
        """Copy what the ledger sorts and searches by from the evaluation onto these items.

        The ledger lists items as the summary tables do: newest year first, then table order.
        Sorting on the joined round/result/finding columns makes PostgreSQL join and sort every
        visible row before it can return the first page (0.8 s at 200,000 items); the copies on
        the item are covered by one index. The keyword search reads one text of the item's
        project, problem and recommendation, trigram-indexed on PostgreSQL, instead of five
        columns of four joined tables (5.8 s). Whatever changes those (the importer, the
        back-office) calls this; ``RectificationItem.save`` fills them for a new item.
        """
        from evaluations.models import Finding

        finding = Finding.objects.filter(recommendation__item=OuterRef("pk"))
        text = finding.annotate(
            text=Concat(
                "result__project__name",
                Value("\n"),
                "title",
                Value("\n"),
                "body",
                Value("\n"),
                "recommendation__title",
                Value("\n"),
                "recommendation__body",
                output_field=TextField(),
            )
        )
        # Only rows whose copies differ are written: an import touches a whole round, and
        # rewriting 40,000 unchanged rows would lock them for the import's duration.
        path = "recommendation__finding__"
        in_sync = Q(
            round_year=F(f"{path}result__round__year"),
            result_seq=F(f"{path}result__seq"),
            finding_number=F(f"{path}number"),
            search_text=Concat(
                f"{path}result__project__name",
                Value("\n"),
                f"{path}title",
                Value("\n"),
                f"{path}body",
                Value("\n"),
                "recommendation__title",
                Value("\n"),
                "recommendation__body",
                output_field=TextField(),
            ),
        )
        return self.exclude(in_sync).update(
            round_year=Subquery(finding.values("result__round__year")[:1]),
            result_seq=Subquery(finding.values("result__seq")[:1]),
            finding_number=Subquery(finding.values("number")[:1]),
            search_text=Subquery(text.values("text")[:1]),
        )
