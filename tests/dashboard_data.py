"""A small ledger whose dashboard figures are computed by hand in the tests that use it.

Today is Monday 15 March 2021. Year 2020, two units, seven items (and one 2019 item that the
2020 figures must leave out):

    item unit project (score)  status       deadline    categories  notes
    A1   甲   PA1 (92.00 优)   closed       2021-03-01  C1          closed: never overdue
    A2   甲   PA1              in_progress  2021-03-10  C1 C2       overdue
    A3   甲   PA2 (75.00 中)   open         2021-03-20  C2          due soon
    A4   甲   PA2              submitted    2021-03-29  —           due soon (today + 14)
    B1   乙   PB  (85.00 良)   open         2021-03-30  C1          today + 15: not due soon
    B2   乙   PB               closed       2021-03-15  C1          closed: not due soon
    B3   乙   PB               open         2021-03-14  C3          overdue
    old  甲   (2019)           open         2019-12-31  —           other year
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from evaluations.models import FindingCategory, Grade
from rectification.choices import ItemStatus
from rectification.models import RectificationItem
from tests import factories

TODAY = datetime.date(2021, 3, 15)
NOON = datetime.datetime(2021, 3, 15, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@dataclass
class Ledger:
    unit_a: object
    unit_b: object
    items: dict[str, RectificationItem]
    categories: dict[str, FindingCategory]
    results: dict[str, object]


def build() -> Ledger:
    round_2020 = factories.RoundFactory(year=2020)
    unit_a = factories.UnitFactory(name="广州市荔湾区甲单位", short_name="甲单位")
    unit_b = factories.UnitFactory(name="广州市荔湾区乙单位", short_name="乙单位")
    categories = {
        code: FindingCategory.objects.create(name=f"测试类别{code}", order=100 + i)
        for i, code in enumerate(["C1", "C2", "C3"])
    }
    results = {
        "PA1": factories.ResultFactory(
            round=round_2020, seq=1, project__unit=unit_a, project__name="项目甲一",
            score=Decimal("92.00"), grade=Grade.EXCELLENT,
        ),
        "PA2": factories.ResultFactory(
            round=round_2020, seq=2, project__unit=unit_a, project__name="项目甲二",
            score=Decimal("75.00"), grade=Grade.FAIR,
        ),
        "PB": factories.ResultFactory(
            round=round_2020, seq=3, project__unit=unit_b, project__name="项目乙",
            score=Decimal("85.00"), grade=Grade.GOOD,
        ),
    }  # fmt: skip
    rows = [
        ("A1", "PA1", ItemStatus.CLOSED, datetime.date(2021, 3, 1), ["C1"]),
        ("A2", "PA1", ItemStatus.IN_PROGRESS, datetime.date(2021, 3, 10), ["C1", "C2"]),
        ("A3", "PA2", ItemStatus.OPEN, datetime.date(2021, 3, 20), ["C2"]),
        ("A4", "PA2", ItemStatus.SUBMITTED, datetime.date(2021, 3, 29), []),
        ("B1", "PB", ItemStatus.OPEN, datetime.date(2021, 3, 30), ["C1"]),
        ("B2", "PB", ItemStatus.CLOSED, datetime.date(2021, 3, 15), ["C1"]),
        ("B3", "PB", ItemStatus.OPEN, datetime.date(2021, 3, 14), ["C3"]),
    ]
    items = {}
    numbers: dict[str, int] = {}
    for key, result_key, status, deadline, tags in rows:
        numbers[result_key] = numbers.get(result_key, 0) + 1
        finding = factories.FindingFactory(
            result=results[result_key], number=numbers[result_key], title=f"问题{key}。"
        )
        finding.categories.set([categories[tag] for tag in tags])
        items[key] = factories.ItemFactory(
            recommendation__finding=finding,
            recommendation__title=f"建议{key}。",
            status=status,
            deadline=deadline,
            closure_outcome="rectified" if status == ItemStatus.CLOSED else "",
        )
    items["old"] = factories.ItemFactory(
        recommendation__finding__result__round=factories.RoundFactory(year=2019),
        recommendation__finding__result__project__unit=unit_a,
        recommendation__title="建议old。",
        deadline=datetime.date(2019, 12, 31),
    )
    return Ledger(unit_a, unit_b, items, categories, results)


@dataclass
class City:
    units: list  # by name
    category: FindingCategory
    items: list[RectificationItem]


def build_city(n_units: int = 30, *, year: int = 2020, first_seq: int = 100) -> City:
    """``n_units`` units of one project each in ``year``, every finding in one category.

    Unit k (from 0) has two items: the first closed when k is a multiple of 3, otherwise open
    and overdue when k is even; the second open, due in a month. So the rankings spread out and
    the projects table runs to a second page (25 a page) with 30 units.
    """
    round_ = factories.RoundFactory(year=year)
    category = FindingCategory.objects.create(name=f"测试类别宽{year}", order=200)
    units, items = [], []
    for k in range(n_units):
        unit = factories.UnitFactory(name=f"广州市荔湾区城{k:02d}单位", short_name=f"城{k:02d}")
        result = factories.ResultFactory(
            round=round_, seq=first_seq + k, project__unit=unit, project__name=f"城项目{k:02d}"
        )
        first = (
            (ItemStatus.CLOSED, datetime.date(2021, 3, 1))
            if k % 3 == 0
            else (ItemStatus.OPEN, TODAY - datetime.timedelta(days=1 if k % 2 == 0 else -7))
        )
        for number, (status, deadline) in enumerate(
            [first, (ItemStatus.OPEN, TODAY + datetime.timedelta(days=30))], start=1
        ):
            finding = factories.FindingFactory(result=result, number=number)
            finding.categories.add(category)
            items.append(
                factories.ItemFactory(
                    recommendation__finding=finding,
                    status=status,
                    deadline=deadline,
                    closure_outcome="rectified" if status == ItemStatus.CLOSED else "",
                )
            )
        units.append(unit)
    return City(units=units, category=category, items=items)
