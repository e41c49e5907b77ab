"""Clock times: reading 三点半 / 10点三刻 / 9:45 and placing them in a part of the day."""

from __future__ import annotations

import re
from datetime import time

from nlp.numerals import to_int

_MINUTE_WORDS = {"半": 30, "一刻": 15, "三刻": 45}


def read_clock(m: re.Match[str]) -> tuple[int, int, bool]:
    """(hour, minute, is a bare 一点) of a clock match; hour -1 when unreadable.

    The match has groups h (numeral), unit (点/点钟/时), min and mm, or hh and mi for 9:45.
    """
    if m.group("hh"):
        return int(m.group("hh")), int(m.group("mi")), False
    numeral = m.group("h")
    # 一两点 / 三四点 are "one or two", "three or four": no single hour.
    single = numeral.isdigit() or len(numeral) == 1 or "十" in numeral
    hour = to_int(numeral) if single else None
    minute_text = m.group("min")
    if minute_text in _MINUTE_WORDS:
        minute: int | None = _MINUTE_WORDS[minute_text]
    elif minute_text:
        minute = to_int(m.group("mm"))
    else:
        minute = 0
    if hour is None or minute is None:
        return -1, 0, False
    bare_one = numeral == "一" and not minute_text and m.group("unit") == "点"
    return hour, minute, bare_one


def time_of_day(
    hour: int, minute: int, part: str | None, pm: frozenset[str], noon: frozenset[str]
) -> time | None:
    """The wall-clock time: 下午/晚上 N点 add 12 below 12, 中午1点 is 13:00, bare 1-6 are pm."""
    afternoon = (
        (part in pm and hour < 12)
        or (part in noon and 1 <= hour <= 5)
        or (part is None and 1 <= hour <= 6)  # a bare 三点 is three in the afternoon
    )
    if afternoon:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)
