"""The people reminders go to, as plain values: what the selectors read and the rules address."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    id: int
    email: str


@dataclass(frozen=True)
class UnitPeople:
    staff: tuple[Person, ...] = ()
    heads: tuple[Person, ...] = ()
