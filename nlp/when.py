"""When the help is wanted: day words, weekdays, dates, parts of day and clock times."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from nlp.numerals import NUM, NUM_CHARS, to_int

_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS |= {str(i + 1): i for i in range(7)}
_MINUTE_WORDS = {"半": 30, "一刻": 15, "三刻": 45}
# Between a day and its part of day, or a part of day and its hour: 明天的下午, 下午 3点.
_JOINER = re.compile(r"^[ 的之]{0,2}$")
# Between two clock times of a range (七点到九点): the second is not another time.
_RANGE = re.compile(r"^ ?(到|至|-|~) ?$")
# 12号单, 3号楼, 2号线: a number with 号 that is not a day of the month.
_NOT_DAY_AFTER = "楼单院床线门房室铺机位码车店口桌台厅"


@dataclass(frozen=True, slots=True)
class When:
    """A resolved time of help: a naive local datetime, and whether it has an hour."""

    at: datetime
    has_time: bool

    def to_contract(self) -> str:
        """The contract's string: YYYY-MM-DDTHH:MM, or YYYY-MM-DD for a day alone."""
        if self.has_time:
            return self.at.isoformat(timespec="minutes")
        return self.at.date().isoformat()


@dataclass(slots=True)
class _Expr:
    """One time expression being assembled from adjacent pieces."""

    start: int
    end: int
    day: tuple[str, Any] | None = None
    part: str | None = None
    clock: tuple[int, int, bool] | None = None
    skip: bool = False


def _alternation(words: Any) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


class WhenReader:
    """Finds the time a message wants help at, resolved against the sender's local now."""

    def __init__(self, table: dict[str, Any]) -> None:
        self._days: dict[str, int] = table["days"]
        self._day_parts: dict[str, list[Any]] = table["day_parts"]
        self._parts: dict[str, str] = table["parts"]
        self._pm = frozenset(table["pm_parts"])
        self._noon = frozenset(table["noon_parts"])
        self._past = frozenset(table["past"])
        self._recurring = tuple(table["recurring"])
        self._after_habit = tuple(table["habit_after"])
        self._posted = tuple(table["posted"])
        self._ignore = frozenset(table["ignore"])
        day_words = [*self._days, *self._day_parts, *self._past]
        not_num = f"(?<![{NUM_CHARS}])"
        self._pattern = re.compile(
            rf"(?P<md>{not_num}(?P<m>{NUM})月(?P<d>{NUM})[日号]?)"
            rf"|(?P<wk>(?P<wm>下下个?|下个?|这个?|本|上个?)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7]))"
            rf"|(?P<dn>{not_num}(?P<n>{NUM})[号日](?![{_NOT_DAY_AFTER}]))"
            rf"|(?P<day>{_alternation(day_words)})"
            rf"|(?P<part>{_alternation([*self._parts, *self._ignore])})"
            rf"|(?P<clock>{not_num}(?P<h>{NUM})(?P<unit>点钟|点|时)"
            rf"(?P<min>半|一刻|三刻|(?P<mm>{NUM})分?)?"
            rf"|(?<!\d)(?P<hh>\d{{1,2}}):(?P<mi>\d{{2}}))"
        )

    def read(
        self, text: str, now: datetime, asks: Callable[[int, int], bool] | None = None
    ) -> When | None:
        """The first time in the text that is the help's time, or None.

        `asks(start, end)` says whether the clause around a span asks for something; a part
        of day alone (晚上黑漆漆的) is only the help's time in a clause that asks.
        """
        exprs = self._expressions(text)
        for i, expr in enumerate(exprs):
            if expr.skip:
                continue
            if (
                expr.part
                and not expr.day
                and not expr.clock
                and asks
                and not asks(expr.start, expr.end)
            ):
                continue
            if expr.day and not expr.clock:
                # 明天 谁能帮我 下午三点 / 明早…谁能7点: a later time without a day belongs here.
                later = next((e for e in exprs[i + 1 :] if not e.skip and not e.day), None)
                if later and (later.clock or not expr.part):
                    expr.part, expr.clock = later.part or expr.part, later.clock
            resolved = self._resolve(expr, now)
            if resolved:
                return resolved
        return None

    def _expressions(self, text: str) -> list[_Expr]:
        exprs: list[_Expr] = []
        cur: _Expr | None = None
        for m in self._pattern.finditer(text):
            kind = next(k for k in ("md", "wk", "dn", "day", "part", "clock") if m.group(k))
            gap = text[cur.end : m.start()] if cur else ""
            joined = cur is not None and bool(_JOINER.match(gap))
            if kind == "clock":
                clock = self._clock(m)
                if cur and cur.clock and _RANGE.match(gap):
                    cur.end = m.end()  # the end of a range: 七点到九点
                    continue
                if cur and joined and not cur.clock:
                    cur.clock, cur.end = clock, m.end()  # 每天早上六点: skipped as a whole
                    continue
                cur = _Expr(m.start(), m.end(), clock=clock)
            elif kind == "part":
                word = m.group()
                if cur and joined and cur.day and not cur.part and not cur.clock:
                    cur.part, cur.end = word, m.end()
                    cur.skip = cur.skip or word in self._ignore
                    continue
                cur = _Expr(m.start(), m.end(), part=word, skip=word in self._ignore)
            else:
                cur = _Expr(m.start(), m.end(), day=(kind, m))
                if kind == "day" and m.group() in self._day_parts:
                    cur.part = self._day_parts[m.group()][1]
            cur.skip = cur.skip or self._is_recurring(text, cur.start)
            exprs.append(cur)
        for expr in exprs:
            if expr.clock and expr.clock[2] and not expr.part and not expr.day:
                expr.skip = True  # 一点 on its own means "a little", not one o'clock
            # 晚上总有人…, 早上发的: a habit, or when the request was sent, not the help's time.
            after = text[expr.end : expr.end + 3]
            if after.startswith(self._after_habit) or after.startswith(self._posted):
                expr.skip = True
        return exprs

    def _is_recurring(self, text: str, start: int) -> bool:
        before = text[max(0, start - 3) : start]
        return before.endswith("每") or before.endswith(self._recurring)

    @staticmethod
    def _clock(m: re.Match[str]) -> tuple[int, int, bool]:
        """(hour, minute, is a bare 一点) of a clock match; hour -1 when unreadable."""
        if m.group("hh"):
            return int(m.group("hh")), int(m.group("mi")), False
        numeral = m.group("h")
        # 一两点 / 三四点 are "one or two", "three or four": no single hour.
        hour = (
            to_int(numeral) if numeral.isdigit() or len(numeral) == 1 or "十" in numeral else None
        )
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

    def _resolve(self, expr: _Expr, now: datetime) -> When | None:
        day: date | None = None
        if expr.day:
            day = self._day(expr.day, now.date())
            if day is None:
                return None
        at: time | None = None
        if expr.clock:
            at = self._time_of_day(expr.clock, expr.part)
            if at is None:
                return None
        elif expr.part:
            default = self._parts.get(expr.part, "")
            if default:
                at = time.fromisoformat(default)
            elif day is None:
                return None  # 半夜 alone is too vague to be a time
        if at is None:
            return When(datetime.combine(day, time()), False) if day else None
        if day is None:
            # No day word: today if the time is still ahead, otherwise tomorrow.
            moment = datetime.combine(now.date(), at)
            return When(moment if moment > now else moment + timedelta(days=1), True)
        moment = datetime.combine(day, at)
        # 今天早上摔了一跤: a time already past is the problem's time, not the help's.
        return When(moment, True) if moment >= now else None

    def _time_of_day(self, clock: tuple[int, int, bool], part: str | None) -> time | None:
        hour, minute, _ = clock
        afternoon = (
            (part in self._pm and hour < 12)
            or (part in self._noon and 1 <= hour <= 5)
            or (part is None and 1 <= hour <= 6)  # a bare 三点 is three in the afternoon
        )
        if afternoon:
            hour += 12
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            return None
        return time(hour, minute)

    def _day(self, piece: tuple[str, Any], today: date) -> date | None:
        kind, m = piece
        if kind == "day":
            word = m.group()
            if word in self._past:
                return None
            offset = self._days.get(word)
            if offset is None:
                offset = int(self._day_parts[word][0])
            return today + timedelta(days=offset)
        if kind == "wk":
            weekday, modifier = _WEEKDAYS[m.group("wd")], m.group("wm")
            modifier = (modifier or "").removesuffix("个")
            if modifier == "上":
                return None
            if modifier in ("下", "下下"):
                monday = today - timedelta(days=today.weekday())
                return monday + timedelta(days=7 * len(modifier) + weekday)
            return today + timedelta(days=(weekday - today.weekday()) % 7)
        if kind == "md":
            month, dom = to_int(m.group("m")), to_int(m.group("d"))
            if month is None or dom is None:
                return None
            for year in (today.year, today.year + 1):
                found = _date(year, month, dom)
                if found and found >= today:
                    return found
            return None
        n = to_int(m.group("n"))
        if n is None:
            return None
        first = today.replace(day=1)
        for shift in range(3):
            month_start = (first + timedelta(days=32 * shift)).replace(day=1)
            found = _date(month_start.year, month_start.month, n)
            if found and found >= today:
                return found
        return None


def _date(year: int, month: int, dom: int) -> date | None:
    try:
        return date(year, month, dom)
    except ValueError:
        return None
