"""Path converters of the site's URLs."""

from __future__ import annotations


class IdConverter:
    """A primary key in a path: 1 to 18 ASCII digits.

    Django's ``int`` takes any number of digits, and a 30-digit id overflows the database's
    integer (a 500 on SQLite); a path that cannot name a row is simply not found.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
