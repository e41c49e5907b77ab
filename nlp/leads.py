"""Which characters a regular expression's match can start with, to skip hopeless searches."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

try:  # the regex engine's own parser; if a Python release moves it, every pattern just runs
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    _sre_parse = None

# A class with more characters than this is not worth checking against a message.
_MAX_CLASS = 64
# Character categories a lead may be (\d, \s, \w), as written inside a character class.
_CATEGORIES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_SPACE": r"\s", "CATEGORY_WORD": r"\w"}

# Characters so common in chat that a pattern looked up by them runs on most messages; an
# anchor set holding fewer of them is preferred, then a smaller one.
_COMMON = frozenset("的了是不没有人一我他她你在这那个们来去说要也就都吗呢吧啊到好能给帮看么什怎")
# A lead item: one character, a (first, last) code point range, or a category like \d.
_Item = str | tuple[int, int]


def lead_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Every character a match must start with, or None when that cannot be told."""
    items = _lead_items(pattern)
    if items is None:
        return None
    chars: set[str] = set()
    for item in items:
        if isinstance(item, tuple) and item[1] - item[0] < _MAX_CLASS:
            chars.update(chr(code) for code in range(item[0], item[1] + 1))
        elif isinstance(item, str) and len(item) == 1:
            chars.add(item)
        else:
            return None  # a category or a wide range: no short list of characters
    return frozenset(chars)


def guarded(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern behind a look-ahead for the characters its matches start with.

    A pattern that opens with a look-behind or a group of alternatives gives the regex
    engine no first character to scan for, so it tries every alternative at every position
    of the text; the look-ahead turns each hopeless position into one set lookup. The
    groups, their names and numbers, and the matches stay the same.
    """
    parsed = _parsed(pattern)
    items = _lead_items(pattern)
    if not items or parsed is None or _scanned(parsed):
        return pattern  # no lead known, or the engine scans for it already: leave it be
    members = []
    for item in sorted(items, key=str):
        if isinstance(item, tuple):
            members.append(f"{re.escape(chr(item[0]))}-{re.escape(chr(item[1]))}")
        else:
            members.append(item if item in _CATEGORIES.values() else re.escape(item))
    return re.compile(f"(?=[{''.join(members)}])(?:{pattern.pattern})", pattern.flags)


def required_literal(pattern: re.Pattern[str]) -> str:
    """The longest run of characters every match holds (号单 in \\d\\s*号单), or "".

    Only the pattern's own top-level sequence is read: a run ends at anything that is not
    a plain character, so the run found is always in the match, if not always the longest.
    On a tie the later run is taken, as the first is often the lead character already.
    """
    parsed = _parsed(pattern)
    best = run = ""
    try:
        for op, arg in parsed or ():
            if str(op) == "LITERAL":
                run += chr(arg)
            else:
                run = ""
            if run and len(run) >= len(best):
                best = run
    except Exception:  # the private parser's output changed shape: no literal known
        return ""
    return best


def anchor_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The fewest characters one of which every match holds, or None when none are known.

    Besides the lead characters, each character and each group of alternatives that every
    match must pass through offers a set (掉 in (孩子|人)[^ ]{0,8}掉(下去|进)); the smallest
    is kept, so a pattern that opens with a common character (人, 没) is looked up by a rarer
    one. Indexing patterns by these, a message runs only the patterns it could match.
    """
    sets = []
    lead = lead_chars(pattern)
    if lead is not None:
        sets.append(lead)
    for item in _parsed(pattern) or ():
        found = _mandatory_firsts(item)
        if found:
            sets.append(found)
    return min(sets, key=lambda chars: (len(chars & _COMMON), len(chars))) if sets else None


class AnchorIndex:
    """Patterns by their anchor characters: which of them a message could match at all."""

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        self._by_anchor: dict[str, list[int]] = {}
        self._always: list[int] = []  # patterns with no known anchor run on every message
        for number, pattern in enumerate(patterns):
            anchors = anchor_chars(pattern)
            if anchors is None:
                self._always.append(number)
            for ch in anchors or ():
                self._by_anchor.setdefault(ch, []).append(number)
        self._anchors = frozenset(self._by_anchor)

    def candidates(self, text: str) -> list[int]:
        """The numbers (in the order given) of the patterns that may match `text`."""
        numbers = set(self._always)
        for ch in self._anchors.intersection(text):
            numbers.update(self._by_anchor[ch])
        return sorted(numbers)


def _mandatory_firsts(item: tuple[Any, Any]) -> frozenset[str] | None:
    """For one top-level item every match passes through: the characters it starts with."""
    try:
        op, arg = item
        name = str(op)
        if name == "LITERAL":
            return frozenset(chr(arg))
        if name == "SUBPATTERN":
            inner = _first(list(arg[-1]))
            if inner and all(isinstance(x, str) and len(x) == 1 for x in inner):
                return frozenset(str(x) for x in inner)
        if name == "IN":
            members = _class(arg)
            if members and all(isinstance(x, str) and len(x) == 1 for x in members):
                return frozenset(str(x) for x in members)
    except Exception:  # the private parser's output changed shape: no anchor from here
        return None
    return None


def _lead_items(pattern: re.Pattern[str]) -> set[_Item] | None:
    parsed = _parsed(pattern)
    try:
        return None if parsed is None else _first(parsed)
    except Exception:  # the private parser's output changed shape: "always run"
        return None


def _parsed(pattern: re.Pattern[str]) -> list[tuple[Any, Any]] | None:
    if _sre_parse is None or pattern.flags & re.IGNORECASE:
        return None
    try:
        return list(_sre_parse.parse(pattern.pattern))
    except Exception:  # any surprise in a private parser means "always run"
        return None


def _scanned(items: list[tuple[Any, Any]]) -> bool:
    """Whether the regex engine itself skips ahead to where a match can start.

    re's compiler does so for a pattern that opens with a character, a class, or
    alternatives that each open with a character.
    """
    try:
        while items and str(items[0][0]) == "SUBPATTERN":
            items = list(items[0][1][-1])
        if not items:
            return False
        op, arg = items[0]
        if str(op) == "BRANCH":
            return all(len(branch) and str(branch[0][0]) == "LITERAL" for branch in arg[1])
        return str(op) in ("LITERAL", "IN")
    except Exception:  # the private parser's output changed shape: leave the pattern be
        return True


def _zero_width(items: list[tuple[Any, Any]]) -> bool:
    return all(str(op) in ("ASSERT", "ASSERT_NOT", "AT") for op, _ in items)


def _first(items: list[tuple[Any, Any]]) -> set[_Item] | None:
    """Lead items of a parsed sequence; None if unknown or if it can match empty."""
    out: set[_Item] = set()
    for op, arg in items:
        name = str(op)
        if name in ("ASSERT", "ASSERT_NOT", "AT"):
            continue  # zero-width: the match starts with what follows
        if name == "LITERAL":
            return out | {chr(arg)}
        if name == "IN":
            members = _class(arg)
            return None if members is None else out | members
        if name == "SUBPATTERN":
            inner = _first(list(arg[-1]))
            return None if inner is None else out | inner
        if name == "BRANCH":
            if all(_zero_width(list(branch)) for branch in arg[1]):
                continue  # a choice of look-arounds, like (?:(?<!\d)|(?<=86)): zero-width
            for branch in arg[1]:
                inner = _first(list(branch))
                if inner is None:
                    return None
                out |= inner
            return out
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, body = arg
            inner = _first(list(body))
            if inner is None:
                return None
            out |= inner
            if low > 0:
                return out
            continue  # optional: the match may also start with what follows
        return None
    return None


def _class(members: list[tuple[Any, Any]]) -> set[_Item] | None:
    items: set[_Item] = set()
    for op, arg in members:
        name = str(op)
        if name == "LITERAL":
            items.add(chr(arg))
        elif name == "RANGE":
            items.add((arg[0], arg[1]))
        elif name == "CATEGORY" and str(arg) in _CATEGORIES:
            items.add(_CATEGORIES[str(arg)])
        else:
            return None  # a negated class, \D and the like: too wide to be worth it
    return items
