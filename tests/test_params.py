"""liwan.params: the one reader of numbers in query parameters."""

from __future__ import annotations

import pytest

from liwan.params import MAX_ID, id_param, id_params, int_param


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        (42, 42),
        ("²", None),  # "²".isdigit() is true, int("²") fails
        ("１２", None),  # full-width digits: int() would accept them
        ("-1", None),
        ("1e3", None),
        ("", None),
        (None, None),
        ("9" * 30, None),  # beyond the database's integers
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
    ],
)
def test_it_reads_plain_ascii_digits_within_range_only(value, expected):
    assert int_param(value) == expected


def test_it_applies_the_range_asked_for():
    assert int_param("2020", minimum=2000, maximum=2100) == 2020
    assert int_param("1999", minimum=2000, maximum=2100) is None
    assert id_param("0") is None


def test_it_keeps_valid_ids_once_each_in_order():
    assert id_params(["3", "²", "1", "3", "abc", "2"]) == [3, 1, 2]
