"""The people reminders go to, as plain values: what the selectors read and the rules address."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    # The person's unit now (None for evaluation staff): an owner who moved to another unit
    # is no longer addressed for the old unit's items.
    unit_id: int | None = None


@dataclass(frozen=True)
class UnitPeople:
    staff: tuple[Person, ...] = ()
    heads: tuple[Person, ...] = ()
