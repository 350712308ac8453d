"""三色预警: the supervision colour of an item from its deadline and state (``warning_q`` and
the ``warning`` annotation), at the boundaries and with the bureau's own threshold."""

from __future__ import annotations

import datetime

import pytest

from rectification.choices import ClosureOutcome, ItemStatus, WarningLevel
from rectification.models import RectificationItem
from rectification.querysets import warning_q
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 3)


def _item(days: int | None, status: str = ItemStatus.IN_PROGRESS) -> RectificationItem:
    deadline = None if days is None else TODAY + datetime.timedelta(days=days)
    closed = {"closure_outcome": ClosureOutcome.RECTIFIED} if status == ItemStatus.CLOSED else {}
    return factories.ItemFactory(deadline=deadline, status=status, **closed)


def _colours() -> dict[int, str]:
    return dict(RectificationItem.objects.with_warning(TODAY).values_list("pk", "warning"))


def test_each_item_gets_its_colour_at_the_boundaries(settings):
    settings.LIWAN_WARNING_YELLOW_DAYS = 7
    items = {
        "yesterday": _item(-1),
        "today": _item(0),  # due today: not overdue yet, but yellow
        "in 7 days": _item(7),
        "in 8 days": _item(8),
        "no deadline": _item(None),
        "closed late": _item(-30, ItemStatus.CLOSED),
        "closed early": _item(30, ItemStatus.CLOSED),
        "at the bureau, late": _item(-2, ItemStatus.SUBMITTED),
    }
    colours = _colours()
    assert {name: colours[item.pk] for name, item in items.items()} == {
        "yesterday": "red",
        "today": "yellow",
        "in 7 days": "yellow",
        "in 8 days": "green",
        "no deadline": "",
        "closed late": "",
        "closed early": "",
        "at the bureau, late": "red",  # overdue whoever holds it, as overdue_q says
    }


def test_the_filter_and_the_annotation_agree_and_red_is_overdue(settings):
    settings.LIWAN_WARNING_YELLOW_DAYS = 7
    for days in (-5, -1, 0, 3, 7, 8, 40, None):
        _item(days)
    colours = _colours()
    for level in WarningLevel:
        filtered = set(
            RectificationItem.objects.filter(warning_q(level, TODAY)).values_list("pk", flat=True)
        )
        assert filtered == {pk for pk, colour in colours.items() if colour == level}
    assert set(
        RectificationItem.objects.filter(warning_q(WarningLevel.RED, TODAY)).values_list(
            "pk", flat=True
        )
    ) == set(RectificationItem.objects.overdue(TODAY).values_list("pk", flat=True))


def test_the_bureau_sets_how_early_yellow_begins(settings):
    in_10 = _item(10)
    settings.LIWAN_WARNING_YELLOW_DAYS = 7
    assert _colours()[in_10.pk] == "green"
    settings.LIWAN_WARNING_YELLOW_DAYS = 14
    assert _colours()[in_10.pk] == "yellow"


def test_an_unknown_colour_is_a_programming_error():
    with pytest.raises(ValueError):
        warning_q("blue", TODAY)
