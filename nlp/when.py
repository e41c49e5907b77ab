"""When the help is wanted: day words, weekdays, dates, parts of day and clock times."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from nlp.clock import read_clock, time_of_day
from nlp.days import WEEKDAYS, day_of_month_date, month_day_date, weekday_date
from nlp.leads import guarded
from nlp.numerals import NUM, NUM_CHARS, to_int

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
        # 下午要用, 傍晚送过来: a part of day right before one of these is when help is wanted.
        self._deadline = tuple(table.get("deadline_after", ()))
        self._ignore = frozenset(table["ignore"])
        day_words = [*self._days, *self._day_parts, *self._past]
        # Every time expression holds one of these (a word's last character, or 点/号/周…),
        # so a message with none of them is settled without running the big pattern.
        ends = {word[-1] for word in [*day_words, *self._parts, *self._ignore]}
        self._anchors = re.compile(
            f"[{re.escape(''.join(sorted(ends | set('月号日周期拜点时:'))))}]"
        )
        not_num = f"(?<![{NUM_CHARS}])"
        # Guarded: its alternatives open with look-behinds and groups, so the engine would
        # try all of them, and every day and part word, at each character of the message.
        pattern = re.compile(
            rf"(?P<md>{not_num}(?P<m>{NUM})月(?P<d>{NUM})[日号]?)"
            rf"|(?P<wk>(?P<wm>下下个?|下个?|这个?|本|上个?)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7]))"
            rf"|(?P<dn>{not_num}(?P<n>{NUM})[号日](?![{_NOT_DAY_AFTER}]))"
            rf"|(?P<day>{_alternation(day_words)})"
            rf"|(?P<part>{_alternation([*self._parts, *self._ignore])})"
            rf"|(?P<clock>{not_num}(?P<h>{NUM})(?P<unit>点钟|点|时)"
            rf"(?P<min>半|一刻|三刻|(?P<mm>{NUM})分?)?"
            rf"|(?<!\d)(?P<hh>\d{{1,2}}):(?P<mi>\d{{2}}))"
        )
        self._pattern = guarded(pattern)

    def read(
        self, text: str, now: datetime, asks: Callable[[int, int], bool] | None = None
    ) -> When | None:
        """The first time in the text that is the help's time, or None.

        `asks(start, end)` says whether the clause around a span asks for something; a part
        of day alone (晚上黑漆漆的) is only the help's time in a clause that asks.
        """
        if not self._anchors.search(text):
            return None
        exprs = self._expressions(text)
        first = self._first(text, exprs, now, asks)
        if first is None or asks is None or asks(exprs[first[0]].start, exprs[first[0]].end):
            return first[1] if first else None
        # 明天要交 今晚八点前谁能帮忙讲一下: the first time tells the story; a later one with
        # a day of its own, in the clause that asks, is the help's.
        for j in range(first[0] + 1, len(exprs)):
            if exprs[j].day and asks(exprs[j].start, exprs[j].end):
                asked = self._first(text, exprs[j:], now, asks)
                if asked and asked[0] == 0:
                    return asked[1]
        return first[1]

    def _first(
        self,
        text: str,
        exprs: list[_Expr],
        now: datetime,
        asks: Callable[[int, int], bool] | None,
    ) -> tuple[int, When] | None:
        """The first expression that is the help's time, by its index, and its time."""
        for i, expr in enumerate(exprs):
            if expr.skip:
                continue
            if (
                expr.part
                and not expr.day
                and not expr.clock
                and asks
                and not asks(expr.start, expr.end)
                and not text.startswith(self._deadline, expr.end)
            ):
                continue
            if expr.day and not expr.clock:
                # 明天 谁能帮我 下午三点 / 明早…谁能7点: a later time without a day belongs here.
                later = next((e for e in exprs[i + 1 :] if not e.skip and not e.day), None)
                if later and (later.clock or not expr.part):
                    expr.part, expr.clock = later.part or expr.part, later.clock
            resolved = self._resolve(expr, now)
            if resolved:
                return i, resolved
        return None

    def _expressions(self, text: str) -> list[_Expr]:
        exprs: list[_Expr] = []
        cur: _Expr | None = None
        for m in self._pattern.finditer(text):
            kind = m.lastgroup or ""  # the alternative's outermost group: md, wk, ... clock
            gap = text[cur.end : m.start()] if cur else ""
            joined = cur is not None and bool(_JOINER.match(gap))
            if kind == "clock":
                clock = read_clock(m)
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

    def _resolve(self, expr: _Expr, now: datetime) -> When | None:
        day: date | None = None
        if expr.day:
            day = self._day(expr.day, now.date())
            if day is None:
                return None
        at: time | None = None
        # 七八点 is no single hour: fall back on the day and part of day (明天早上七八点).
        if expr.clock and expr.clock[0] >= 0:
            hour, minute, _ = expr.clock
            at = time_of_day(hour, minute, expr.part, self._pm, self._noon)
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
            return weekday_date(today, WEEKDAYS[m.group("wd")], m.group("wm"))
        if kind == "md":
            month, dom = to_int(m.group("m")), to_int(m.group("d"))
            return month_day_date(today, month, dom) if month and dom else None
        # 两日 / 两号 count days (隔壁两日冇开门); the second of a month is 二号 or 2号.
        dom = None if "两" in m.group("n") else to_int(m.group("n"))
        return day_of_month_date(today, dom) if dom else None
