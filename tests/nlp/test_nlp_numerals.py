"""Numerals as residents write them: Arabic, Chinese, digit by digit, and what is no number."""

from __future__ import annotations

import pytest

from nlp.numerals import to_digits, to_int


@pytest.mark.parametrize(
    ("text", "value", "digits"),
    [
        ("3", 3, "3"),
        ("501", 501, "501"),
        ("0501", 501, "0501"),  # a room keeps its leading zero
        ("二十三", 23, "23"),
        ("十五", 15, "15"),
        ("一百零一", 101, "101"),
        ("五零一", 501, "501"),
        ("幺三八", 138, "138"),
        ("两", 2, "2"),
        ("一两", None, None),  # one or two, not 12
        ("二三十", None, None),  # a range
        ("3a", None, None),
        ("٣", None, None),  # another script's digit is no numeral here
        ("", None, None),
    ],
)
def test_numerals(text: str, value: int | None, digits: str | None) -> None:
    assert to_int(text) == value
    assert to_digits(text) == digits
