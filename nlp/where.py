"""Where the help is wanted: building, unit and room, and the compound's own name."""

from __future__ import annotations

import re
from collections.abc import Iterable

from nlp.leads import guarded
from nlp.model import Where
from nlp.numerals import NUM, NUM_CHARS, to_digits

# Digits as written one by one (六零二), never with 十/百, as rooms are.
_DIGIT = "[0-9零〇一二三四五六七八九幺]"
_NOT_NUM = f"(?<![{NUM_CHARS}第])"
# Guarded (see nlp.leads): a pattern opening with a look-behind is otherwise tried in full
# at every character of the message.
_BUILDING = guarded(re.compile(rf"{_NOT_NUM}({NUM}) ?(?:号楼|栋|幢|座|号院)"))
_UNIT = guarded(re.compile(rf"{_NOT_NUM}({NUM}) ?单元"))
_ROOM_SUFFIX = guarded(re.compile(rf"{_NOT_NUM}({_DIGIT}{{3,4}}) ?(?:室|房|号房|户)"))
# A bare number right after a building or unit (6栋302, 3单元402) is a room ...
_ROOM_AFTER = re.compile(rf"[ -]?({_DIGIT}{{3,4}})(?![0-9{NUM_CHARS}号楼栋幢座单层点时分:.-])")
# Suffixes that make a compound name an alias of the registered one.
_COMPOUND_SUFFIXES = ("小区", "社区", "新村")
MASK = "□"
# Words before a number of buildings that make it a distance: 离我家两栋楼, 隔三栋.
_AWAY = ("离", "隔", "距")


class WhereReader:
    """Reads building/unit/room; bare numbers count as rooms only next to an address word."""

    def __init__(self, room_lead: Iterable[str]) -> None:
        leads = "|".join(re.escape(w) for w in sorted(room_lead, key=len, reverse=True))
        # ... and so is one right after a word like 隔壁 or 住 (隔壁502, 住502).
        self._room_lead = re.compile(
            rf"(?:{leads}) ?({_DIGIT}{{3,4}})(?![0-9{NUM_CHARS}号楼栋幢座单])"
        )

    def read(self, text: str) -> Where | None:
        """The address parts found in the text, or None when there are none."""
        building = unit = room = None
        end = -1
        b = next((m for m in _BUILDING.finditer(text) if not _distance(text, m)), None)
        if b:
            building, end = _number(b.group(1)), b.end()
        u = _UNIT.search(text)
        if u:
            unit = _number(u.group(1))
            if not b or u.start() - b.end() <= 1:
                end = max(end, u.end())
        r = _ROOM_SUFFIX.search(text)
        if r:
            room = _room(r.group(1))
        if room is None and end >= 0:
            after = _ROOM_AFTER.match(text, end)
            if after:
                room = _room(after.group(1))
        if room is None:
            lead = self._room_lead.search(text)
            if lead:
                room = _room(lead.group(1))
        if building is None and unit is None and room is None:
            return None
        return Where(building, unit, room)


def _distance(text: str, match: re.Match[str]) -> bool:
    """Whether a building number counts buildings (离我家两栋楼), not names one."""
    return match.group(1) == "两" or any(
        w in text[max(0, match.start() - 6) : match.start()] for w in _AWAY
    )


def _number(numeral: str) -> str | None:
    digits = to_digits(numeral)
    if digits is None or not 0 < int(digits) < 1000:
        return None
    return str(int(digits))


def _room(numeral: str) -> str | None:
    digits = to_digits(numeral)
    # 120 is the ambulance number, never a room.
    return digits if digits and digits[0] != "0" and digits != "120" else None


class Compounds:
    """Registered residential compound names, found in text and masked out of it."""

    def __init__(self, names: Iterable[tuple[str, str]] = ()) -> None:
        # alias (as matched in normalised text) -> registered name.
        self._aliases: dict[str, str] = {}
        for alias, name in names:
            if alias:
                self._aliases.setdefault(alias, name)
        # One alternation, longest alias first, so that 幸福里小区 is taken whole before
        # 幸福里 could match, and a message naming none is settled by one search.
        ordered = sorted(self._aliases, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @staticmethod
    def aliases(normalised: str) -> list[str]:
        """The normalised name and its short form without a suffix like 小区."""
        out = [normalised]
        for suffix in _COMPOUND_SUFFIXES:
            short = normalised.removesuffix(suffix)
            if short != normalised and len(short) >= 2:
                out.append(short)
        return out

    def pairs(self) -> list[tuple[str, str]]:
        """(alias, registered name) pairs, to build an extended copy from."""
        return list(self._aliases.items())

    def find(self, text: str) -> tuple[str | None, str]:
        """(the first registered compound named in the text, the text with names masked)."""
        first = self._pattern.search(text) if self._pattern else None
        if first is None or self._pattern is None:
            return None, text
        masked = self._pattern.sub(lambda m: MASK * len(m.group()), text)
        return self._aliases[first.group()], masked
