"""Query-level rules of the ledger. The definition of "overdue" lives here and only here."""

from __future__ import annotations

import datetime

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Concat, ExtractYear

from rectification.choices import ItemStatus, RepeatStatus, WarningLevel


def overdue_q(today: datetime.date) -> Q:
    """Overdue (逾期): the deadline has passed and the item is not closed (销号).

    A deadline is a calendar date in Asia/Shanghai; an item is due *on* that day and overdue
    from the next. Every list, dashboard, export and reminder rule builds on this one Q.
    """
    # "Not closed" as the list of the other statuses (status is never NULL and always one of
    # them, a check constraint says so): PostgreSQL then reads one range of the (status,
    # deadline) index per status instead of every entry before the day (6 ms, not 15, over the
    # 200,000 items of a city).
    return Q(deadline__lt=today, status__in=NOT_CLOSED)


NOT_CLOSED = tuple(status for status in ItemStatus.values if status != ItemStatus.CLOSED)


def unassigned_q() -> Q:
    """Waiting for assignment: not closed, and without an owner or a deadline. The worklist's
    section and the ledger's filter read it, and so does the partial index ``item_unassigned``
    (its condition must stay this Q for PostgreSQL to use it: 38 ms → 1 ms over a city's
    ledger)."""
    return ~Q(status=ItemStatus.CLOSED) & (Q(owner__isnull=True) | Q(deadline__isnull=True))


def warning_q(level: str, today: datetime.date) -> Q:
    """The items of one supervision colour (三色预警) on ``today``: red is overdue (``overdue_q``),
    yellow is due within ``LIWAN_WARNING_YELLOW_DAYS`` days (today included), green is due
    later. Closed items and items without a deadline have no colour."""
    if level == WarningLevel.RED:
        return overdue_q(today)
    open_q = ~Q(status=ItemStatus.CLOSED) & Q(deadline__isnull=False)
    last_yellow = today + datetime.timedelta(days=settings.LIWAN_WARNING_YELLOW_DAYS)
    if level == WarningLevel.YELLOW:
        return open_q & Q(deadline__gte=today, deadline__lte=last_yellow)
    if level == WarningLevel.GREEN:
        return open_q & Q(deadline__gt=last_yellow)
    raise ValueError(f"no warning level {level!r}")


def repeat_links():  # type: ignore[no-untyped-def]
    """The confirmed repeat links of the outer item (屡审屡犯), for Exists()."""
    # Through the app registry: the models module imports this one.
    links = apps.get_model("rectification", "RepeatLink")
    return links.objects.filter(item=OuterRef("pk"), status=RepeatStatus.CONFIRMED)


# The ledger's order everywhere: newest year first, then as the summary table lists them.
LEDGER_ORDER = ("-round_year", "result_seq", "finding_number", "id")


class RectificationItemQuerySet(models.QuerySet):
    def in_ledger_order(self) -> RectificationItemQuerySet:
        return self.order_by(*LEDGER_ORDER)

    def overdue(self, today: datetime.date) -> RectificationItemQuerySet:
        return self.filter(overdue_q(today))

    def not_overdue(self, today: datetime.date) -> RectificationItemQuerySet:
        return self.exclude(overdue_q(today))

    def with_tentative_deadline(self) -> RectificationItemQuerySet:
        """Annotate ``deadline_tentative``: the deadline was counted in working days over a
        calendar year that is still provisional (暂定) — it may move when the notice comes."""
        from calendars.models import CalendarYear, YearStatus

        provisional = CalendarYear.objects.filter(
            status=YearStatus.PROVISIONAL,
            year__gte=ExtractYear(OuterRef("deadline_counted_from")),
            year__lte=ExtractYear(OuterRef("deadline")),
        )
        return self.annotate(
            deadline_tentative=Case(
                When(Q(deadline_provisional=True) & Exists(provisional), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )

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

    def with_warning(self, today: datetime.date) -> RectificationItemQuerySet:
        """Annotate ``warning``: the item's colour (``warning_q``), or "" for none."""
        return self.annotate(
            warning=Case(
                *(When(warning_q(level, today), then=Value(level)) for level in WarningLevel),
                default=Value(""),
                output_field=models.CharField(),
            )
        )

    def with_repeat(self) -> RectificationItemQuerySet:
        """Annotate ``is_repeat``: staff confirmed the item repeats an earlier round's problem."""
        return self.annotate(is_repeat=Exists(repeat_links()))

    def out_of_sync(self) -> RectificationItemQuerySet:
        """The items whose copies of their evaluation differ from it."""
        return self.exclude(Q(**evaluation_copies("recommendation__")))

    def sync_from_evaluation(self) -> int:
        """Copy what the ledger sorts and searches by from the evaluation onto these items.

        The ledger lists items as the summary tables do: newest year first, then table order.
        Sorting on the joined round/result/finding columns makes PostgreSQL join and sort every
        visible row before it can return the first page (0.8 s at 200,000 items); the copies on
        the item are covered by one index. The keyword search reads one text of the item's
        project, problem and recommendation, trigram-indexed on PostgreSQL, instead of five
        columns of four joined tables (5.8 s). The back-office calls this after changing what
        the items copy; new items get their copies from ``evaluation_copies`` when they are
        created (``rectification.services.open_items``).
        """
        from evaluations.models import Recommendation

        source = Recommendation.objects.filter(pk=OuterRef("recommendation_id")).annotate(
            **{f"copy_{name}": value for name, value in evaluation_copies("").items()}
        )
        # Only rows whose copies differ are written: an import touches a whole round, and
        # rewriting 40,000 unchanged rows would lock them for the import's duration.
        return self.out_of_sync().update(
            **{name: Subquery(source.values(f"copy_{name}")[:1]) for name in COPIED_FIELDS}
        )


# The item's columns that copy its evaluation (never edited by hand).
COPIED_FIELDS = ("round_year", "result_seq", "finding_number", "search_text")


def evaluation_copies(path: str) -> dict[str, Combinable]:
    """THE recipe of the item's copies of its evaluation, as SQL expressions.

    ``path`` leads to the recommendation: ``""`` from a Recommendation (to fill new items),
    ``"recommendation__"`` from an item (to check whether its copies are in sync). Migration
    ``0004_search_text`` keeps a frozen copy of the search text's recipe, as migrations must.
    """
    finding = f"{path}finding__"
    return {
        "round_year": F(f"{finding}result__round__year"),
        "result_seq": F(f"{finding}result__seq"),
        "finding_number": F(f"{finding}number"),
        # The keyword search's text: project, problem and recommendation, one per line.
        "search_text": Concat(
            f"{finding}result__project__name",
            Value("\n"),
            f"{finding}title",
            Value("\n"),
            f"{finding}body",
            Value("\n"),
            f"{path}title",
            Value("\n"),
            f"{path}body",
            output_field=TextField(),
        ),
    }
