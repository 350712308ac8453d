"""Likely repeat problems (屡审屡犯): a finding of a round that restates one an earlier round
found at the same unit.

A pair is a candidate when the two items belong to the same unit, the other is from an earlier
round, their findings share a problem category (or neither has one), and the titles are
similar: the trigram similarity PostgreSQL's ``pg_trgm`` computes (shared three-character
sequences over all of them, on the text padded as pg_trgm pads words), reckoned here in Python
so every database gives the same figure. A round's candidates are a few per unit, compared
within the unit only, so the cost is small. Pairs staff have ruled on are not offered again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch

from evaluations.models import FindingCategory
from rectification.models import RectificationItem, RepeatLink

# Punctuation and spaces separate words, as in pg_trgm; Chinese text is one long word.
_SEPARATORS = re.compile(r"[\s\W_]+", re.UNICODE)


def trigrams(text: str) -> set[str]:
    """The trigrams of ``text`` as pg_trgm forms them: per word, padded with two spaces before
    and one after."""
    grams: set[str] = set()
    for word in _SEPARATORS.split(text.lower()):
        if word:
            padded = f"  {word} "
            grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams of both (0 … 1), as pg_trgm's similarity()."""
    first, second = trigrams(a), trigrams(b)
    union = first | second
    return len(first & second) / len(union) if union else 0.0


@dataclass(frozen=True)
class Candidate:
    item: RectificationItem
    earlier: RectificationItem
    score: float


def _items(queryset):  # type: ignore[no-untyped-def]
    return list(
        queryset.select_related(
            "unit", "recommendation__finding__result__project", "recommendation__finding"
        ).prefetch_related(
            Prefetch(
                "recommendation__finding__categories",
                queryset=FindingCategory.objects.only("id"),
            )
        )
    )


def _categories(item: RectificationItem) -> frozenset[int]:
    return frozenset(c.pk for c in item.recommendation.finding.categories.all())


def repeat_candidates(*, year: int, threshold: float | None = None) -> list[Candidate]:
    """The likely repeats among the items of ``year``, best match first within each item, in
    ledger order; pairs already ruled on are left out."""
    threshold = settings.LIWAN_REPEAT_SIMILARITY if threshold is None else threshold
    new = _items(RectificationItem.objects.filter(round_year=year).in_ledger_order())
    if not new:
        return []
    earlier_by_unit: dict[int, list[RectificationItem]] = defaultdict(list)
    for item in _items(
        RectificationItem.objects.filter(
            round_year__lt=year, unit_id__in={i.unit_id for i in new}
        ).in_ledger_order()
    ):
        earlier_by_unit[item.unit_id].append(item)
    ruled = set(
        RepeatLink.objects.filter(item__in=[i.pk for i in new]).values_list("item_id", "earlier_id")
    )
    found = []
    for item in new:
        title, categories = item.recommendation.finding.title, _categories(item)
        matches = []
        for other in earlier_by_unit.get(item.unit_id, []):
            if (item.pk, other.pk) in ruled:
                continue
            others = _categories(other)
            if (categories or others) and not categories & others:
                continue
            score = similarity(title, other.recommendation.finding.title)
            if score >= threshold:
                matches.append(Candidate(item=item, earlier=other, score=score))
        found += sorted(matches, key=lambda c: -c.score)
    return found
