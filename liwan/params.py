"""Reading numbers from query parameters: the one reader every view uses.

A parameter is text from anyone. ``"²".isdigit()`` is true yet ``int("²")`` fails, ``int("１２")``
is 12, and a 30-digit number overflows the database's integers; a view that trusts
``str.isdigit`` answers such a request with a 500. This reader accepts ASCII digits within a
range and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

# PostgreSQL's bigint, the widest key any of our tables uses.
MAX_ID = 2**63 - 1


def int_param(value: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """``value`` as an int if it is plain ASCII digits within [minimum, maximum], else None."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def id_param(value: object) -> int | None:
    """A primary key (1 …) from a parameter, or None."""
    return int_param(value, minimum=1)


def id_params(values: Iterable[object]) -> list[int]:
    """The valid primary keys among ``values`` (e.g. ``request.GET.getlist("items")``), each
    once, in the order given; the rest are dropped."""
    seen: dict[int, None] = {}
    for value in values:
        pk = id_param(value)
        if pk is not None:
            seen.setdefault(pk, None)
    return list(seen)
