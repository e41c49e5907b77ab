"""Phone numbers, task numbers and satisfaction scores."""

from __future__ import annotations

import re

from nlp.leads import guarded
from nlp.numerals import NUM, NUM_CHARS, to_digits, to_int

_PHONE_DIGIT = "[0-9零〇一二三四五六七八九幺]"
# The three patterns open with look-behinds, so they are guarded (see nlp.leads).
# 11 digits starting 1[3-9], spaces or dashes allowed between them, nothing digit-like around.
_PHONE = guarded(
    re.compile(
        # +86 / 0086 before the number is the country code, not part of a longer number.
        r"(?:(?<!\d)|(?<=(?<!\d)86)|(?<=(?<!\d)0086))1(?:[ -]?\d){10}(?!\d)"
        rf"|(?<![0-9{NUM_CHARS}])[一幺](?:[ -]?{_PHONE_DIGIT}){{10}}(?![0-9{NUM_CHARS}])"
    )
)
_MOBILE = re.compile(r"1[3-9]\d{9}")
_TASK = guarded(
    re.compile(
        r"任务 ?#? ?(?P<a>\d+|[一二三四五六七八九十百]{2,}|[一二三四五六七八九十](?=$| |我|号|已|完|取|放|去|的|不))|"
        rf"(?<![{NUM_CHARS}])(?P<b>{NUM}) ?号单|#\s?(?P<c>\d+)|接单 ?#?(?P<d>\d+)"
    )
)
# 3分 / 四星 / 5颗星 / 5粒星; 十分满意, 三分钟, 一星期 and 三分之一 are no scores.
_SCORE = guarded(
    re.compile(
        rf"(?<![{NUM_CHARS}点])(?<!\d:)(?P<n>{NUM}) ?(?:颗星|粒星|星(?!期)|分(?!钟|之|钱|享|开|别|类|配))"
    )
)


def read_phone(text: str) -> str | None:
    """The first 11-digit mainland mobile number, spaces and dashes removed."""
    # Matches one after another, as finditer() gives them; but most messages have none,
    # and a search() costs a third of setting up a finditer().
    match = _PHONE.search(text)
    while match:
        digits = to_digits(match.group().replace(" ", "").replace("-", ""))
        if digits and _MOBILE.fullmatch(digits):
            return digits
        match = _PHONE.search(text, match.end())
    return None


def read_task_ref(text: str) -> str | None:
    """The task number named as 任务12, 12号单, #12 or 接单 12."""
    match = _TASK.search(text)
    if not match:
        return None
    numeral = next(g for g in match.groups() if g)
    value = to_int(numeral)
    return str(value) if value is not None else None


def read_score_number(text: str) -> int | None:
    """A 1-5 score written as a number of points or stars."""
    match = _SCORE.search(text)  # one by one, as in read_phone
    while match:
        value = to_int(match.group("n"))
        if value is not None and 1 <= value <= 5:
            return value
        match = _SCORE.search(text, match.end())
    return None
