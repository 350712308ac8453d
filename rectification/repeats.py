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
from django.core.paginator import Page
from django.db.models import Exists, OuterRef

from evaluations.models import Finding
from rectification.models import RectificationItem, RepeatLink, RoundSnapshot
from rectification.pagination import CountedPaginator
from rectification.snapshots import Outcome, Progress, Row
from rectification.snapshots import rows as stored_rows

# How often a stored computation writes its progress (items compared).
PROGRESS_EVERY = 500

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


@dataclass(frozen=True)
class Pair:
    """A candidate by ids: what the comparison yields before anything is shown."""

    item_id: int
    earlier_id: int
    score: float


@dataclass(frozen=True)
class _Problem:
    pk: int
    unit_id: int
    grams: frozenset[str]
    categories: frozenset[int]


def _problems(queryset) -> list[_Problem]:  # type: ignore[no-untyped-def]
    """The items' titles as trigram sets, with their categories: two queries of plain values,
    whatever the number of items (model instances with their chain of related rows cost most
    of the time at a city's scale)."""
    rows = list(
        queryset.in_ledger_order().values_list(
            "pk", "unit_id", "recommendation__finding_id", "recommendation__finding__title"
        )
    )
    categories: dict[int, set[int]] = defaultdict(set)
    through = Finding.categories.through
    for finding_id, category_id in through.objects.filter(
        finding_id__in=[row[2] for row in rows]
    ).values_list("finding_id", "findingcategory_id"):
        categories[finding_id].add(category_id)
    return [
        _Problem(pk, unit_id, frozenset(trigrams(title)), frozenset(categories[finding_id]))
        for pk, unit_id, finding_id, title in rows
    ]


def repeat_pairs(
    *, year: int, threshold: float | None = None, progress: Progress | None = None
) -> list[Pair]:
    """The likely repeats among the items of ``year``, best match first within each item, in
    ledger order; pairs already ruled on are left out. ``progress`` is told how many of the
    year's items have been compared, now and then."""
    threshold = settings.LIWAN_REPEAT_SIMILARITY if threshold is None else threshold
    new = _problems(RectificationItem.objects.filter(round_year=year))
    if not new:
        return []
    earlier_by_unit: dict[int, list[_Problem]] = defaultdict(list)
    for problem in _problems(
        RectificationItem.objects.filter(round_year__lt=year, unit_id__in={p.unit_id for p in new})
    ):
        earlier_by_unit[problem.unit_id].append(problem)
    ruled = set(
        RepeatLink.objects.filter(item__round_year=year).values_list("item_id", "earlier_id")
    )
    new_by_unit: dict[int, list[_Problem]] = defaultdict(list)
    for problem in new:
        new_by_unit[problem.unit_id].append(problem)
    matches_of: dict[int, list[Pair]] = {}
    compared = reported = 0
    for unit_id, problems in new_by_unit.items():
        for problem, matches in _unit_matches(problems, earlier_by_unit[unit_id], threshold):
            matches_of[problem.pk] = [m for m in matches if (m.item_id, m.earlier_id) not in ruled]
        compared += len(problems)
        if progress is not None and compared - reported >= PROGRESS_EVERY:
            progress(compared, len(new))
            reported = compared
    found: list[Pair] = []
    for problem in new:
        found += sorted(matches_of.get(problem.pk, []), key=lambda pair: -pair.score)
    return found


def compute_snapshot(snapshot: RoundSnapshot, progress: Progress) -> Outcome:
    """The likely repeats of a large round, for ``rectification.snapshots`` to store: one row
    per pair, in the order the page lists them."""
    pairs = repeat_pairs(year=snapshot.year, progress=progress)
    return Outcome(
        summary={"pairs": len(pairs)},
        # Made as they are written: a round can have a million pairs.
        rows=(Row(item_id=p.item_id, other_id=p.earlier_id, score=p.score) for p in pairs),
    )


def stored_page(snapshot: RoundSnapshot, number: str | int | None, *, per_page: int) -> Page:
    """A page of a stored computation's pairs with their items, leaving out the pairs ruled on
    since it was computed. They are counted by looking up the year's rulings (a few hundred at
    most) among the stored rows through their item index, not by going through every pair:
    a pair ruled before the computation read the rulings is not among the rows, one ruled
    after is, whatever the clocks said."""
    ruled = set(
        RepeatLink.objects.filter(item__round_year=snapshot.year).values_list(
            "item_id", "earlier_id"
        )
    )
    gone = 0
    if ruled:
        stored = stored_rows(snapshot).filter(item_id__in={pk for pk, _other in ruled})
        gone = sum(1 for pair in stored.values_list("item_id", "other_id") if pair in ruled)
    waiting = stored_rows(snapshot).exclude(
        Exists(
            RepeatLink.objects.filter(item_id=OuterRef("item_id"), earlier_id=OuterRef("other_id"))
        )
    )
    # The narrow columns only: one walk of the position index, the rulings checked per row.
    pairs = waiting.values_list("item_id", "other_id", "score")
    page = CountedPaginator(pairs, per_page, count=snapshot.rows - gone).get_page(number)
    page.object_list = candidates([Pair(*row) for row in page.object_list], shown_only=True)
    return page


# What the page of repeats shows of an item and its chain: building a page's hundred items
# with every column of the item, unit, recommendation, finding, result and project cost more
# than the page's queries together.
SHOWN = (
    "round_year",
    "status",
    "unit__name",
    "unit__short_name",
    "recommendation__finding__number",
    "recommendation__finding__title",
    "recommendation__finding__result__project__name",
)


def candidates(pairs: list[Pair], *, shown_only: bool = False) -> list[Candidate]:
    """``pairs`` with their items, for showing (a page of them: one query); ``shown_only``
    reads only what the page shows of them."""
    ids = {pk for pair in pairs for pk in (pair.item_id, pair.earlier_id)}
    items = RectificationItem.objects.filter(pk__in=ids).select_related(
        "unit", "recommendation__finding__result__project"
    )
    if shown_only:
        items = items.only(*SHOWN)
    found = {item.pk: item for item in items}
    return [Candidate(found[p.item_id], found[p.earlier_id], p.score) for p in pairs]


def repeat_candidates(*, year: int, threshold: float | None = None) -> list[Candidate]:
    """``repeat_pairs`` with their items (for a round's import report and the demo)."""
    return candidates(repeat_pairs(year=year, threshold=threshold))


def _unit_matches(
    problems: list[_Problem], earlier: list[_Problem], threshold: float
) -> list[tuple[_Problem, list[Pair]]]:
    """Each of one unit's new problems with its earlier problems at least ``threshold``
    similar and sharing a category (or neither having one).

    The similarity is |A ∩ B| / |A ∪ B| over trigram sets, so only earlier titles sharing a
    trigram can reach a threshold above zero: an index from each trigram to the earlier problems
    that have it gives every shared count in one pass, instead of comparing every pair (a unit
    with 80 problems a year and four earlier rounds would otherwise cost 25,000 comparisons)."""
    having: dict[str, list[int]] = defaultdict(list)
    for index, other in enumerate(earlier):
        for gram in other.grams:
            having[gram].append(index)
    result = []
    for problem in problems:
        shared: dict[int, int] = defaultdict(int)
        for gram in problem.grams:
            for index in having.get(gram, ()):
                shared[index] += 1
        matches = []
        # In ledger order, so that equal scores keep it (the sort by score is stable). A
        # threshold of 0 offers every pair of the unit, as comparing all of them would.
        indexes = range(len(earlier)) if threshold <= 0 else sorted(shared)
        for index in indexes:
            common = shared.get(index, 0)
            other = earlier[index]
            union = len(problem.grams) + len(other.grams) - common
            score = common / union if union else 0.0
            if score < threshold:
                continue
            if (problem.categories or other.categories) and not (
                problem.categories & other.categories
            ):
                continue
            matches.append(Pair(problem.pk, other.pk, score))
        result.append((problem, matches))
    return result
